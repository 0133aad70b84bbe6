import ArgumentParser
import Postgres
import WelfarePosts

/// Prints a post as an entity.
func printPost(_ post: Row, _ global: GlobalOptions, _ vocabulary: Vocabulary) {
    let lang = global.lang
    global.output.entity([
        (Column("id", "post", "岗位编号"), post["id"]),
        (Column("region", "region", "区划"), "\(post["region_code"] ?? "") \(post["region_name"] ?? "")"),
        (Column("post_type", "type", "岗位类型"), post["post_type"].map { vocabulary.label(.postType, $0, lang) }),
        (Column("funding_channel", "funding", "资金渠道"), post["funding_channel"].map { vocabulary.label(.fundingChannel, $0, lang) }),
        (Column("developer", "developer", "开发主体"), post["developer"]),
        (Column("need", "need", "设岗需求"), post["need"]),
        (Column("state", "state", "状态"), post["state"].map { stateLabel($0, lang) }),
        (Column("proposed_on", "proposed on", "申报日期"), post["proposed_on"]),
        (Column("approved_on", "approved on", "审批日期"), post["approved_on"]),
        (Column("rejected_on", "rejected on", "驳回日期"), post["rejected_on"]),
        (Column("reject_reason", "reject reason", "驳回原因"), post["reject_reason"]),
        (Column("closed_on", "closed from", "撤销日期"), post["closed_on"]),
        (Column("close_reason", "close reason", "撤销原因"), post["close_reason"]),
    ])
}

func stateLabel(_ state: String, _ lang: Lang) -> String {
    guard lang == .zh else { return state }
    return ["proposed": "待审批", "approved": "在册", "rejected": "已驳回", "closed": "已撤销"][state] ?? state
}

/// Prints a placement with its latest contract.
func printPlacement(_ row: Row, _ global: GlobalOptions, _ vocabulary: Vocabulary) {
    let lang = global.lang
    global.output.entity([
        (Column("post_id", "post", "岗位编号"), row["post_id"]),
        (Column("id_number", "resident ID", "身份证号"), masked(row["id_number"])),
        (Column("name", "name", "姓名"), row["name"]),
        (Column("start_on", "in post from", "上岗日期"), row["start_on"]),
        (Column("exit_on", "exit (last day)", "退岗日期"), row["exit_on"]),
        (Column("exit_reason", "exit reason", "退岗原因"), row["exit_reason"].map { vocabulary.label(.exitReason, $0, lang) }),
        (Column("contract_kind", "contract", "合同类型"), row["kind"].map { vocabulary.label(.contractKind, $0, lang) }),
        (Column("contract_start", "contract from", "合同起始"), row["contract_start"]),
        (Column("contract_end", "contract to", "合同终止"), row["contract_end"]),
    ])
}

/// A resident ID as human-readable output shows it.
func masked(_ id: String?, reveal: Bool = false) -> String? {
    guard let id else { return nil }
    return reveal ? id : ((try? ResidentID(id))?.masked ?? id)
}

