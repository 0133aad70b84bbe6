import Postgres

/// The demo county's adopted township (issue 16): 顺河镇 kept its posts and the people in them in
/// an Excel ledger before the county took the product up. Its ledger — 24 posts under the
/// county's own numbers 320321-00201…00224 (one closed on 2026-07-01), 25 placements (an exit
/// on 2026-05-31 and its successor; the closed post's holder exited the day before), its 25
/// persons and their 2026 insurance — is brought in the way a county would: `person import`,
/// `insurance import`, `post import`, `placement import`. The same rows are the workbooks of
/// docs/examples (ledger-*.xlsx), written by the product's XLSXWriter (LedgerExampleTests
/// checks they are equal). Persons are invented; their IDs carry valid check characters.
public enum DemoLedger {
    static let villages = ["320321102201", "320321102202", "320321102203"]
    static let needs = ["村道保洁", "沟渠管护", "公共区域保洁", "农村公路养护", "治安巡防", "留守老人照料"]
    static let types = ["保洁员", "护水员", "保洁员", "护路员", "治安巡防员", "养老服务员"]
    static let surnames = ["王", "李", "张", "刘", "陈", "杨", "赵", "黄", "周", "吴", "徐", "孙", "朱", "马", "胡"]
    static let given = ["秀兰", "建华", "桂英", "德明", "春花", "保国", "凤琴", "永强", "淑英", "长顺", "翠兰", "海涛"]

    static func two(_ value: Int) -> String { value < 10 ? "0\(value)" : String(value) }

    static func person(_ index: Int) -> String {
        let first17 = "320321" + String(1968 + index % 20) + two(1 + index % 9) + "1" + String(index % 10) + String(500 + index)
        return first17 + String(ResidentID.checkCharacter(for: first17)!)
    }

    static func postID(_ index: Int) -> String { "320321-00" + String(201 + index) }

    public static var persons: [[String]] {
        var rows = [["身份证号", "姓名", "户编号", "村代码", "人员类别", "劳动能力", "银行账号"]]
        for i in 0..<25 {
            let name = surnames[i % surnames.count] + given[(i * 5) % given.count]
            let category = i % 2 == 0 ? "农村低收入人口" : "监测对象", capacity = i % 3 == 0 ? "半劳力" : "弱劳力"
            rows.append([person(i), name, "SH\(200 + i)", villages[i % 3], category, capacity, "62284803" + String(2_000_000_000 + i * 7919)])
        }
        return rows
    }

    public static var insurance: [[String]] {
        var rows = [["身份证号", "保险公司", "保单号", "起保日期", "终保日期"]]
        for i in 0..<25 { rows.append([person(i), "人保财险", "PICC-SH-2026-\(100 + i)", "2026-01-01", "2026-12-31"]) }
        return rows
    }

    public static var posts: [[String]] {
        var rows = [["岗位编号", "区划代码", "岗位类型", "资金渠道", "开发主体", "设岗需求", "申报日期", "审批日期", "撤销日期", "撤销原因"]]
        for i in 0..<24 {
            let funding = i % 2 == 0 ? "就业补助资金" : "衔接推进乡村振兴补助资金"
            let closed = i == 23 ? ("2026-07-01", "岗位合并") : ("", "")
            rows.append([postID(i), villages[i % 3], types[i % 6], funding, "丰县顺河镇人民政府", needs[i % 6], "2025-12-10", "2026-01-01",
                         closed.0, closed.1])
        }
        return rows
    }

    public static var placements: [[String]] {
        var rows = [["岗位编号", "身份证号", "上岗日期", "合同类型", "合同起始", "合同终止", "退岗日期", "退岗原因"]]
        for i in 0..<24 {
            let exit = i == 1 ? ("2026-05-31", "实现其他就业") : i == 23 ? ("2026-06-30", "岗位撤销") : ("", "")
            rows.append([postID(i), person(i), "2026-01-05", "劳务协议", "2026-01-05", i == 23 ? "2026-06-30" : "2026-12-31", exit.0, exit.1])
        }
        rows.append([postID(1), person(24), "2026-06-15", "劳务协议", "2026-06-15", "2026-12-31", "", ""])
        return rows
    }

    /// The files by name, as docs/examples holds them.
    public static var files: [(name: String, rows: [[String]])] {
        [("ledger-persons.xlsx", persons), ("ledger-insurance.xlsx", insurance), ("ledger-posts.xlsx", posts),
         ("ledger-placements.xlsx", placements)]
    }

    static func csv(_ rows: [[String]]) throws -> CSVFile {
        try CSVFile(data: Array((rows.map { $0.joined(separator: ",") }.joined(separator: "\n") + "\n").utf8))
    }

    /// What the import did: posts and placements written, or nil when an earlier `demo` did it.
    public struct Loaded: Sendable {
        public let posts: Int
        public let placements: Int
        public let contracts: Int
    }

    /// Brings the township's ledger in, once: a second `demo` finds it there.
    public static func load(_ connection: Connection) throws -> Loaded? {
        guard try connection.query("SELECT count(*) AS n FROM post WHERE id = $1", [postID(0)])[0]["n"] == "0" else { return nil }
        _ = try PersonImport.run(connection, file: try csv(persons), dryRun: false)
        _ = try Insurance.importFile(connection, file: try csv(insurance), dryRun: false)
        let posts = try LedgerImport.importPosts(connection, file: try csv(posts), dryRun: false)
        let placements = try LedgerImport.importPlacements(connection, file: try csv(placements), dryRun: false)
        return Loaded(posts: posts.inserted, placements: placements.inserted, contracts: placements.contracts)
    }
}
