import ArgumentParser
import Postgres
import WelfarePosts

/// Prints a post as an entity.
func printPost(_ post: Post, _ global: GlobalOptions, _ vocabulary: Vocabulary) {
    let lang = global.lang
    global.output.entity([
        (Column("id", "post", "岗位编号"), post.id),
        (Column("region", "region", "区划"), "\(post.regionCode) \(post.regionName)"),
        (Column("post_type", "type", "岗位类型"), vocabulary.label(.postType, post.postType, lang)),
        (Column("funding_channel", "funding", "资金渠道"), vocabulary.label(.fundingChannel, post.fundingChannel, lang)),
        (Column("developer", "developer", "开发主体"), post.developer),
        (Column("need", "need", "设岗需求"), post.need),
        (Column("state", "state", "状态"), stateLabel(post.lastTransition, lang)),
        (Column("state_on", "state on \(post.day)", "\(post.day) 状态"), post.state.map { stateLabel($0, lang) }),
        (Column("proposed_on", "proposed on", "申报日期"), post.proposedOn.iso),
        (Column("approved_on", "approved on", "审批日期"), post.approvedOn?.iso),
        (Column("rejected_on", "rejected on", "驳回日期"), post.rejectedOn?.iso),
        (Column("reject_reason", "reject reason", "驳回原因"), post.rejectReason),
        (Column("closed_on", "closed from", "撤销日期"), post.closedOn?.iso),
        (Column("close_reason", "close reason", "撤销原因"), post.closeReason),
    ])
}

func stateLabel(_ state: PostState, _ lang: Lang) -> String {
    guard lang == .zh else { return state.rawValue }
    switch state {
    case .proposed: return "待审批"
    case .approved: return "在册"
    case .rejected: return "已驳回"
    case .closed: return "已撤销"
    }
}

func stateLabel(_ state: String, _ lang: Lang) -> String {
    PostState(rawValue: state).map { stateLabel($0, lang) } ?? state
}

/// Prints a placement with its latest contract.
func printPlacement(_ placement: Placement, _ global: GlobalOptions, _ vocabulary: Vocabulary, extra: [(Column, String?)] = []) {
    let lang = global.lang
    global.output.entity([
        (Column("post_id", "post", "岗位编号"), placement.postID),
        (Column("id_number", "resident ID", "身份证号"), masked(placement.idNumber)),
        (Column("name", "name", "姓名"), placement.name),
        (Column("start_on", "in post from", "上岗日期"), placement.startOn.iso),
        (Column("exit_on", "exit (last day)", "退岗日期"), placement.exitOn?.iso),
        (Column("exit_reason", "exit reason", "退岗原因"), placement.exitReason.map { vocabulary.label(.exitReason, $0, lang) }),
        (Column("contract_kind", "contract", "合同类型"), placement.contractKind.map { vocabulary.label(.contractKind, $0, lang) }),
        (Column("contract_start", "contract from", "合同起始"), placement.contractStart?.iso),
        (Column("contract_end", "contract to", "合同终止"), placement.contractEnd?.iso),
    ] + extra)
}

/// A resident ID as human-readable output shows it.
func masked(_ id: String?, reveal: Bool = false) -> String? {
    guard let id else { return nil }
    return reveal ? id : ((try? ResidentID(id))?.masked ?? id)
}