struct PostCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "post", abstract: tr("Posts: propose, approve, reject, close, list, show.", "岗位：申报、审批、驳回、撤销、列表、查看。"),
        subcommands: [Propose.self, Approve.self, Reject.self, Close.self, List.self, Show.self])

    struct Propose: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: tr("Propose a post in a township or village (按需设岗).", "在乡镇或村申报一个岗位（按需设岗）。"))
        @OptionGroup var global: GlobalOptions
        @Option(help: .tr("Township or village code.", "乡镇或村的区划代码。")) var region: String
        @Option(help: .tr("Post type code or label.", "岗位类型（代码或中文名称）。")) var type: String
        @Option(help: .tr("Funding channel code or label.", "资金渠道（代码或中文名称）。")) var funding: String
        @Option(help: .tr("Who develops the post (开发主体).", "开发主体，例如“某某镇人民政府”。")) var developer: String
        @Option(help: .tr("The need the post answers.", "设岗需求。")) var need: String

        func run() throws {
            let developer = try Parse.text(self.developer, "--developer", .freeText)
            let need = try Parse.text(self.need, "--need", .freeText)
            let connection = try global.connect()
            let post = try Posts.propose(connection, region: region, type: type, funding: funding, developer: developer, need: need)
            printPost(post, global, try Vocabulary.load(connection))
        }
    }

    struct Approve: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: tr("Approve a proposed post (checks PAY_STANDARD and QUOTA).", "审批一个待审批的岗位（检查补贴标准 PAY_STANDARD 和岗位总量 QUOTA）。"))
        @OptionGroup var global: GlobalOptions
        @Argument(help: .tr("Post ID.", "岗位编号。")) var post: String
        @Option(help: .tr("Approval date (default today).", "审批日期（默认今天）。")) var on: String?

        func run() throws {
            let day = try on.map { try Parse.day($0, "--on") } ?? .today()
            let connection = try global.connect()
            printPost(try Posts.approve(connection, post, on: day), global, try Vocabulary.load(connection))
        }
    }

    struct Reject: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: tr("Reject a proposed post.", "驳回一个待审批的岗位。"))
        @OptionGroup var global: GlobalOptions
        @Argument(help: .tr("Post ID.", "岗位编号。")) var post: String
        @Option(help: .tr("Why.", "原因。")) var reason: String

        func run() throws {
            let reason = try Parse.text(self.reason, "--reason", .freeText)
            let connection = try global.connect()
            printPost(try Posts.reject(connection, post, reason: reason), global, try Vocabulary.load(connection))
        }
    }

    struct Close: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: tr("Close an approved post from a date on (it must be vacant from then).", "自某日起撤销一个在册岗位（该日起须无人在岗）。"))
        @OptionGroup var global: GlobalOptions
        @Argument(help: .tr("Post ID.", "岗位编号。")) var post: String
        @Option(help: .tr("First day the post no longer exists.", "岗位不再存在的第一天。")) var on: String
        @Option(help: .tr("Why.", "原因。")) var reason: String
        @Flag(help: .tr("End the holder's placement the day before, with reason post-closed.", "先为在岗人员办理退岗（撤销日前一天，原因为岗位撤销）。")) var exitHolder = false

        func run() throws {
            let day = try Parse.day(on, "--on")
            let reason = try Parse.text(self.reason, "--reason", .freeText)
            let connection = try global.connect()
            printPost(try Posts.close(connection, post, on: day, reason: reason, exitHolder: exitHolder), global, try Vocabulary.load(connection))
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: tr("List posts with their holder on a day.", "列出岗位及其某日的在岗人员。"))
        @OptionGroup var global: GlobalOptions
        @Option(help: .tr("Only posts in this region and below.", "只看该区划及其下级的岗位。")) var region: String?
        @Option(help: .tr("proposed, approved, rejected or closed.", "状态：proposed（待审批）、approved（在册）、rejected（已驳回）或 closed（已撤销）。")) var state: String?
        @Flag(help: .tr("Only approved posts nobody holds on the day.", "只看当日无人在岗的在册岗位。")) var vacant = false
        @Option(help: .tr("The day (default today).", "日期（默认今天）。")) var on: String?
        @Flag(help: .tr("Show holders' full resident IDs.", "显示在岗人员完整的身份证号。")) var reveal = false

        func run() throws {
            let day = try on.map { try Parse.day($0, "--on") } ?? .today()
            let connection = try global.connect()
            try checkReveal(reveal, connection)
            let vocabulary = try Vocabulary.load(connection)
            let lang = global.lang
            let rows = try Posts.list(connection, region: region, state: state, vacantOn: vacant ? day : nil, on: day)
            global.output.list(
                [Column("id", "post", "岗位编号"), Column("region", "region", "区划"), Column("post_type", "type", "岗位类型"),
                 Column("funding_channel", "funding", "资金渠道"), Column("state", "state", "状态"),
                 Column("holder", "holder", "在岗人员"), Column("holder_id", "holder ID", "身份证号")],
                rows.map { row in
                    [row["id"], row["region_name"], row["post_type"].map { vocabulary.label(.postType, $0, lang) },
                     row["funding_channel"].map { vocabulary.label(.fundingChannel, $0, lang) }, row["state"].map { stateLabel($0, lang) },
                     row["holder_name"], masked(row["holder_id"], reveal: reveal)]
                })
        }
    }

    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: tr("Show a post and everyone who has held it.", "查看一个岗位及其历任在岗人员。"))
        @OptionGroup var global: GlobalOptions
        @Argument(help: .tr("Post ID.", "岗位编号。")) var post: String
        @Flag(help: .tr("Show holders' full resident IDs.", "显示在岗人员完整的身份证号。")) var reveal = false

        func run() throws {
            let connection = try global.connect()
            try checkReveal(reveal, connection)
            let vocabulary = try Vocabulary.load(connection)
            printPost(try Posts.find(connection, post), global, vocabulary)
            global.output.say(Text(en: "\nHolders:", zh: "\n历任在岗人员："))
            global.output.list(
                [Column("id_number", "resident ID", "身份证号"), Column("name", "name", "姓名"), Column("start_on", "from", "上岗日期"),
                 Column("exit_on", "exit", "退岗日期"), Column("exit_reason", "reason", "退岗原因"), Column("contract_end", "contract to", "合同终止")],
                try Posts.holders(connection, post).map { row in
                    [masked(row["id_number"], reveal: reveal), row["name"], row["start_on"], row["exit_on"],
                     row["exit_reason"].map { vocabulary.label(.exitReason, $0, global.lang) }, row["contract_end"]]
                })
        }
    }
}

