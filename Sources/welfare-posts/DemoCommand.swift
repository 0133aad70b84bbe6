import ArgumentParser
import WelfarePosts

struct Demo: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "demo", 
        abstract: tr("Load a demo county (丰县, Jiangsu) into the connected database and show what it holds.", "向所连接的数据库载入演示县（江苏丰县）并展示其内容。"))
    @OptionGroup var global: GlobalOptions

    func run() throws {
        let connection = try global.connect()
        let loaded = try DemoCounty.load(connection)
        let output = global.output
        let vocabulary = try Vocabulary.load(connection)
        output.say(Text(en: "Demo county 丰县 (320321) loaded: \(loaded.regions.rows) regions, \(loaded.persons.rows) persons.",
                        zh: "演示县 丰县（320321）已载入：区划 \(loaded.regions.rows) 个，人员 \(loaded.persons.rows) 人。"))
        output.say(Text(en: "\nRegions:", zh: "\n区划："))
        let regions = try Regions.list(connection, under: DemoCounty.county)
        output.list([Column("code", "code", "区划代码"), Column("name", "name", "名称")], regions.map { [$0["code"], $0["name"]] })
        output.say(Text(en: "\nPersons by township and category:", zh: "\n按乡镇和类别统计的人员："))
        output.list([Column("township", "township", "乡镇"), Column("category", "category", "人员类别"),
                     Column("persons", "persons", "人数"), Column("households", "households", "户数")],
                    try DemoCounty.summary(connection).map { row in
                        [row["township"], row["category"].map { vocabulary.label(.personCategory, $0, global.lang) }, row["persons"], row["households"]]
                    })
        output.say(Text(en: "\nThe lifecycle, 2026:", zh: "\n岗位全流程（2026年）："))
        let steps = try DemoLifecycle.walk(connection)
        output.list([Column("step", "step", "步骤"), Column("refused", "refused by", "违反规则"), Column("outcome", "outcome", "结果")],
                     steps.map { [$0.action(global.lang), $0.refusal, $0.outcome(global.lang)] })
        output.say(Text(en: "\nPayroll, January to March 2026:", zh: "\n工资发放（2026年1月至3月）："))
        output.list([Column("step", "step", "步骤"), Column("refused", "refused by", "违反规则"), Column("outcome", "outcome", "结果")],
                     try DemoPayroll.walk(connection).map { [$0.action(global.lang), $0.refusal, $0.outcome(global.lang)] })
        output.say(Text(en: "\nSpring 2026, as the auditors will find it:", zh: "\n2026年春（审计将发现的问题）："))
        output.list([Column("step", "step", "步骤"), Column("outcome", "outcome", "结果")],
                     try DemoAudit.walk(connection).map { [$0.action(global.lang), $0.outcome(global.lang)] })
        for month in ["2026-02", "2026-03"] {
            output.say(Text(en: "\nFinance export of \(month) (payroll export \(month)):", zh: "\n\(month) 财务导出（payroll export \(month)）："))
            try PayrollCommand.Export.parse([month, "--region", DemoCounty.county, "--draft", "--lang", global.lang.rawValue]
                + (global.database.map { ["--database", $0] } ?? [])).run()
        }
        output.say(Text(en: "\nPosts on 2026-06-15:", zh: "\n2026-06-15 的岗位："))
        try PostCommand.List.parse(["--region", DemoCounty.county, "--on", "2026-06-15"] + passOn).run()
        output.say(Text(en: "\nPolicy in force in 丰县 on 2026-03-01:", zh: "\n丰县 2026-03-01 执行的政策："))
        try PolicyCommand.Show.parse(["--region", DemoCounty.county, "--on", "2026-03-01"] + passOn).run()
        let asOf = DemoAudit.asOf.iso
        output.say(Text(en: "\nLedger summary as of \(asOf) (ledger summary --as-of \(asOf)):", zh: "\n\(asOf) 台账汇总（ledger summary --as-of \(asOf)）："))
        try LedgerCommand.Summary.parse(["--region", DemoCounty.county, "--as-of", asOf] + passOn).run()
        output.say(Text(en: "\nViolations as of \(asOf) (audit violations --as-of \(asOf)):", zh: "\n截至 \(asOf) 的违规问题（audit violations --as-of \(asOf)）："))
        try AuditCommand.Violations.parse(["--region", DemoCounty.county, "--as-of", asOf] + passOn).run()
        output.say(Text(en: "\n顺河镇 brings its Excel ledger in (person, insurance, post and placement import; docs/examples/ledger-*.xlsx):",
                        zh: "\n顺河镇导入其 Excel 台账（人员、保险、岗位、聘用导入；docs/examples/ledger-*.xlsx）："))
        if let ledger = try DemoLedger.load(connection) {
            output.say(Text(en: "\(ledger.posts) posts, \(ledger.placements) placements, \(ledger.contracts) contracts imported with their dates",
                            zh: "已按原日期导入岗位 \(ledger.posts) 个、聘用 \(ledger.placements) 条、合同 \(ledger.contracts) 份"))
        } else {
            output.say(Text(en: "already imported in this database", zh: "本数据库中已导入"))
        }
        output.say(Text(en: "\n顺河镇's posts on 2026-08-01:", zh: "\n顺河镇 2026-08-01 的岗位："))
        try PostCommand.List.parse(["--region", "320321102000", "--on", "2026-08-01"] + passOn).run()
    }

    /// The options a chapter run by another command keeps: database, language, format.
    var passOn: [String] {
        (global.database.map { ["--database", $0] } ?? []) + ["--lang", global.lang.rawValue, "--format", global.output.format.rawValue]
    }
}
