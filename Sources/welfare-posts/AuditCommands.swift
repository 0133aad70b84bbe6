import ArgumentParser
import Foundation
import WelfarePosts

/// The filters every audit report takes.
struct AuditFilterOptions: ParsableArguments {
    @Option(help: .tr("Only this region and those under it.", "只看该区划及其下级。")) var region: String?
    @Option(help: .tr("The date the report is as of (default today).", "报告的截止日期（默认今天）。")) var asOf: String?
    @Option(help: .tr("First month of the payment rules (YYYY-MM; default: the earliest month paid or approved).", "发放类规则的起始月份（YYYY-MM；默认：最早有发放或已审核工资表的月份）。")) var from: String?
    @Option(help: .tr("Last month of the payment rules (YYYY-MM; default: the as-of month).", "发放类规则的截止月份（YYYY-MM；默认：截止日期所在月份）。")) var to: String?
    @Option(help: .tr("Only this rule code, e.g. UNINSURED.", "只看这条规则，例如 UNINSURED。")) var rule: String?

    func filter() throws -> Audit.Filter {
        Audit.Filter(region: region, asOf: try asOf.map { try Parse.day($0, "--as-of") },
                     from: try from.map { try Parse.month($0, "--from") }, to: try to.map { try Parse.month($0, "--to") },
                     rule: rule?.uppercased())
    }
}

struct AuditCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "audit", abstract: tr("Find ineligible placements and irregular payments (查处).", "查处安置不符合条件人员和违规发放补贴。"),
        subcommands: [Violations.self, Summary.self, Report.self])

    struct Violations: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "violations", 
            abstract: tr("Every case of the rules of SPEC §7, one row each, with its basis (exit 0 whatever is found).", "列出每一条违规问题（规则见 SPEC §7），每个问题一行，附依据（无论查出什么，退出码均为 0）。"))
        @OptionGroup var global: GlobalOptions
        @OptionGroup var filter: AuditFilterOptions
        @Flag(help: .tr("Show full resident IDs.", "显示完整的身份证号。")) var reveal = false

        func run() throws {
            let connection = try global.connect()
            try checkReveal(reveal, connection)
            let rows = try Audit.violations(connection, try filter.filter(), parallel: global.opener)
            let zh = global.lang == .zh
            global.output.list(
                [Column("rule", "rule", "规则"), Column("county", "county", "县区"), Column("township", "township", "乡镇"),
                 Column("village", "village", "村"), Column("id_number", "resident ID", "身份证号"), Column("name", "name", "姓名"),
                 Column("post_id", "post", "岗位编号"), Column("from", "from", "起始日期"), Column("to", "to", "终止日期"),
                 Column("month", "month", "月份"), Column("amount", "amount", "涉及金额"),
                 Column("explanation", "explanation", "说明"), Column("basis", "basis", "依据")],
                rows.map { row in
                    [row["rule"], row["county"], row["township"], row["village"], masked(row["id_number"], reveal: reveal), row["name"],
                     row["post_id"], row["from_on"], row["to_on"], row["month"], yuan(row["amount_fen"]),
                     zh ? row["explanation_zh"] : row["explanation"], row["basis"]]
                })
        }
    }

    struct Summary: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "summary", abstract: tr("Cases and money at stake per rule and county, with totals.", "按规则和县区统计问题数和涉及金额，并给出合计。"))
        @OptionGroup var global: GlobalOptions
        @OptionGroup var filter: AuditFilterOptions

        func run() throws {
            let connection = try global.connect()
            let rows = try Audit.summary(connection, try filter.filter(), parallel: global.opener)
            let zh = global.lang == .zh
            global.output.list(
                [Column("rule", "rule", "规则"), Column("county_code", "county code", "县区代码"), Column("county", "county", "县区"),
                 Column("cases", "cases", "案例数"), Column("amount", "amount", "涉及金额")],
                rows.map { row in
                    let total = zh ? "合计" : "total"
                    let rule = row["rule"].flatMap { $0.isEmpty ? nil : $0 }
                    let county = row["county_code"].flatMap { $0.isEmpty ? nil : $0 }
                    return [rule ?? total, county ?? (rule == nil ? nil : total), row["county"], row["cases"], yuan(row["amount_fen"])]
                })
        }
    }
}