struct Hire: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: tr("Hire a person into a post with a first contract (以岗聘任).", "聘用人员到岗位并签订首份合同（以岗聘任）。"),
        discussion: tr("""
            Checked on the start, against the policy of the post's region: the post is in force and vacant \
            (POST_NOT_OPEN), the person holds no other post (ONE_POST_PER_PERSON), can work (LABOUR_CAPACITY), \
            is of an eligible category (CATEGORY) and age (AGE), has no excluded status and no village cadre \
            in the household (EXCLUDED_STATUS), the household stays within its cap (HOUSEHOLD_CAP), accident \
            insurance covers every day of the contract (INSURANCE), a pay standard is in force (PAY_STANDARD), \
            and the contract is shorter than a year (CONTRACT_TERM). A refusal exits 1 and changes nothing.
            """, """
            以上岗日期、按岗位所在区划的政策检查：岗位在册且空缺（POST_NOT_OPEN）、本人未在其他岗位（ONE_POST_PER_PERSON）、\
            有劳动能力（LABOUR_CAPACITY）、人员类别（CATEGORY）和年龄（AGE）符合条件、本人无排除状态且同户无村干部\
            （EXCLUDED_STATUS）、同户在岗人数不超上限（HOUSEHOLD_CAP）、意外伤害保险覆盖合同期每一天（INSURANCE）、\
            有执行中的补贴标准（PAY_STANDARD）、合同期限不超过1年（CONTRACT_TERM）。不符合时退出码为 1，不做任何更改。
            """))
    @OptionGroup var global: GlobalOptions
    @Option(help: .tr("Post ID.", "岗位编号。")) var post: String
    @Option(help: .tr("Resident ID.", "身份证号。")) var person: String
    @Option(help: .tr("First day in post and of the contract.", "上岗日期，也是合同起始日期。")) var start: String
    @Option(help: .tr("Last day of the contract (before the start's next anniversary).", "合同终止日期（须早于起始日期的下一个周年日，每次签订不超过1年）。")) var end: String
    @Option(help: .tr("service-agreement (default) or labor-contract.", "合同类型：service-agreement 劳务协议（默认）或 labor-contract 劳动合同。")) var kind: String?

    func run() throws {
        let id = try Persons.parseID(person)
        let start = try Parse.day(self.start, "--start"), end = try Parse.day(self.end, "--end")
        let connection = try global.connect()
        let row = try Placements.hire(connection, post: post, person: id, start: start, end: end, kind: kind)
        printPlacement(row, global, try Vocabulary.load(connection))
    }
}

struct Renew: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: tr("Sign the next contract of a person's open placement.", "为在岗人员续签下一份合同。"))
    @OptionGroup var global: GlobalOptions
    @Option(help: .tr("Resident ID.", "身份证号。")) var person: String
    @Option(help: .tr("First day (default: the day after the current contract ends).", "起始日期（默认：现合同终止日的次日）。")) var start: String?
    @Option(help: .tr("Last day of the contract.", "合同终止日期。")) var end: String
    @Option(help: .tr("service-agreement (default) or labor-contract.", "合同类型：service-agreement 劳务协议（默认）或 labor-contract 劳动合同。")) var kind: String?

    func run() throws {
        let id = try Persons.parseID(person)
        let start = try self.start.map { try Parse.day($0, "--start") }, end = try Parse.day(self.end, "--end")
        let connection = try global.connect()
        let row = try Placements.renew(connection, person: id, start: start, end: end, kind: kind)
        printPlacement(row, global, try Vocabulary.load(connection))
    }
}

