import Postgres

/// `region import`: statistical division codes and names; a region's parent must be known, in
/// the database or earlier in the same file. Re-importing renames, never deletes.
public enum RegionImport {
    public static let columns = [ImportColumn("code", "区划代码"), ImportColumn("name", "名称", kind: .name)]

    public static func run(_ connection: Connection, file: CSVFile, dryRun: Bool) throws -> ImportOutcome {
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
                try staging.check(connection, """
                    SELECT s.line, 'code' AS key, p.parent FROM region_stage s
                    CROSS JOIN LATERAL (SELECT CASE region_level(s.code) WHEN 1 THEN NULL WHEN 2 THEN rpad(left(s.code, 2), 12, '0')
                      WHEN 3 THEN rpad(left(s.code, 4), 12, '0') WHEN 4 THEN rpad(left(s.code, 6), 12, '0')
                      ELSE rpad(left(s.code, 9), 12, '0') END AS parent) p
                    WHERE p.parent IS NOT NULL
                      AND NOT EXISTS (SELECT 1 FROM region r WHERE r.code = p.parent)
                      AND NOT EXISTS (SELECT 1 FROM region_stage o WHERE o.code = p.parent)
                    """) { Text(en: "its parent region \($0["parent"] ?? "") is not known: list the parent in the file too",
                                zh: "其上级区划 \($0["parent"] ?? "") 未登记：请在文件中一并列出上级区划") }
                try staging.requireNoProblems()
                let counts = try connection.query("""
                    SELECT count(*) FILTER (WHERE r.code IS NULL) AS inserted,
                           count(*) FILTER (WHERE r.code IS NOT NULL AND r.name <> s.name) AS updated
                    FROM region_stage s LEFT JOIN region r ON r.code = s.code
                    """)
                if !dryRun {
                    try connection.command("""
                        INSERT INTO region AS r (code, name) SELECT code, name FROM region_stage ORDER BY code
                        ON CONFLICT (code) DO UPDATE SET name = EXCLUDED.name WHERE r.name <> EXCLUDED.name
                        """)
                }
                return ImportOutcome(rows: staging.rowCount, inserted: try counts[0].decode("inserted"),
                                     updated: try counts[0].decode("updated"), dryRun: dryRun)
            }
        }
    }
}