extension AuditCommand {
    struct Report: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: tr("Write the audit as one HTML page: cases and money at stake by rule and county as charts, the summary and the cases beneath.",
                         "生成查处报告（一个 HTML 页面）：按规则和县区统计的问题数和涉及金额图表，下附汇总表和问题清单。"),
            discussion: tr("The page needs nothing else (no network, no script) and prints on A4. Give the file with --output FILE.html; resident IDs are masked unless --reveal. Same filters as audit violations.",
                           "页面不依赖其他文件（不联网、不用脚本），可在 A4 纸上打印。请用 --output 文件名.html 指定文件；除非使用 --reveal，身份证号隐去部分。筛选条件与 audit violations 相同。"))
        @OptionGroup var global: GlobalOptions
        @OptionGroup var filter: AuditFilterOptions
        @Flag(help: .tr("Show full resident IDs.", "显示完整的身份证号。")) var reveal = false

        func run() throws {
            let output = try reportFile(global)
            let filter = try self.filter.filter()
            let connection = try global.connect()
            try checkReveal(reveal, connection)
            let regionName = try filter.region.map { try Regions.name(connection, $0) }
            let rules = try Audit.ruleTitles(connection).map { AuditRuleTitle(code: $0.code, titleZh: $0.titleZh, basis: $0.basis) }
            let rows = try Audit.violations(connection, filter, parallel: global.opener)
            let report = AuditReport(lang: global.lang, covers: AuditReport.covers(filter, regionName: regionName, lang: global.lang), rules: rules,
                                     summary: try Audit.summary(of: rows).map(AuditSummaryLine.init(row:)), cases: try rows.map(AuditCase.init(row:)),
                                     reveal: reveal)
            try writeOutputFile(output, Array(report.html.utf8))
            global.output.say(Text(en: "audit report (\(rows.count) cases) written to \(output)", zh: "查处报告（\(rows.count) 个问题）已写入 \(output)"))
        }
    }
}

/// The `--output` of a report: required, and an HTML file's name (`.html` or `.htm`), so that a
/// report is never written under a name that promises CSV or Excel (exit 2, `BAD_OUTPUT`).
func reportFile(_ global: GlobalOptions) throws -> String {
    guard let output = global.outputFile else {
        throw AppError.badInput(Text(en: "give --output FILE.html: the report is one HTML page written to a file",
                                     zh: "请给出 --output 文件名.html：报告是写入文件的一个 HTML 页面"), code: "BAD_OUTPUT")
    }
    let lower = output.lowercased()
    guard lower.hasSuffix(".html") || lower.hasSuffix(".htm") else {
        throw AppError.badInput(Text(en: "--output \(TextValue.quoted(output)): the report is an HTML page; give a name ending in .html, e.g. report.html",
                                     zh: "--output “\(TextValue.quoted(output))”：报告是 HTML 页面，文件名应以 .html 结尾，例如 report.html"), code: "BAD_OUTPUT")
    }
    try SafeFile.check(output)
    return output
}