struct Exit: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: tr("Close a person's open placement (有序退岗); the date is their last day in post.", "为人员办理退岗（有序退岗）；日期为最后在岗日。"))
    @OptionGroup var global: GlobalOptions
    @Option(help: .tr("Resident ID.", "身份证号。")) var person: String
    @Option(help: .tr("Last day in post (may be in the past).", "最后在岗日（可以是过去的日期）。")) var on: String
    @Option(help: .tr("Exit reason code or label.", "退岗原因（代码或中文名称）。")) var reason: String

    func run() throws {
        let id = try Persons.parseID(person)
        let day = try Parse.day(on, "--on")
        let connection = try global.connect()
        let row = try Placements.exit(connection, person: id, on: day, reason: reason)
        printPlacement(row, global, try Vocabulary.load(connection))
    }
}

struct InsuranceCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "insurance", abstract: tr("Accident-injury insurance policies.", "意外伤害商业保险。"), subcommands: [Add.self, Import.self])

    struct Add: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: tr("Record a policy (the same person, insurer and number replaces it).", "登记一份保单（同一人员、保险公司和保单号的记录将被替换）。"))
        @OptionGroup var global: GlobalOptions
        @Option(help: .tr("Resident ID.", "身份证号。")) var person: String
        @Option(help: .tr("Insurance company.", "保险公司。")) var insurer: String
        @Option(help: .tr("Policy number.", "保单号。")) var policy: String
        @Option(help: .tr("First day covered.", "起保日期。")) var from: String
        @Option(help: .tr("Last day covered.", "终保日期。")) var to: String
        @Option(help: .tr("Premium in yuan.", "保费（元）。")) var premium: String?

        func run() throws {
            let id = try Persons.parseID(person)
            let from = try Parse.day(self.from, "--from"), to = try Parse.day(self.to, "--to")
            let premium = try self.premium.map { try Parse.yuan($0, "--premium") }
            let insurer = try Parse.text(self.insurer, "--insurer", .name)
            let policy = try Parse.text(self.policy, "--policy", TextKind.code)
            let connection = try global.connect()
            let row = try Insurance.add(connection, person: id, insurer: insurer, policy: policy, from: from, to: to, premium: premium)
            global.output.entity([
                (Column("id_number", "resident ID", "身份证号"), masked(row["id_number"])),
                (Column("insurer", "insurer", "保险公司"), row["insurer"]),
                (Column("policy_number", "policy", "保单号"), row["policy_number"]),
                (Column("from", "from", "起保日期"), row["valid_from"]),
                (Column("to", "to", "终保日期"), row["valid_to"]),
                (Column("premium", "premium", "保费"), yuan(row["premium_fen"])),
            ])
        }
    }

    struct Import: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: tr("Import policies from CSV.", "从 CSV 文件导入保单。"))
        @OptionGroup var global: GlobalOptions
        @Argument(help: .tr("CSV file: UTF-8 (with or without BOM) or GBK.", "CSV 文件：UTF-8（有无 BOM 均可）或 GBK 编码。")) var file: String
        @Flag(help: .tr("Check the file and report, without writing.", "试运行：只检查文件并报告，不写入。")) var dryRun = false

        func run() throws {
            let connection = try global.connect()
            printImport(try Insurance.importFile(connection, file: try Parse.file(file), dryRun: dryRun), global.output)
        }
    }
}

struct DueCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "due", abstract: tr("What falls due soon: contracts ending, insurance ending, people ageing out.", "即将到期的事项：合同到期、保险到期、人员超龄。"))
    @OptionGroup var global: GlobalOptions
    @Option(help: .tr("Only posts in this region and below.", "只看该区划及其下级的岗位。")) var region: String?
    @Option(help: .tr("Days ahead to look (default 30).", "向后查看的天数（默认 30）。")) var within: Int = 30
    @Flag(help: .tr("Show full resident IDs.", "显示完整的身份证号。")) var reveal = false

    func run() throws {
        let within = try Parse.number(self.within, "--within", 0...3660)
        let connection = try global.connect()
        try checkReveal(reveal, connection)
        let rows = try Due.list(connection, region: region, within: within)
        let kinds: [String: String] = ["contract-ends": "合同到期", "insurance-ends": "保险到期", "ages-out": "超龄"]
        global.output.list(
            [Column("kind", "due", "事项"), Column("due_on", "on", "日期"), Column("post_id", "post", "岗位编号"),
             Column("region", "region", "区划"), Column("name", "name", "姓名"), Column("id_number", "resident ID", "身份证号")],
            rows.map { row in
                [global.lang == .zh ? row["kind"].flatMap { kinds[$0] } : row["kind"], row["due_on"], row["post_id"],
                 row["region_name"], row["name"], masked(row["id_number"], reveal: reveal)]
            })
    }
}
