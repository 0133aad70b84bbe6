import Postgres

/// The statistical division tree the system is set up with (`region import`).
public enum Regions {
    /// A region code from the user, normalised and known to the database.
    public static func require(_ connection: Connection, _ text: String) throws -> RegionCode {
        guard let code = RegionCode(text) else {
            throw AppError.badInput(Text(en: "'\(TextValue.quoted(text))' is not a region code (2, 4, 6, 9 or 12 digits)",
                                         zh: "“\(TextValue.quoted(text))”不是区划代码（2、4、6、9或12位数字）"), code: "BAD_REGION")
        }
        let known = try Database.mapped { try connection.query("SELECT 1 FROM region WHERE code = $1", [code.value]) }
        guard !known.isEmpty else {
            throw AppError.notFound(Text(en: "region \(code.value) is not known: import it with `region import`",
                                         zh: "区划 \(code.value) 未登记：请先用 `region import` 导入"))
        }
        return code
    }

    /// The significant digits of a known region from the user, for `code ^@ prefix` (starts with);
    /// '' (everything) without one.
    public static func prefix(_ connection: Connection, _ text: String?) throws -> String {
        try text.map { try require(connection, $0).significantPrefix } ?? ""
    }

    /// The name of a known region from the user (checked as `require` checks it).
    public static func name(_ connection: Connection, _ text: String) throws -> String {
        let code = try require(connection, text)
        return try Database.mapped { try connection.query("SELECT name FROM region WHERE code = $1", [code.value]) }.first?["name"] ?? code.value
    }

    /// Regions under a code (itself included), in code order; all of them without one.
    public static func list(_ connection: Connection, under text: String?) throws -> [Row] {
        let prefix = try prefix(connection, text)
        return try Database.mapped {
            try connection.query("""
                SELECT code, name, level, parent_code FROM region WHERE code LIKE $1 || '%' ORDER BY code
                """, [prefix])
        }
    }
}