struct LedgerCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ledger", abstract: tr("The management ledger (管理台账), as of any date.", "管理台账，可查任一日期的情况。"),
        subcommands: [Posts.self, Summary.self, Scale.self, Report.self])

    struct Posts: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "posts", 
            abstract: tr("Every post: region, type, developer, funding, pay standard, state, holder, contract, insurance end.", "逐岗列出：区划、岗位类型、开发主体、资金渠道、补贴标准、状态、在岗人员、合同、保险终止日期。"))
        @OptionGroup var global: GlobalOptions
        @Option(help: .tr("Only this region and those under it.", "只看该区划及其下级。")) var region: String?
        @Option(help: .tr("The date the ledger is as of (default today).", "台账的截止日期（默认今天）。")) var asOf: String?
        @Flag(help: .tr("Show full resident IDs.", "显示完整的身份证号。")) var reveal = false

        func run() throws {
            let day = try asOf.map { try Parse.day($0, "--as-of") } ?? .today()
            let connection = try global.connect()
            try checkReveal(reveal, connection)
            let vocabulary = try Vocabulary.load(connection)
            let lang = global.lang
            global.output.list(
                [Column("post_id", "post", "岗位编号"), Column("township", "township", "乡镇"), Column("village", "village", "村"),
                 Column("post_type", "type", "岗位类型"), Column("funding_channel", "funding", "资金渠道"),
                 Column("developer", "developer", "开发主体"), Column("monthly", "monthly", "岗位补贴标准"),
                 Column("social_insurance", "social insurance", "社保补贴标准"), Column("state", "state", "状态"),
                 Column("id_number", "holder ID", "在岗人员身份证号"), Column("name", "holder", "在岗人员"),
                 Column("contract_start", "contract from", "合同起始"), Column("contract_end", "contract to", "合同终止"),
                 Column("insured_to", "insured to", "保险截止")],
                try Ledger.posts(connection, region: region, asOf: day).map { post in
                    [post.id, post.township, post.village, vocabulary.label(.postType, post.postType, lang),
                     vocabulary.label(.fundingChannel, post.fundingChannel, lang), post.developer,
                     post.monthlyFen.map { Fen($0).yuanText }, post.socialInsuranceFen.map { Fen($0).yuanText }, stateLabel(post.state, lang),
                     masked(post.holderID, reveal: reveal), post.holderName, post.contractStart?.iso, post.contractEnd?.iso, post.insuredTo?.iso]
                })
        }
    }

    struct Summary: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "summary", 
            abstract: tr("Posts in force, filled and vacant, and the monthly subsidy commitment, by township, type, funding and developer.", "按乡镇、岗位类型、资金渠道和开发主体统计在册岗位、在岗和空岗数，以及每月补贴支出。"))
        @OptionGroup var global: GlobalOptions
        @Option(help: .tr("Only this region and those under it.", "只看该区划及其下级。")) var region: String?
        @Option(help: .tr("The date the ledger is as of (default today).", "台账的截止日期（默认今天）。")) var asOf: String?

        func run() throws {
            let day = try asOf.map { try Parse.day($0, "--as-of") } ?? .today()
            let connection = try global.connect()
            let vocabulary = try Vocabulary.load(connection)
            let lang = global.lang
            let levels: [String: Text] = ["funding_channel": Text(en: "by funding", zh: "按资金渠道"), "total": Text(en: "total", zh: "合计")]
            global.output.list(
                [Column("level", "level", "层级"), Column("township", "township", "乡镇"), Column("post_type", "type", "岗位类型"),
                 Column("funding_channel", "funding", "资金渠道"), Column("developer", "developer", "开发主体"),
                 Column("posts", "posts", "岗位数"), Column("filled", "filled", "在岗"), Column("vacant", "vacant", "空缺"),
                 Column("commitment", "monthly commitment", "月补贴承诺")],
                try Ledger.summary(connection, region: region, asOf: day).map { line in
                    [levels[line.level].map { $0(lang) } ?? (lang == .zh ? "明细" : line.level), line.township,
                     line.postType.map { vocabulary.label(.postType, $0, lang) },
                     line.fundingChannel.map { vocabulary.label(.fundingChannel, $0, lang) }, line.developer,
                     String(line.posts), String(line.filled), String(line.vacant), Fen(line.commitmentFen).yuanText]
                })
        }
    }

    struct Scale: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "scale", 
            abstract: tr("Month by month: posts in force and filled at the month's end, people in post, hires and exits (规模总体稳定).", "逐月统计：月末在册岗位和在岗岗位数、在岗人数、聘用和退岗人数（规模总体稳定）。"))
        @OptionGroup var global: GlobalOptions
        @Option(help: .tr("First month (YYYY-MM).", "起始月份（YYYY-MM）。")) var from: String
        @Option(help: .tr("Last month (YYYY-MM).", "截止月份（YYYY-MM）。")) var to: String
        @Option(help: .tr("Only this region and those under it.", "只看该区划及其下级。")) var region: String?

        func run() throws {
            let from = try Parse.month(self.from, "--from"), to = try Parse.month(self.to, "--to")
            let connection = try global.connect()
            global.output.list(
                [Column("month", "month", "月份"), Column("posts", "posts", "岗位数"), Column("filled", "filled", "在岗岗位"),
                 Column("people", "people in post", "在岗人数"), Column("hires", "hires", "新聘"), Column("exits", "exits", "退岗")],
                try Ledger.scale(connection, region: region, from: from, to: to).map { month in
                    [month.month, String(month.posts), String(month.filled), String(month.people), String(month.hires), String(month.exits)]
                })
        }
    }
}

