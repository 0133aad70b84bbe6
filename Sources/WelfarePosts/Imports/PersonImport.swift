import Postgres

/// `person import`: upserts persons by resident ID (SPEC §10), all or nothing.
public enum PersonImport {
    public static let columns = [
        ImportColumn("id_number", "身份证号"), ImportColumn("name", "姓名", kind: .name),
        ImportColumn("household_id", "户编号", kind: .code(maxLength: 32)), ImportColumn("village_code", "村代码"),
        ImportColumn("category", "人员类别"), ImportColumn("labour_capacity", "劳动能力"),
        ImportColumn("bank_account", "银行账号", required: false),
        ImportColumn("phone", "联系电话", required: false, kind: .code(maxLength: 20), formulaCheck: false),
    ]

    static let staged = ["id_number", "name", "household_id", "village_code", "category", "labour_capacity", "bank_account", "phone"]

    public static func run(_ connection: Connection, file: CSVFile, dryRun: Bool, today: Day = .today()) throws -> ImportOutcome {
        let vocabulary = try Vocabulary.load(connection)
        return try Database.mapped {
            try connection.transaction {
                var staging = try Staging(file: file, columns: columns, connection: connection, table: "person_stage",
                                          stagingColumns: staged) { row in
                    clean(&row, vocabulary: vocabulary, today: today)
                }
                try staging.check(connection, """
                    SELECT line, 'id_number' AS key, first FROM (
                      SELECT line, min(line) OVER (PARTITION BY id_number) AS first FROM person_stage) d
                    WHERE line > first
                    """) { row in
                    Text(en: "this resident ID is already on line \(row["first"] ?? "?") of the file",
                         zh: "该身份证号已在文件第 \(row["first"] ?? "?") 行出现")
                }
                try staging.check(connection, """
                    SELECT s.line, 'village_code' AS key, s.village_code AS code FROM person_stage s
                    LEFT JOIN region r ON r.code = s.village_code WHERE r.code IS NULL
                    """) { row in
                    Text(en: "\(row["code"] ?? "") is not a known village: import it with `region import` first",
                         zh: "\(row["code"] ?? "") 不是已登记的村：请先用 `region import` 导入区划")
                }
                try staging.requireNoProblems()
                if try Access.currentRole(connection) != nil {
                    try staging.refuseOutsideRegion(connection, """
                        SELECT s.line, 'village_code' AS key, s.village_code AS code FROM person_stage s
                        WHERE s.village_code NOT LIKE (SELECT operator_scope()) || '%'
                        UNION ALL
                        SELECT s.line, 'id_number', NULL FROM person_stage s WHERE \(staging.personOutsideRegion)
                        """) { row in
                        row["code"].map { Text(en: "village \($0) is outside your region", zh: "村 \($0) 不在您的管辖区域内") }
                            ?? Text(en: "this person is registered in another region", zh: "该人员已在其他区域登记")
                    }
                }
                let keep = [staging.header.position["bank_account"] == nil, staging.header.position["phone"] == nil]
                if dryRun {
                    let counts = try connection.query("""
                        SELECT count(*) FILTER (WHERE p.id_number IS NULL) AS inserted,
                               count(*) FILTER (WHERE p.id_number IS NOT NULL AND \(changed)) AS updated
                        FROM person_stage s LEFT JOIN person p ON p.id_number = s.id_number
                        """, keep)
                    return ImportOutcome(rows: staging.rowCount, inserted: try counts[0].decode("inserted"),
                                         updated: try counts[0].decode("updated"), dryRun: true)
                }
                // Imports run one at a time, so the new/changed split below cannot race another
                // import; hires and other writers of other tables are not held up.
                try connection.execute("LOCK TABLE person IN SHARE ROW EXCLUSIVE MODE")
                // Only rows that differ are written: re-importing a file changes nothing.
                let updated = try connection.command("""
                    UPDATE person p SET county_code = left(s.village_code, 6), name = s.name, household_id = s.household_id,
                      village_code = s.village_code, category = s.category, labour_capacity = s.labour_capacity,
                      bank_account = CASE WHEN $1 THEN p.bank_account ELSE s.bank_account END,
                      phone = CASE WHEN $2 THEN p.phone ELSE s.phone END, updated_at = now()
                    FROM person_stage s WHERE p.id_number = s.id_number AND \(changed)
                    """, keep)
                let inserted = try connection.command("""
                    INSERT INTO person (county_code, id_number, name, household_id, village_code, category,
                                        labour_capacity, bank_account, phone)
                    SELECT left(s.village_code, 6), s.id_number, s.name, s.household_id, s.village_code, s.category,
                           s.labour_capacity, s.bank_account, s.phone
                    FROM person_stage s WHERE NOT EXISTS (SELECT 1 FROM person p WHERE p.id_number = s.id_number)
                    """)
                return ImportOutcome(rows: staging.rowCount, inserted: inserted, updated: updated, dryRun: false)
            }
        }
    }

