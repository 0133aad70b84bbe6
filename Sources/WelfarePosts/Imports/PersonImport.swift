import Postgres

/// `person import`: upserts persons by resident ID (SPEC §10), all or nothing. A person's
/// category, labour capacity, household, village and bank account have history (SPEC §5): a
/// changed row records its values from its `effective_from` (生效日期) date, else `--from`, else
/// today, and keeps the old ones before it (`person_history`, sql/0017b); a new person's facts
/// hold from the start.
public enum PersonImport {
    public static let columns = [
        ImportColumn("id_number", "身份证号"), ImportColumn("name", "姓名", kind: .name),
        ImportColumn("household_id", "户编号", kind: .code(maxLength: 32)), ImportColumn("village_code", "村代码"),
        ImportColumn("category", "人员类别"), ImportColumn("labour_capacity", "劳动能力"),
        ImportColumn("bank_account", "银行账号", required: false),
        ImportColumn("phone", "联系电话", required: false, kind: .code(maxLength: 20), formulaCheck: false),
        ImportColumn("effective_from", "生效日期", required: false),
    ]

    static let staged = ["id_number", "name", "household_id", "village_code", "category", "labour_capacity", "bank_account", "phone",
                         "effective_from"]

    public static func run(_ connection: Connection, file: CSVFile, dryRun: Bool, from: Day? = nil, today: Day = .today()) throws -> ImportOutcome {
        let vocabulary = try Vocabulary.load(connection)
        let fromISO = (from ?? today).iso
        return try Database.mapped {
            try connection.transaction {
                if !dryRun, try mayWriteDirectly(connection, fileBytes: file.bytes.count), let header = try Staging.header(of: file, columns: columns),
                   let outcome = try runDirect(connection, file: file, header: header, vocabulary: vocabulary, from: fromISO, today: today) {
                    return outcome
                }
                var repeats = RepeatedIDs()
                var staging = try Staging(file: file, columns: columns, connection: connection, table: "person_stage",
                                          stagingColumns: staged) { row in
                    let values = clean(&row, vocabulary: vocabulary, from: fromISO, today: today)
                    repeats.note(row, values)
                    return values
                }
                staging.add(repeats.problems)
                repeats = RepeatedIDs()
                try staging.check(connection, """
                    SELECT s.line, 'village_code' AS key, s.village_code AS code FROM person_stage s
                    LEFT JOIN region r ON r.code = s.village_code WHERE r.code IS NULL
                    """) { row in
                    unknownVillage(row["code"] ?? "")
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
                // Imports run one at a time, so the new/changed split below cannot race another
                // import; hires and other writers of other tables are not held up.
                if !dryRun { try connection.execute("LOCK TABLE person IN SHARE ROW EXCLUSIVE MODE") }
                try findChanges(connection, keep: keep)
                let updated = Int(try connection.query("SELECT count(*) AS n FROM person_change")[0].decode("n", as: Int64.self))
                if dryRun {
                    let inserted = try connection.query("""
                        SELECT count(*) AS n FROM person_stage s WHERE NOT EXISTS (SELECT 1 FROM person p WHERE p.id_number = s.id_number)
                        """)[0].decode("n", as: Int.self)
                    return ImportOutcome(rows: staging.rowCount, inserted: inserted, updated: updated, dryRun: true)
                }
                if updated > 0 { try record(connection) }
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

    /// Makes `person_change`: the staged rows (`person_stage`) of known persons that change
    /// something, each beside the version of the person's facts in force on its date: the
    /// current one, or an older one (a change dated before the current facts began). Only these
    /// are written: an unchanged re-import writes nothing. An optional column left out of the
    /// file (`keep[0]`: no bank_account column, `keep[1]`: no phone column) keeps what is
    /// stored; an empty cell clears it.
    static func findChanges(_ connection: Connection, keep: [Bool]) throws {
                try connection.command("""
                    CREATE TEMP TABLE person_change ON COMMIT DROP AS
                    SELECT c.* FROM (
                      SELECT s.id_number, s.name, s.household_id, s.village_code, s.category, s.labour_capacity,
                             CASE WHEN $1 THEN p.bank_account ELSE s.bank_account END AS bank_account,
                             CASE WHEN $2 THEN p.phone ELSE s.phone END AS phone, s.effective_from::date AS day,
                             p.facts_from AS current_from, NULL::bigint AS history_id, NULL::date AS history_from, NULL::date AS history_to,
                             p.household_id AS old_household_id, p.village_code AS old_village_code, p.category AS old_category,
                             p.labour_capacity AS old_labour_capacity, p.bank_account AS old_bank_account, p.name AS old_name, p.phone AS old_phone
                      FROM person_stage s JOIN person p ON p.id_number = s.id_number
                      WHERE p.facts_from IS NULL OR s.effective_from::date >= p.facts_from
                      UNION ALL
                      -- Dated before the current facts began: only persons with history can be.
                      SELECT s.id_number, s.name, s.household_id, s.village_code, s.category, s.labour_capacity,
                             CASE WHEN $1 THEN h.bank_account ELSE s.bank_account END,
                             CASE WHEN $2 THEN p.phone ELSE s.phone END, s.effective_from::date,
                             p.facts_from, h.id, lower(h.valid), upper(h.valid),
                             h.household_id, h.village_code, h.category, h.labour_capacity, h.bank_account, p.name, p.phone
                      FROM person_history h JOIN person_stage s ON s.id_number = h.id_number AND h.valid @> s.effective_from::date
                      JOIN person p ON p.id_number = s.id_number
                      WHERE s.effective_from::date < p.facts_from
                    ) c
                    WHERE (c.household_id, c.village_code, c.category, c.labour_capacity, c.bank_account, c.name, c.phone)
                          IS DISTINCT FROM (c.old_household_id, c.old_village_code, c.old_category, c.old_labour_capacity,
                                            c.old_bank_account, c.old_name, c.old_phone)
                    """, keep)
    }

    /// Writes the changes in `person_change`, set-wise. A change of facts dated after the current
    /// facts' first day ends them the day before (they become history) and makes the new values
    /// current from its date; dated on that very day, it replaces them. A change dated before the
    /// current facts began lands in the older version in force on its date: it replaces that
    /// version when dated on its first day, else ends it the day before and holds until the
    /// version after it begins. Names and phone numbers have no history.
    static func record(_ connection: Connection) throws {
        let factsChanged = """
            (c.household_id, c.village_code, c.category, c.labour_capacity, c.bank_account)
              IS DISTINCT FROM (c.old_household_id, c.old_village_code, c.old_category, c.old_labour_capacity, c.old_bank_account)
            """
        let current = "c.history_id IS NULL AND \(factsChanged)"
        try connection.command("""
            UPDATE person p SET name = c.name, phone = c.phone, updated_at = now(),
              county_code = CASE WHEN \(current) THEN left(c.village_code, 6) ELSE p.county_code END,
              household_id = CASE WHEN \(current) THEN c.household_id ELSE p.household_id END,
              village_code = CASE WHEN \(current) THEN c.village_code ELSE p.village_code END,
              category = CASE WHEN \(current) THEN c.category ELSE p.category END,
              labour_capacity = CASE WHEN \(current) THEN c.labour_capacity ELSE p.labour_capacity END,
              bank_account = CASE WHEN \(current) THEN c.bank_account ELSE p.bank_account END,
              facts_from = CASE WHEN \(current) THEN c.day ELSE p.facts_from END
            FROM person_change c WHERE p.id_number = c.id_number
            """)
        // The replaced current facts, kept over the days they held.
        try connection.command("""
            INSERT INTO person_history (county_code, id_number, valid, household_id, village_code, category, labour_capacity, bank_account)
            SELECT left(c.old_village_code, 6), c.id_number, daterange(c.current_from, c.day), c.old_household_id, c.old_village_code,
                   c.old_category, c.old_labour_capacity, c.old_bank_account
            FROM person_change c
            WHERE \(current) AND (c.current_from IS NULL OR c.day > c.current_from)
            """)
        // Changes dated inside an older version: it is replaced on its first day, else split there.
        let older = "c.history_id IS NOT NULL AND \(factsChanged)"
        try connection.command("""
            UPDATE person_history h SET county_code = left(c.village_code, 6), household_id = c.household_id,
              village_code = c.village_code, category = c.category, labour_capacity = c.labour_capacity, bank_account = c.bank_account
            FROM person_change c WHERE h.id = c.history_id AND \(older) AND c.day = c.history_from
            """)
        try connection.command("""
            UPDATE person_history h SET valid = daterange(lower(h.valid), c.day)
            FROM person_change c WHERE h.id = c.history_id AND \(older) AND (c.history_from IS NULL OR c.day > c.history_from)
            """)
        try connection.command("""
            INSERT INTO person_history (county_code, id_number, valid, household_id, village_code, category, labour_capacity, bank_account)
            SELECT left(c.village_code, 6), c.id_number, daterange(c.day, c.history_to), c.household_id, c.village_code,
                   c.category, c.labour_capacity, c.bank_account
            FROM person_change c WHERE \(older) AND (c.history_from IS NULL OR c.day > c.history_from)
            """)
    }

    /// A checked resident ID (17 digits and a digit or X) as one number, one to one.
    static func packed(_ id: String) -> UInt64? {
        var id = id
        return id.withUTF8 { packed($0) }
    }

    /// `packed` of an ID's UTF-8 bytes.
    static func packed(_ id: UnsafeBufferPointer<UInt8>) -> UInt64? {
        var value: UInt64 = 0
        var count = 0
        for byte in id {
            count += 1
            if count < 18 {
                guard byte >= 0x30 && byte <= 0x39 else { return nil }
                value = value * 10 + UInt64(byte - 0x30)
            } else if count == 18 {
                let check: UInt64
                if byte >= 0x30 && byte <= 0x39 { check = UInt64(byte - 0x30) } else if byte == UInt8(ascii: "X") { check = 10 } else { return nil }
                value = value * 11 + check
            } else {
                return nil
            }
        }
        return count == 18 ? value : nil
    }

    /// Checks one row's values; returns them normalised (codes, upper-case X, 12-digit village).
    static func clean(_ row: inout ImportRow, vocabulary: Vocabulary, from: String, today: Day) -> [String?]? {
        let id = row.residentID(today: today)
        let name = row.required("name", "姓名")
        let household = row.required("household_id", "户编号")
        var village: String?
        if let text = row.required("village_code", "村代码") {
            if RegionCode.isVillage(text) {
                village = text
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
        var effective = from
        if let text = row.value("effective_from") {
            if let day = Day(iso: text) { effective = day.iso } else {
                row.problem("effective_from", Text(en: "'\(text)' is not a date: write YYYY-MM-DD", zh: "“\(text)”不是日期：请写成 YYYY-MM-DD"))
            }
        }
        guard row.problems.isEmpty, let id, let name, let household, let village, let category, let capacity else { return nil }
        return [id, name, household, village, category, capacity, account, phone, effective]
    }
}

/// Phone numbers: digits with spaces or hyphens between them, an optional leading `+`, at most
/// 20 characters (`+86 138-5216-0001`). Nothing else, so a phone cell can never be a formula.
public enum PhoneNumber {
    public static func isValid(_ text: String) -> Bool {
        var text = text
        return text.withUTF8 { isValid($0) }
    }

    /// `isValid` of a text's UTF-8 bytes.
    static func isValid(_ all: UnsafeBufferPointer<UInt8>) -> Bool {
        guard all.count <= 20 else { return false }
        let bytes = all.first == 0x2B ? UnsafeBufferPointer(rebasing: all.dropFirst()) : all
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
        var text = text
        return text.withUTF8 { isValid($0) }
    }

    /// `isValid` of a text's UTF-8 bytes.
    static func isValid(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        (10...30).contains(bytes.count) && bytes.allSatisfy { $0 >= 0x30 && $0 <= 0x39 }
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