extension LedgerCommand {
    struct Report: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: tr("Write the ledger as one HTML page: post scale month by month by township, type and funding channel, filled and vacant, the monthly commitment, as charts with the tables beneath.",
                         "生成台账报告（一个 HTML 页面）：逐月岗位规模（按乡镇、岗位类型、资金渠道）、在岗与空岗、每月补贴支出的图表，下附统计表。"),
            discussion: tr("The page needs nothing else (no network, no script) and prints on A4. Give the file with --output FILE.html. Filled, vacant and the commitment are as of --as-of, by default the last day of --to.",
                           "页面不依赖其他文件（不联网、不用脚本），可在 A4 纸上打印。请用 --output 文件名.html 指定文件。在岗、空岗和补贴支出按 --as-of 日期统计，默认为 --to 月份的最后一天。"))
        @OptionGroup var global: GlobalOptions
        @Option(help: .tr("First month (YYYY-MM).", "起始月份（YYYY-MM）。")) var from: String
        @Option(help: .tr("Last month (YYYY-MM).", "截止月份（YYYY-MM）。")) var to: String
        @Option(help: .tr("Only this region and those under it.", "只看该区划及其下级。")) var region: String?
        @Option(help: .tr("The day of the filled, vacant and commitment figures (default: the last day of --to).", "在岗、空岗和补贴支出的统计日期（默认：--to 月份的最后一天）。")) var asOf: String?

        func run() throws {
            let output = try reportFile(global)
            let from = try Parse.month(self.from, "--from"), to = try Parse.month(self.to, "--to")
            let day = try asOf.map { try Parse.day($0, "--as-of") } ?? to.lastDay
            // A page of charts by month reads for ten years at most.
            if from <= to, LedgerReport.months(from: from, to: min(to, from.adding(months: 120))).count > 120 {
                throw AppError.badInput(Text(en: "--from \(from.iso) --to \(to.iso) is more than 120 months: make one report per few years",
                                             zh: "--from \(from.iso) --to \(to.iso) 超过 120 个月：请按若干年分别生成报告"), code: "BAD_MONTH")
            }
            let connection = try global.connect()
            let regionName = try region.map { try Regions.name(connection, $0) }
            // The three reads in one snapshot, so that the charts and tables agree.
            let report = try Database.mapped { try connection.transaction(.repeatableRead) {
                try connection.execute("SET TRANSACTION READ ONLY")
                return LedgerReport(
                    lang: global.lang, covers: LedgerReport.covers(region: region, regionName: regionName, from: from, to: to, asOf: day, lang: global.lang),
                    asOf: day, months: LedgerReport.months(from: from, to: to),
                    scale: try Ledger.scale(connection, region: region, from: from, to: to),
                    groups: try Ledger.scaleByGroup(connection, region: region, from: from, to: to),
                    summary: try Ledger.summary(connection, region: region, asOf: day), vocabulary: try Vocabulary.load(connection))
            } }
            let scale = report.scale
            try writeOutputFile(output, Array(report.html.utf8))
            global.output.say(Text(en: "ledger report (\(scale.count) months) written to \(output)", zh: "台账报告（\(scale.count) 个月）已写入 \(output)"))
        }
    }
}

