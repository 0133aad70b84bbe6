import Postgres

/// `region import`: statistical division codes and names. Re-importing renames, never deletes.
///
/// A county's own file (its county, townships and villages, without the province and city
/// rows) imports as it is (SPEC §3): every ancestor that neither the file nor the database
/// holds is recorded by its code alone, with no name, until a later file names it.
public enum RegionImport {
    public static let columns = [ImportColumn("code", "区划代码"), ImportColumn("name", "名称", kind: .name)]

    /// What an import did, and the ancestors it recorded (or would record) by code alone.
    public struct Result: Sendable {
        public let outcome: ImportOutcome
        /// Codes of the regions above the file's that were not known, in code order.
        public let recordedByCode: [String]
    }

    public static func run(_ connection: Connection, file: CSVFile, dryRun: Bool) throws -> ImportOutcome {
        try importing(connection, file: file, dryRun: dryRun).outcome
    }

    public static func importing(_ connection: Connection, file: CSVFile, dryRun: Bool) throws -> Result {
        try Database.mapped {
            try connection.transaction {
                var staging = try Staging(file: file, columns: columns, connection: connection, table: "region_stage",
                                          stagingColumns: ["code", "name"]) { row in
                    var code: String?
                    if let text = row.required("code", "区划代码") {
                        if let region = RegionCode(text) { code = region.value } else {
                            row.problem("code", Text(en: "'\(TextValue.quoted(text))' is not a statistical division code (2, 4, 6, 9 or 12 digits)",
                                                     zh: "“\(TextValue.quoted(text))”不是统计用区划代码（2、4、6、9或12位数字）"))
                        }
                    }
                    let name = row.required("name", "名称")
                    guard let code, let name else { return nil }
                    return [code, name]
                }
                try staging.check(connection, """
                    SELECT line, 'code' AS key, first FROM (
                      SELECT line, min(line) OVER (PARTITION BY code) AS first FROM region_stage) d WHERE line > first
                    """) { Text(en: "this code is already on line \($0["first"] ?? "?")", zh: "该代码已在第 \($0["first"] ?? "?") 行出现") }
                try staging.requireNoProblems()
                // A region recorded by code has no name: naming it is an update.
                let counts = try connection.query("""
                    SELECT count(*) FILTER (WHERE r.code IS NULL) AS inserted,
                           count(*) FILTER (WHERE r.code IS NOT NULL AND r.name IS DISTINCT FROM s.name) AS updated
                    FROM region_stage s LEFT JOIN region r ON r.code = s.code
                    """)
                let ancestors = try connection.query("""
                    SELECT DISTINCT l.ancestor FROM region_stage s CROSS JOIN LATERAL region_lineage(s.code) l
                    WHERE l.ancestor <> s.code
                      AND NOT EXISTS (SELECT 1 FROM region r WHERE r.code = l.ancestor)
                      AND NOT EXISTS (SELECT 1 FROM region_stage o WHERE o.code = l.ancestor)
                    ORDER BY 1
                    """).compactMap { $0["ancestor"] }
                if !dryRun {
                    try connection.command("""
                        INSERT INTO region AS r (code, name)
                        SELECT code, name FROM (SELECT unnest($1::text[]) AS code, NULL::text AS name
                                                UNION ALL SELECT code, name FROM region_stage) n ORDER BY code
                        ON CONFLICT (code) DO UPDATE SET name = EXCLUDED.name WHERE r.name IS DISTINCT FROM EXCLUDED.name
                        """, ["{" + ancestors.joined(separator: ",") + "}"])
                }
                let outcome = ImportOutcome(rows: staging.rowCount, inserted: try counts[0].decode("inserted"),
                                            updated: try counts[0].decode("updated"), dryRun: dryRun)
                return Result(outcome: outcome, recordedByCode: ancestors)
            }
        }
    }
}