    /// True when staged row `s` differs from stored person `p`. An optional column left out of
    /// the file ($1: no bank_account column, $2: no phone column) keeps what is stored; an empty
    /// cell clears it.
    static let changed = """
        (p.name, p.household_id, p.village_code, p.category, p.labour_capacity, p.bank_account, p.phone)
          IS DISTINCT FROM (s.name, s.household_id, s.village_code, s.category, s.labour_capacity,
            CASE WHEN $1 THEN p.bank_account ELSE s.bank_account END, CASE WHEN $2 THEN p.phone ELSE s.phone END)
        """

    /// Checks one row's values; returns them normalised (codes, upper-case X, 12-digit village).
    static func clean(_ row: inout ImportRow, vocabulary: Vocabulary, today: Day) -> [String?]? {
        let id = row.residentID(today: today)
        let name = row.required("name", "姓名")
        let household = row.required("household_id", "户编号")
        var village: String?
        if let text = row.required("village_code", "村代码") {
            if let code = RegionCode(text), code.level == .village {
                village = code.value
            } else {
                row.problem("village_code", Text(en: "'\(TextValue.quoted(text))' is not a 12-digit village code",
                                                 zh: "“\(TextValue.quoted(text))”不是12位的村级区划代码"))
            }
        }
        let category = row.required("category", "人员类别").flatMap { text in
            vocabulary.code(.personCategory, text) ?? { row.problem("category", vocabulary.unknown(.personCategory, text)); return nil }()
        }
        let capacity = row.required("labour_capacity", "劳动能力").flatMap { text in
            vocabulary.code(.labourCapacity, text) ?? { row.problem("labour_capacity", vocabulary.unknown(.labourCapacity, text)); return nil }()
        }
        let account = row.value("bank_account")
        if let account, !BankAccount.isValid(account) {
            row.problem("bank_account", BankAccount.problem(account))
        }
        let phone = row.value("phone")
        if let phone, !PhoneNumber.isValid(phone) {
            row.problem("phone", Text(en: "'\(TextValue.quoted(phone))' is not a phone number: digits, with spaces or '-' between them and an optional leading '+'",
                                      zh: "“\(TextValue.quoted(phone))”不是有效的电话号码：应为数字，可用空格或“-”分隔，可以“+”开头"))
        }
        guard row.problems.isEmpty, let id, let name, let household, let village, let category, let capacity else { return nil }
        return [id, name, household, village, category, capacity, account, phone]
    }
}

/// Phone numbers: digits with spaces or hyphens between them, an optional leading `+`, at most
/// 20 characters (`+86 138-5216-0001`). Nothing else, so a phone cell can never be a formula.
public enum PhoneNumber {
    public static func isValid(_ text: String) -> Bool {
        var bytes = Substring(text).utf8[...]
        guard bytes.count <= 20 else { return false }
        if bytes.first == 0x2B { bytes = bytes.dropFirst() }
        guard let first = bytes.first, let last = bytes.last, (0x30...0x39).contains(first), (0x30...0x39).contains(last) else { return false }
        var previousSeparator = false
        for byte in bytes {
            if (0x30...0x39).contains(byte) { previousSeparator = false; continue }
            guard byte == 0x20 || byte == 0x2D, !previousSeparator else { return false }
            previousSeparator = true
        }
        return true
    }
}

/// Bank accounts: 10 to 30 digits, no Luhn check (rural passbook accounts fail it).
public enum BankAccount {
    public static func isValid(_ text: String) -> Bool {
        (10...30).contains(text.utf8.count) && text.utf8.allSatisfy { $0 >= 0x30 && $0 <= 0x39 }
    }

    static func problem(_ text: String) -> Text {
        Text(en: "'\(TextValue.quoted(text))' is not a bank account: 10 to 30 digits",
             zh: "“\(TextValue.quoted(text))”不是有效的银行账号：应为10至30位数字")
    }

    /// `6228************1234`: enough to recognise, not enough to use.
    public static func masked(_ account: String) -> String {
        guard account.count > 8 else { return String(repeating: "*", count: account.count) }
        return String(account.prefix(4)) + String(repeating: "*", count: account.count - 8) + String(account.suffix(4))
    }
}

extension ResidentIDProblem {
    /// What is wrong with an ID, in words a township administrator understands.
    public func explanation(_ text: String) -> Text {
        switch self {
        case .wrongLength(let count):
            Text(en: "'\(TextValue.quoted(text))' has \(count) characters; a resident ID has 18",
                 zh: "“\(TextValue.quoted(text))”有 \(count) 位，身份证号应为18位")
        case .notDigits:
            Text(en: "'\(TextValue.quoted(text))' is not a resident ID: 17 digits and a final digit or X",
                 zh: "“\(TextValue.quoted(text))”不是身份证号：应为17位数字加1位数字或X")
        case .badCheckCharacter(let expected):
            Text(en: "'\(TextValue.quoted(text))' has a wrong check character (the last one should be \(expected)): check the ID for a typing mistake",
                 zh: "“\(TextValue.quoted(text))”校验位错误（末位应为 \(expected)）：请核对是否录入有误")
        case .impossibleBirthDate:
            Text(en: "'\(TextValue.quoted(text))' holds a birth date that does not exist", zh: "“\(TextValue.quoted(text))”中的出生日期不存在")
        case .futureBirthDate:
            Text(en: "'\(TextValue.quoted(text))' holds a birth date in the future", zh: "“\(TextValue.quoted(text))”中的出生日期晚于今天")
        }
    }
}