struct JournalCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "journal", abstract: tr("The append-only, hash-chained journal of every change.", "只增不改、哈希链接的全部变更日志。"),
        subcommands: [Verify.self, Show.self])

    struct Verify: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "verify", 
            abstract: tr("Check the hash chain and the seals of approved payrolls; exit 1 naming what was altered, removed or reordered.", "校验哈希链和已审核工资表的封签；发现被篡改、删除或调换顺序的记录时以退出码 1 指出。"))
        @OptionGroup var global: GlobalOptions
        @Option(help: .tr("With --hash: an entry whose hash was written down earlier (journal verify printed it).", "与 --hash 一起使用：此前记下哈希值的日志序号（journal verify 会打印）。")) var entry: Int64?
        @Option(help: .tr("With --entry: the hash written down for that entry; exit 1 if it is not the entry's hash now.", "与 --entry 一起使用：为该条日志记下的哈希值；与现值不符时退出码为 1。")) var hash: String?

        func validate() throws {
            guard (entry == nil) == (hash == nil) else { throw ValidationError("--entry and --hash go together") }
            if let hash, hash.count != 64 || !hash.allSatisfy(\.isHexDigit) {
                throw ValidationError("--hash must be the 64 hexadecimal digits journal verify printed")
            }
        }

        func run() throws {
            let connection = try global.connect()
            let result = try Journal.verify(connection)
            if let problem = result.problem {
                throw AppError(.rule, code: "JOURNAL_TAMPERED", Text(
                    en: problem.explanation.en + ". Keep the database as it is and tell the system administrator and the auditors.",
                    zh: problem.explanation.zh + "。请保持数据库现状，并报告系统管理员和审计人员。"))
            }
            if !result.brokenSeals.isEmpty {
                throw AppError(.rule, code: "PAYROLL_TAMPERED", Text(
                    en: result.brokenSeals.map(\.explanation.en).joined(separator: "; ")
                        + ". Keep the database as it is and tell the system administrator and the auditors.",
                    zh: result.brokenSeals.map(\.explanation.zh).joined(separator: "；") + "。请保持数据库现状，并报告系统管理员和审计人员。"))
            }
            if let entry, let kept = hash, try Journal.hash(connection, at: entry) != kept.lowercased() {
                throw AppError(.rule, code: "JOURNAL_TAMPERED", Text(
                    en: "entry \(entry) does not have the hash written down for it: the journal was rewritten from that entry on (or it was removed). Keep the database as it is and tell the system administrator and the auditors.",
                    zh: "第 \(entry) 条日志的哈希与留存的不符：日志自该条起被重写（或被删除）。请保持数据库现状，并报告系统管理员和审计人员。"))
            }
            global.output.entity([
                (Column("entries", "entries", "日志条数"), String(result.entries)),
                (Column("verified", "verified", "校验结果"), global.lang == .zh ? "完整，未被篡改" : "intact"),
                (Column("last_hash", "last hash (keep it to prove the past later)", "最后哈希（请留存以备日后核验）"), result.lastHash),
            ])
        }
    }

    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "show", abstract: tr("The history of a post or person (post:ID, person:ID), or the latest entries.", "某个岗位或人员的变更历史（post:编号、person:身份证号），或最近的日志。"))
        @OptionGroup var global: GlobalOptions
        @Option(help: .tr("post:320321-00001 or person:RESIDENT_ID.", "post:320321-00001 或 person:身份证号。")) var entity: String?
        @Option(help: .tr("At most this many entries, the latest.", "最多显示多少条（最近的）。")) var limit: Int = 1000
        @Flag(help: .tr("Show full resident IDs and bank accounts.", "显示完整的身份证号和银行账号。")) var reveal = false

        func run() throws {
            let entity = try self.entity.map { try Journal.Entity($0) }
            let limit = try Parse.number(self.limit, "--limit", 1...1_000_000)
            let connection = try global.connect()
            try checkReveal(reveal, connection)
            global.output.list(
                [Column("seq", "entry", "序号"), Column("at", "at", "时间"), Column("role", "role", "数据库角色"),
                 Column("operation", "operation", "操作"), Column("table", "table", "表"), Column("key", "key", "主键"),
                 Column("changes", "changes", "变动")],
                try Journal.show(connection, entity: entity, limit: limit, reveal: reveal).map { row in
                    [row["seq"], row["at"], row["role"], row["operation"].map { operationLabel($0, global.lang) }, row["table_name"], row["row_key"], row["changes"]]
                })
        }
    }
}

/// A journal entry's operation: the SQL word, or what it did under `--lang zh`.
func operationLabel(_ operation: String, _ lang: Lang) -> String {
    guard lang == .zh else { return operation }
    return ["INSERT": "新增", "UPDATE": "修改", "DELETE": "删除"][operation] ?? operation
}