struct PostCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "post", abstract: tr("Posts: propose, approve, reject, close, list, show.", "岗位：申报、审批、驳回、撤销、列表、查看。"),
        subcommands: [Propose.self, Approve.self, Reject.self, Close.self, List.self, Show.self, Import.self])

    struct Propose: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "propose", abstract: tr("Propose a post in a township or village (按需设岗).", "在乡镇或村申报一个岗位（按需设岗）。"))
        @OptionGroup var global: GlobalOptions
        @Option(help: .tr("Township or village code.", "乡镇或村的区划代码。")) var region: String
        @Option(help: .tr("Post type code or label.", "岗位类型（代码或中文名称）。")) var type: String
        @Option(help: .tr("Funding channel code or label.", "资金渠道（代码或中文名称）。")) var funding: String
        @Option(help: .tr("Who develops the post (开发主体).", "开发主体，例如“某某镇人民政府”。")) var developer: String
        @Option(help: .tr("The need the post answers.", "设岗需求。")) var need: String
        @Option(help: .tr("Date of the proposal (default today).", "申报日期（默认今天）。")) var on: String?

        func run() throws {
            let developer = try Parse.text(self.developer, "--developer", .freeText)
            let need = try Parse.text(self.need, "--need", .freeText)
            let day = try on.map { try Parse.day($0, "--on") } ?? .today()
            let connection = try global.connect()
            let post = try Posts.propose(connection, region: region, type: type, funding: funding, developer: developer, need: need, on: day)
            printPost(post, global, try Vocabulary.load(connection))
        }
    }

    struct Approve: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "approve", abstract: tr("Approve a proposed post (checks PAY_STANDARD and QUOTA).", "审批一个待审批的岗位（检查补贴标准 PAY_STANDARD 和岗位总量 QUOTA）。"))
        @OptionGroup var global: GlobalOptions
        @Argument(help: .tr("Post ID.", "岗位编号。")) var post: String
        @Option(help: .tr("Approval date (default today; on or after the proposal).", "审批日期（默认今天；不早于申报日期）。")) var on: String?

        func run() throws {
            let day = try on.map { try Parse.day($0, "--on") } ?? .today()
            let connection = try global.connect()
            printPost(try Posts.approve(connection, post, on: day), global, try Vocabulary.load(connection))
        }
    }

    struct Reject: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "reject", abstract: tr("Reject a proposed post.", "驳回一个待审批的岗位。"))
        @OptionGroup var global: GlobalOptions
        @Argument(help: .tr("Post ID.", "岗位编号。")) var post: String
        @Option(help: .tr("Why.", "原因。")) var reason: String
        @Option(help: .tr("Date of the rejection (default today; on or after the proposal).", "驳回日期（默认今天；不早于申报日期）。")) var on: String?

        func run() throws {
            let reason = try Parse.text(self.reason, "--reason", .freeText)
            let day = try on.map { try Parse.day($0, "--on") } ?? .today()
            let connection = try global.connect()
            printPost(try Posts.reject(connection, post, reason: reason, on: day), global, try Vocabulary.load(connection))
        }
    }

    struct Close: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "close", abstract: tr("Close an approved post from a date on (it must be vacant from then).", "自某日起撤销一个在册岗位（该日起须无人在岗）。"))
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
        static let configuration = CommandConfiguration(commandName: "list", abstract: tr("List posts as they stood on a day: their state then and their holder then.", "列出某日的岗位：当日的状态和当日的在岗人员。"))
        @OptionGroup var global: GlobalOptions
        @Option(help: .tr("Only posts in this region and below.", "只看该区划及其下级的岗位。")) var region: String?
        @Option(help: .tr("proposed, approved, rejected or closed (the state on the day).", "当日状态：proposed（待审批）、approved（在册）、rejected（已驳回）或 closed（已撤销）。")) var state: String?
        @Flag(help: .tr("Only approved posts nobody holds on the day.", "只看当日无人在岗的在册岗位。")) var vacant = false
        @Option(help: .tr("The day (default today).", "日期（默认今天）。")) var on: String?
        @Flag(help: .tr("Show holders' full resident IDs.", "显示在岗人员完整的身份证号。")) var reveal = false

        func run() throws {
            let day = try on.map { try Parse.day($0, "--on") } ?? .today()
            let connection = try global.connect()
            try checkReveal(reveal, connection)
            let vocabulary = try Vocabulary.load(connection)
            let lang = global.lang
            let rows = try Posts.list(connection, region: region, state: state, vacant: vacant, on: day)
            global.output.list(
                [Column("id", "post", "岗位编号"), Column("region", "region", "区划"), Column("post_type", "type", "岗位类型"),
                 Column("funding_channel", "funding", "资金渠道"), Column("state", "state", "状态"),
                 Column("holder", "holder", "在岗人员"), Column("holder_id", "holder ID", "身份证号")],
                rows.map { listing in
                    let post = listing.post
                    return [post.id, post.regionName, vocabulary.label(.postType, post.postType, lang),
                            vocabulary.label(.fundingChannel, post.fundingChannel, lang), post.state.map { stateLabel($0, lang) },
                            listing.holderName, masked(listing.holderID, reveal: reveal)]
                })
        }
    }

    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "show", abstract: tr("Show a post and everyone who has held it.", "查看一个岗位及其历任在岗人员。"))
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
                try Posts.holders(connection, post).map { holding in
                    [masked(holding.idNumber, reveal: reveal), holding.name, holding.startOn.iso, holding.exitOn?.iso,
                     holding.exitReason.map { vocabulary.label(.exitReason, $0, global.lang) }, holding.contractEnd?.iso]
                })
        }
    }
}

