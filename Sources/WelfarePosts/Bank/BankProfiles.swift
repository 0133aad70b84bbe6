import Postgres

/// A paying bank's or the 一卡通 platform's file (SPEC §15): the columns in order with the names
/// the bank reads, the encoding, CSV or TXT with a separator or xlsx, and the most rows one
/// file may hold. Stored per county (`bank_profile`).
public struct BankProfile: Sendable {
    public let county: String
    public let name: String
    public let columns: [String]
    public let headers: [String]
    public let encoding: String
    public let format: String
    public let separator: String
    public let maxRows: Int?
    public let accountPrefixes: [String]

    /// The columns a profile may take: the export's (SPEC §10) and `seq` 序号, `batch` 批次号.
    public static let known: [ImportColumn] = [ImportColumn("seq", "序号"), ImportColumn("batch", "批次号")] + Payroll.exportColumns

    /// The file's extension.
    public var fileExtension: String { format }

    init(row: Row) throws {
        county = row["county_code"] ?? ""
        name = row["name"] ?? ""
        columns = BankProfile.array(row["columns"])
        headers = BankProfile.array(row["headers"])
        encoding = row["encoding"] ?? "utf-8"
        format = row["format"] ?? "csv"
        separator = row["separator"] ?? ","
        maxRows = row["max_rows"].flatMap(Int.init)
        accountPrefixes = BankProfile.array(row["account_prefixes"])
    }

    /// A text[] as PostgreSQL prints it: `{a,"b c"}`.
    static func array(_ text: String?) -> [String] {
        guard let text, text.count >= 2 else { return [] }
        let inner = text.dropFirst().dropLast()
        guard !inner.isEmpty else { return [] }
        var items: [String] = [], current = "", quoted = false, escaped = false
        for character in inner {
            if escaped { current.append(character); escaped = false; continue }
            switch character {
            case "\\": escaped = true
            case "\"": quoted.toggle()
            case "," where !quoted: items.append(current); current = ""
            default: current.append(character)
            }
        }
        items.append(current)
        return items
    }

    /// Parses `--columns`: `key` or `key:Header` items separated by commas (or |), keys from
    /// `known` by English key or Chinese name; a header defaults to the column's Chinese name.
    public static func parseColumns(_ text: String) throws -> [(key: String, header: String)] {
        let items = text.split(whereSeparator: { $0 == "," || $0 == "|" || $0 == "，" }).map { String($0).trimmingWhitespace() }.filter { !$0.isEmpty }
        guard !items.isEmpty, items.count <= 40 else {
            throw AppError.badInput(Text(en: "--columns names 1 to 40 columns, e.g. seq:序号,name:姓名,bank_account:帐号,total:金额,id_number:身份证",
                                         zh: "--columns 应列出 1 至 40 列，例如 seq:序号,name:姓名,bank_account:帐号,total:金额,id_number:身份证"), code: "BAD_COLUMNS")
        }
        return try items.map { item in
            let parts = item.split(separator: ":", maxSplits: 1).map { String($0).trimmingWhitespace() }
            guard let column = known.first(where: { $0.key == parts[0].lowercased() || $0.zh == parts[0] }) else {
                throw AppError.badInput(Text(
                    en: "--columns: unknown column '\(TextValue.quoted(parts[0]))': the columns are \(known.map { "\($0.key)/\($0.zh)" }.joined(separator: ", "))",
                    zh: "--columns：未知的列“\(TextValue.quoted(parts[0]))”：可用的列为 \(known.map { "\($0.key)/\($0.zh)" }.joined(separator: ", "))"), code: "BAD_COLUMNS")
            }
            let header = parts.count > 1 && !parts[1].isEmpty ? parts[1] : column.zh
            if let problem = TextValue.problem(header, kind: .name) {
                throw AppError.badInput(Text(en: "--columns: the name of \(column.key): \(problem.en)", zh: "--columns：\(column.zh)的列名：\(problem.zh)"), code: "BAD_COLUMNS")
            }
            return (column.key, header)
        }
    }

    /// Adds a profile, or replaces the county's profile of that name.
    public static func add(_ connection: Connection, county region: String?, name: String, columns: [(key: String, header: String)],
                           encoding: String, format: String, separator: String?, maxRows: Int?, accountPrefixes: [String]) throws -> BankProfile {
        try Database.mapped {
            try connection.transaction {
                let county = try countyOf(connection, region)
                let row = try connection.query("""
                    INSERT INTO bank_profile (county_code, name, columns, headers, encoding, format, separator, max_rows, account_prefixes)
                    VALUES ($1, $2, $3::text[], $4::text[], $5, $6, $7, $8::int, $9::text[])
                    ON CONFLICT (county_code, name) DO UPDATE SET columns = EXCLUDED.columns, headers = EXCLUDED.headers,
                      encoding = EXCLUDED.encoding, format = EXCLUDED.format, separator = EXCLUDED.separator,
                      max_rows = EXCLUDED.max_rows, account_prefixes = EXCLUDED.account_prefixes, added_at = now(), added_by = session_user
                    RETURNING *
                    """, [county, name, columns.map(\.key), columns.map(\.header), encoding, format,
                          separator ?? (format == "txt" ? "|" : ","), maxRows.map(String.init), accountPrefixes])[0]
                return try BankProfile(row: row)
            }
        }
    }

    public static func list(_ connection: Connection, region: String?) throws -> [BankProfile] {
        try Database.mapped {
            let prefix = try region.map { try Regions.require(connection, $0).significantPrefix } ?? ""
            return try connection.query("SELECT * FROM bank_profile WHERE county_code LIKE left($1, 6) || '%' ORDER BY county_code, name", [prefix])
                .map(BankProfile.init(row:))
        }
    }

    /// The county's profile of that name (exit 1 `PROFILE_NOT_FOUND` without one).
    static func load(_ connection: Connection, county: String, name: String) throws -> BankProfile {
        guard let row = try connection.query("SELECT * FROM bank_profile WHERE county_code = $1 AND name = $2", [county, name]).first else {
            throw AppError(.rule, code: "PROFILE_NOT_FOUND", Text(
                en: "county \(county) has no bank profile '\(TextValue.quoted(name))': add it with `bank profile add` (see `bank profile list`)",
                zh: "县 \(county) 没有名为“\(TextValue.quoted(name))”的银行模板：请先用 `bank profile add` 添加（参见 `bank profile list`）"))
        }
        return try BankProfile(row: row)
    }

    /// The county a profile belongs to: the region given (a county or below), else the
    /// operator's region when it is a county.
    static func countyOf(_ connection: Connection, _ region: String?) throws -> String {
        if let region, let county = try Regions.require(connection, region).countyCode { return county }
        if region == nil, let own = try connection.query("SELECT operator_region() AS r")[0]["r"], let code = RegionCode(own), let county = code.countyCode {
            return county
        }
        throw AppError.badInput(Text(en: "give the county with --region: bank profiles belong to a county",
                                     zh: "请用 --region 指定县：银行模板属于某个县"), code: "BAD_REGION")
    }
}

