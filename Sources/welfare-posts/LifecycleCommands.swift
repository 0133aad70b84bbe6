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
        commandName: "post", abstract: "Posts: propose, approve, reject, close, list, show.",
        subcommands: [Propose.self, Approve.self, Reject.self, Close.self, List.self, Show.self])

    struct Propose: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Propose a post in a township or village (按需设岗).")
        @OptionGroup var global: GlobalOptions
        @Option(help: "Township or village code.") var region: String
        @Option(help: "Post type code or label.") var type: String
        @Option(help: "Funding channel code or label.") var funding: String
        @Option(help: "Who develops the post (开发主体).") var developer: String
        @Option(help: "The need the post answers.") var need: String
        @Option(help: "Date of the proposal (default today).") var on: String?

        func run() throws {
            let day = try on.map { try Parse.day($0, "--on") } ?? .today()
            let connection = try global.connect()
            let post = try Posts.propose(connection, region: region, type: type, funding: funding, developer: developer, need: need, on: day)
            printPost(post, global, try Vocabulary.load(connection))
        }
    }

    struct Approve: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Approve a proposed post (checks PAY_STANDARD and QUOTA).")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "Post ID.") var post: String
        @Option(help: "Approval date (default today; on or after the proposal).") var on: String?

        func run() throws {
            let day = try on.map { try Parse.day($0, "--on") } ?? .today()
            let connection = try global.connect()
            printPost(try Posts.approve(connection, post, on: day), global, try Vocabulary.load(connection))
        }
    }

    struct Reject: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Reject a proposed post.")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "Post ID.") var post: String
        @Option(help: "Why.") var reason: String
        @Option(help: "Date of the rejection (default today; on or after the proposal).") var on: String?

        func run() throws {
            let day = try on.map { try Parse.day($0, "--on") } ?? .today()
            let connection = try global.connect()
            printPost(try Posts.reject(connection, post, reason: reason, on: day), global, try Vocabulary.load(connection))
        }
    }

    struct Close: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Close an approved post from a date on (it must be vacant from then).")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "Post ID.") var post: String
        @Option(help: "First day the post no longer exists.") var on: String
        @Option(help: "Why.") var reason: String
        @Flag(help: "End the holder's placement the day before, with reason post-closed.") var exitHolder = false

        func run() throws {
            let day = try Parse.day(on, "--on")
            let connection = try global.connect()
            printPost(try Posts.close(connection, post, on: day, reason: reason, exitHolder: exitHolder), global, try Vocabulary.load(connection))
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List posts as they stood on a day: their state then and their holder then.")
        @OptionGroup var global: GlobalOptions
        @Option(help: "Only posts in this region and below.") var region: String?
        @Option(help: "proposed, approved, rejected or closed (the state on the day).") var state: String?
        @Flag(help: "Only approved posts nobody holds on the day.") var vacant = false
        @Option(help: "The day (default today).") var on: String?
        @Flag(help: "Show holders' full resident IDs.") var reveal = false

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
        static let configuration = CommandConfiguration(abstract: "Show a post and everyone who has held it.")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "Post ID.") var post: String
        @Flag(help: "Show holders' full resident IDs.") var reveal = false

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
    static let configuration = CommandConfiguration(
        abstract: "Hire a person into a post with a first contract (以岗聘任); or, with --void, cancel a placement typed in by mistake.")
    @OptionGroup var global: GlobalOptions
    @Option(help: "Post ID.") var post: String?
    @Option(help: "Resident ID.") var person: String
    @Option(help: "First day in post and of the contract.") var start: String?
    @Option(help: "Last day of the contract (before the start's next anniversary).") var end: String?
    @Option(help: "service-agreement (default) or labor-contract.") var kind: String?
    @Flag(help: "Cancel the person's latest placement, typed in by mistake (with --reason).") var void = false
    @Option(help: "With --void: why the placement is cancelled.") var reason: String?

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
            let connection = try global.connect()
            let voided = try Placements.void(connection, person: id, reason: reason ?? "")
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
    static let configuration = CommandConfiguration(abstract: "Sign the next contract of a person's open placement.")
    @OptionGroup var global: GlobalOptions
    @Option(help: "Resident ID.") var person: String
    @Option(help: "First day (default: the day after the current contract ends).") var start: String?
    @Option(help: "Last day of the contract.") var end: String
    @Option(help: "service-agreement (default) or labor-contract.") var kind: String?

    func run() throws {
        let id = try Persons.parseID(person)
        let start = try self.start.map { try Parse.day($0, "--start") }, end = try Parse.day(self.end, "--end")
        let connection = try global.connect()
        let placement = try Placements.renew(connection, person: id, start: start, end: end, kind: kind)
        printPlacement(placement, global, try Vocabulary.load(connection))
    }
}

struct Exit: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Close a person's open placement (有序退岗); the date is their last day in post. With --correct, change the exit date or reason of their latest placement.")
    @OptionGroup var global: GlobalOptions
    @Option(help: "Resident ID.") var person: String
    @Option(help: "Last day in post (may be in the past; before any recorded death).") var on: String?
    @Option(help: "Exit reason code or label.") var reason: String?
    @Flag(help: "Correct the exit date or reason of the person's latest placement (give the corrected --on, --reason or both).") var correct = false

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
        commandName: "insurance", abstract: "Accident-injury insurance policies.", subcommands: [Add.self, Import.self])

    struct Add: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Record a policy (the same person, insurer and number replaces it).")
        @OptionGroup var global: GlobalOptions
        @Option(help: "Resident ID.") var person: String
        @Option(help: "Insurance company.") var insurer: String
        @Option(help: "Policy number.") var policy: String
        @Option(help: "First day covered.") var from: String
        @Option(help: "Last day covered.") var to: String
        @Option(help: "Premium in yuan.") var premium: String?

        func run() throws {
            let id = try Persons.parseID(person)
            let from = try Parse.day(self.from, "--from"), to = try Parse.day(self.to, "--to")
            let premium = try self.premium.map { try Parse.yuan($0, "--premium") }
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
        static let configuration = CommandConfiguration(abstract: "Import policies from CSV.")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "CSV file: UTF-8 (with or without BOM) or GBK.") var file: String
        @Flag(help: "Check the file and report, without writing.") var dryRun = false

        func run() throws {
            let connection = try global.connect()
            printImport(try Insurance.importFile(connection, file: try Parse.file(file), dryRun: dryRun), global.output)
        }
    }
}

struct DueCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "due", abstract: "What is overdue or falls due soon: contracts ending, insurance ending, people ageing out.")
    @OptionGroup var global: GlobalOptions
    @Option(help: "Only posts in this region and below.") var region: String?
    @Option(help: "Days ahead to look (default 30).") var within: Int = 30
    @Flag(help: "Show full resident IDs.") var reveal = false

    func run() throws {
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