struct Hire: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "hire", 
        abstract: tr("Hire a person into a post with a first contract (以岗聘任); or, with --void, cancel a placement typed in by mistake.",
                     "聘用人员到岗位并签订首份合同（以岗聘任）；或用 --void 撤销误录的聘用。"),
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
    @Option(help: .tr("Post ID.", "岗位编号。")) var post: String?
    @Option(help: .tr("Resident ID.", "身份证号。")) var person: String
    @Option(help: .tr("First day in post and of the contract.", "上岗日期，也是合同起始日期。")) var start: String?
    @Option(help: .tr("Last day of the contract (before the start's next anniversary).", "合同终止日期（须早于起始日期的下一个周年日，每次签订不超过1年）。")) var end: String?
    @Option(help: .tr("service-agreement (default) or labor-contract.", "合同类型：service-agreement 劳务协议（默认）或 labor-contract 劳动合同。")) var kind: String?
    @Flag(help: .tr("Cancel the person's latest placement, typed in by mistake (with --reason).", "撤销该人员最近一次误录的聘用（须给出 --reason）。")) var void = false
    @Option(help: .tr("With --void: why the placement is cancelled.", "与 --void 同用：撤销的原因。")) var reason: String?
    func validate() throws {
        if void {
            guard post == nil, start == nil, end == nil, kind == nil else {
                throw ValidationError("--void takes only --person and --reason: it cancels the person's latest placement")
            }
            guard reason != nil else { throw ValidationError("--void needs --reason: say why the placement is cancelled") }
        } else {
            guard post != nil, start != nil, end != nil else { throw ValidationError("a hire needs --post, --start and --end") }
            guard reason == nil else { throw ValidationError("--reason goes with --void") }
        }
    }

    func run() throws {
        let id = try Persons.parseID(person)
        if void {
            let reason = try Parse.text(self.reason ?? "", "--reason", .freeText)
            let connection = try global.connect()
            let voided = try Placements.void(connection, person: id, reason: reason)
            global.output.say(Text(en: "cancelled (payroll takes back what approved months paid for it on its next run):",
                                   zh: "已撤销该聘用（已审核月份的发放将在下次生成工资表时扣回）："))
            printPlacement(voided.placement, global, try Vocabulary.load(connection),
                           extra: [(Column("void_reason", "cancelled because", "撤销原因"), voided.reason)])
            return
        }
        let start = try Parse.day(self.start ?? "", "--start"), end = try Parse.day(self.end ?? "", "--end")
        let connection = try global.connect()
        let placement = try Placements.hire(connection, post: post ?? "", person: id, start: start, end: end, kind: kind)
        printPlacement(placement, global, try Vocabulary.load(connection))
    }
}

struct Renew: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "renew", abstract: tr("Sign the next contract of a person's open placement.", "为在岗人员续签下一份合同。"))
    @OptionGroup var global: GlobalOptions
    @Option(help: .tr("Resident ID.", "身份证号。")) var person: String
    @Option(help: .tr("First day (default: the day after the current contract ends).", "起始日期（默认：现合同终止日的次日）。")) var start: String?
    @Option(help: .tr("Last day of the contract.", "合同终止日期。")) var end: String
    @Option(help: .tr("service-agreement (default) or labor-contract.", "合同类型：service-agreement 劳务协议（默认）或 labor-contract 劳动合同。")) var kind: String?

    func run() throws {
        let id = try Persons.parseID(person)
        let start = try self.start.map { try Parse.day($0, "--start") }, end = try Parse.day(self.end, "--end")
        let connection = try global.connect()
        let placement = try Placements.renew(connection, person: id, start: start, end: end, kind: kind)
        printPlacement(placement, global, try Vocabulary.load(connection))
    }
}

struct Exit: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "exit", 
        abstract: tr("Close a person's open placement (有序退岗); the date is their last day in post. With --correct, change the exit date or reason of their latest placement.",
                     "为人员办理退岗（有序退岗）；日期为最后在岗日。用 --correct 更正其最近一次退岗的日期或原因。"))
    @OptionGroup var global: GlobalOptions
    @Option(help: .tr("Resident ID.", "身份证号。")) var person: String
    @Option(help: .tr("Last day in post (may be in the past; before any recorded death).", "最后在岗日（可以是过去的日期；须在登记的死亡日期之前）。")) var on: String?
    @Option(help: .tr("Exit reason code or label.", "退岗原因（代码或中文名称）。")) var reason: String?
    @Flag(help: .tr("Correct the exit date or reason of the person's latest placement (give the corrected --on, --reason or both).", "更正该人员最近一次退岗的日期或原因（给出更正后的 --on、--reason 或两者）。")) var correct = false
    func validate() throws {
        if !correct {
            guard on != nil, reason != nil else { throw ValidationError("an exit needs --on and --reason") }
        }
    }

    func run() throws {
        let id = try Persons.parseID(person)
        let day = try on.map { try Parse.day($0, "--on") }
        let connection = try global.connect()
        let placement = correct
            ? try Placements.correctExit(connection, person: id, on: day, reason: reason)
            : try Placements.exit(connection, person: id, on: day!, reason: reason ?? "")
        printPlacement(placement, global, try Vocabulary.load(connection))
    }
}

struct InsuranceCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "insurance", abstract: tr("Accident-injury insurance policies.", "意外伤害商业保险。"), subcommands: [Add.self, Import.self])

    struct Add: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "add", abstract: tr("Record a policy (the same person, insurer and number replaces it).", "登记一份保单（同一人员、保险公司和保单号的记录将被替换）。"))
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
        static let configuration = CommandConfiguration(commandName: "import", abstract: tr("Import policies from CSV.", "从 CSV 文件导入保单。"))
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
        commandName: "due", abstract: tr("What is overdue or falls due soon: contracts ending, insurance ending, people ageing out.", "已逾期或即将到期的事项：合同到期、保险到期、人员超龄。"))
    @OptionGroup var global: GlobalOptions
    @Option(help: .tr("Only posts in this region and below.", "只看该区划及其下级的岗位。")) var region: String?
    @Option(help: .tr("Days ahead to look (default 30).", "向后查看的天数（默认 30）。")) var within: Int = 30
    @Flag(help: .tr("Show full resident IDs.", "显示完整的身份证号。")) var reveal = false

    func run() throws {
        let within = try Parse.number(self.within, "--within", 0...3660)
        let connection = try global.connect()
        try checkReveal(reveal, connection)
        let items = try Due.list(connection, region: region, within: within)
        let kinds: [String: String] = ["contract-ends": "合同到期", "insurance-ends": "保险到期", "ages-out": "超龄"]
        let zh = global.lang == .zh
        global.output.list(
            [Column("kind", "due", "事项"), Column("due_on", "on", "日期"), Column("overdue", "overdue", "已逾期"),
             Column("post_id", "post", "岗位编号"), Column("region", "region", "区划"), Column("name", "name", "姓名"),
             Column("id_number", "resident ID", "身份证号")],
            items.map { item in
                [zh ? kinds[item.kind] ?? item.kind : item.kind, item.dueOn.iso, item.overdue ? (zh ? "是" : "yes") : (zh ? "否" : "no"),
                 item.postID, item.regionName, item.name, masked(item.idNumber, reveal: reveal)]
            })
    }
}
