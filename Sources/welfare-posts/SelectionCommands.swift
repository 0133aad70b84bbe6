import ArgumentParser
import Foundation
import Postgres
import WelfarePosts

/// Writes a file the tool produces (a notice sheet). One function, so how files are written
/// (permissions, links) is decided in one place.
/// Writes a whole file through the safe writer (0600, never through a link, complete or absent).
func writeOutputFile(_ path: String, _ bytes: [UInt8]) throws {
    try SafeFile.check(path)
    let file = try SafeFile(path: path)
    defer { file.discard() }
    try file.write(bytes)
    try file.commit()
}

struct Apply: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "apply", abstract: tr("Record a person's application for a post (报名).", "登记某人报名某个岗位。"))
    @OptionGroup var global: GlobalOptions
    @Option(help: .tr("Post ID.", "岗位编号。")) var post: String
    @Option(help: .tr("Resident ID.", "身份证号。")) var person: String
    @Option(help: .tr("Date of the application (default today).", "报名日期（默认今天）。")) var on: String?

    func run() throws {
        let id = try Persons.parseID(person)
        let day = try on.map { try Parse.day($0, "--on") } ?? .today()
        let connection = try global.connect()
        let row = try Applications.apply(connection, post: post, person: id, on: day)
        global.output.entity([
            (Column("post_id", "post", "岗位编号"), row["post_id"]),
            (Column("id_number", "resident ID", "身份证号"), masked(row["id_number"])),
            (Column("name", "name", "姓名"), row["name"]),
            (Column("applied_on", "applied on", "报名日期"), row["applied_on"]),
        ])
    }
}

struct ApplicationCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "application", abstract: tr("Applications for posts.", "岗位报名。"), subcommands: [Import.self])

    struct Import: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "import", 
            abstract: tr("Import applications from CSV (post_id 岗位编号, id_number 身份证号, applied_on 报名日期).", "从 CSV 文件导入报名（列：岗位编号、身份证号、报名日期）。"))
        @OptionGroup var global: GlobalOptions
        @Argument(help: .tr("CSV file: UTF-8 (with or without BOM) or GBK.", "CSV 文件：UTF-8（有无 BOM 均可）或 GBK 编码。")) var file: String
        @Flag(help: .tr("Check the file and report, without writing.", "试运行：只检查文件并报告，不写入。")) var dryRun = false

        func run() throws {
            let connection = try global.connect()
            printImport(try Applications.importFile(connection, file: try Parse.file(file), dryRun: dryRun), global.output)
        }
    }
}

struct Applicants: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "applicants", 
        abstract: tr("A post's applicants ranked by the policy's priority, with the rules each would break if hired on the day.", "某岗位的报名人员，按政策规定的优先顺序排列，并列出每人如在该日聘用将不符合的规则。"))
    @OptionGroup var global: GlobalOptions
    @Option(help: .tr("Post ID.", "岗位编号。")) var post: String
    @Option(help: .tr("The day of the intended hire (default today).", "拟聘用日期（默认今天）。")) var on: String?
    @Flag(help: .tr("Show full resident IDs.", "显示完整的身份证号。")) var reveal = false

    func run() throws {
        let day = try on.map { try Parse.day($0, "--on") } ?? .today()
        let connection = try global.connect()
        try checkReveal(reveal, connection)
        let vocabulary = try Vocabulary.load(connection)
        let lang = global.lang
        let rows = try Applications.ranked(connection, post: post, on: day)
        global.output.list(
            [Column("rank", "rank", "排序"), Column("id_number", "resident ID", "身份证号"), Column("name", "name", "姓名"),
             Column("category", "category", "人员类别"), Column("labour_capacity", "capacity", "劳动能力"), Column("age", "age", "年龄"),
             Column("applied_on", "applied on", "报名日期"), Column("breaks", "would break", "不符合的规则"),
             Column("notice", "notice", "公示编号"), Column("notice_to", "notice ends", "公示截止"), Column("notice_state", "notice state", "公示状态")],
            rows.map { row in
                [row["rank"], masked(row["id_number"], reveal: reveal), row["name"],
                 row["category"].map { vocabulary.label(.personCategory, $0, lang) },
                 row["labour_capacity"].map { vocabulary.label(.labourCapacity, $0, lang) }, row["age"], row["applied_on"],
                 row["breaks"].flatMap { $0.isEmpty ? nil : $0 }, row["notice"], row["notice_to"],
                 row["notice_state"].map { noticeStateLabel($0, lang) }]
            })
    }
}

func noticeStateLabel(_ state: String, _ lang: Lang) -> String {
    guard lang == .zh else { return state }
    return ["scheduled": "未开始", "running": "公示中", "ended": "已结束", "upheld": "异议成立", "objection-open": "异议待处理"][state] ?? state
}

/// Prints a notice with its objections.
func printNotice(_ notice: Row, _ objections: [Row], _ global: GlobalOptions, reveal: Bool = false) {
    let lang = global.lang
    global.output.entity([
        (Column("id", "notice", "公示编号"), notice["id"]),
        (Column("post_id", "post", "岗位编号"), notice["post_id"]),
        (Column("region", "region", "区划"), notice["region_name"]),
        (Column("id_number", "resident ID", "身份证号"), masked(notice["id_number"], reveal: reveal)),
        (Column("name", "name", "姓名"), notice["name"]),
        (Column("from", "from", "公示开始"), notice["from_on"]),
        (Column("to", "to", "公示截止"), notice["to_on"]),
        (Column("days", "days", "天数"), notice["days"]),
        (Column("contact", "objections to", "异议受理"), notice["contact"]),
        (Column("state", "state", "状态"), noticeStateLabel(Notices.state(notice, on: .today()), lang)),
    ], sections: [Output.Section(
        key: "objections", title: Text(en: "Objections", zh: "异议"),
        columns: [Column("id", "objection", "异议编号"), Column("raised_on", "raised on", "提出日期"), Column("reason", "reason", "异议内容"),
                  Column("finding", "finding", "处理结论"), Column("note", "note", "处理意见"), Column("resolved_on", "resolved on", "处理日期")],
        rows: objections.map { row in
            [row["id"], row["raised_on"], row["reason"],
             row["finding"].map { lang == .zh ? ($0 == "upheld" ? "成立" : "不成立") : $0 }, row["note"], row["resolved_on"]]
        })])
}

struct NoticeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "notice", abstract: tr("Public notices (公示) of intended hires: publish, object, resolve, list, print.", "拟聘用人员公示：发布、提出异议、处理异议、列表、打印公示表。"),
        subcommands: [Publish.self, Object.self, Resolve.self, List.self, Print.self])

    struct Publish: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "publish", abstract: tr("Publicise an applicant as the intended holder of a post.", "将一名报名人员作为某岗位的拟聘用人员予以公示。"))
        @OptionGroup var global: GlobalOptions
        @Option(help: .tr("Post ID.", "岗位编号。")) var post: String
        @Option(help: .tr("Resident ID of the applicant.", "报名人员的身份证号。")) var person: String
        @Option(help: .tr("First day of the notice.", "公示开始日期。")) var from: String
        @Option(help: .tr("Calendar days (default: the policy's notice days; never fewer).", "公示的自然日天数（默认：政策规定的公示天数；不得少于该天数）。")) var days: Int?
        @Option(help: .tr("Where and to whom objections go (default: the post's developer).", "异议受理单位及联系方式（默认：该岗位的开发主体）。")) var contact: String?

        func run() throws {
            let id = try Persons.parseID(person)
            let from = try Parse.day(self.from, "--from")
            let connection = try global.connect()
            let notice = try Notices.publish(connection, post: post, person: id, from: from, days: days, contact: contact)
            printNotice(notice, [], global)
        }
    }

    struct Object: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "object", abstract: tr("Record an objection to a notice, raised during it.", "登记公示期内对公示提出的异议。"))
        @OptionGroup var global: GlobalOptions
        @Argument(help: .tr("Notice number.", "公示编号。")) var notice: String
        @Option(help: .tr("What the objection says.", "异议内容。")) var reason: String
        @Option(help: .tr("The day it was raised (default today).", "提出异议的日期（默认今天）。")) var on: String?

        func run() throws {
            let day = try on.map { try Parse.day($0, "--on") } ?? .today()
            let connection = try global.connect()
            let row = try Notices.object(connection, notice: notice, reason: reason, on: day)
            printNotice(row, try Notices.objections(connection, notice), global)
        }
    }

    struct Resolve: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "resolve", 
            abstract: tr("Resolve a notice's open objections: upheld (no hire on this notice) or dismissed.", "处理公示中待处理的异议：异议成立（不得依据本次公示聘用）或异议不成立。"))
        @OptionGroup var global: GlobalOptions
        @Argument(help: .tr("Notice number.", "公示编号。")) var notice: String
        @Flag(help: .tr("The objection is founded: the hire may not follow this notice.", "异议成立：不得依据本次公示聘用。")) var upheld = false
        @Flag(help: .tr("The objection is unfounded.", "异议不成立。")) var dismissed = false
        @Option(help: .tr("The finding, in words.", "处理意见（文字说明）。")) var note: String
        @Option(help: .tr("Only this objection (default: every open objection of the notice).", "只处理该编号的异议（默认：该公示全部待处理的异议）。")) var objection: Int64?
        @Option(help: .tr("The day of the finding (default today).", "处理日期（默认今天）。")) var on: String?

        func validate() throws {
            guard upheld != dismissed else { throw ValidationError("give exactly one of --upheld and --dismissed") }
        }

        func run() throws {
            let day = try on.map { try Parse.day($0, "--on") } ?? .today()
            let connection = try global.connect()
            let row = try Notices.resolve(connection, notice: notice, upheld: upheld, note: note, objection: objection, on: day)
            printNotice(row, try Notices.objections(connection, notice), global)
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "list", abstract: tr("List notices, newest first, with their state on a day.", "列出公示（最新的在前）及其在某日的状态。"))
        @OptionGroup var global: GlobalOptions
        @Option(help: .tr("Only this post's notices.", "只看该岗位的公示。")) var post: String?
        @Option(help: .tr("Only posts in this region and below.", "只看该区划及其下级的岗位。")) var region: String?
        @Option(help: .tr("The day the state is read on (default today).", "查看哪一天的状态（默认今天）。")) var on: String?
        @Flag(help: .tr("Show full resident IDs.", "显示完整的身份证号。")) var reveal = false

        func run() throws {
            let day = try on.map { try Parse.day($0, "--on") } ?? .today()
            let connection = try global.connect()
            try checkReveal(reveal, connection)
            let rows = try Notices.list(connection, post: post, region: region)
            global.output.list(
                [Column("id", "notice", "公示编号"), Column("post_id", "post", "岗位编号"), Column("region", "region", "区划"),
                 Column("id_number", "resident ID", "身份证号"), Column("name", "name", "姓名"), Column("from", "from", "公示开始"),
                 Column("to", "to", "公示截止"), Column("days", "days", "天数"), Column("objections", "objections", "异议数"),
                 Column("open_objections", "open", "待处理"), Column("upheld", "upheld", "成立"), Column("state", "state", "状态")],
                rows.map { row in
                    [row["id"], row["post_id"], row["region_name"], masked(row["id_number"], reveal: reveal), row["name"],
                     row["from_on"], row["to_on"], row["days"], row["objections"], row["open_objections"], row["upheld"],
                     noticeStateLabel(Notices.state(row, on: day), global.lang)]
                })
        }
    }

    struct Print: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "print", 
            abstract: tr("Write the sheet posted in the village: one HTML page for A4, self-contained, with the resident ID masked.", "生成在村内张贴的公示表：一页可在 A4 纸上打印的 HTML 页面，不依赖其他文件，身份证号隐去部分。"))
        @OptionGroup var global: GlobalOptions
        @Argument(help: .tr("Notice number.", "公示编号。")) var notice: String
        func run() throws {
            guard let output = global.outputFile else {
                throw AppError.badInput(Text(en: "give --output FILE.html: the sheet is written to a file", zh: "请给出 --output 文件名.html：公示表写入文件"), code: "BAD_OUTPUT")
            }
            try SafeFile.check(output)
            let connection = try global.connect()
            let sheet = try Notices.sheet(connection, notice)
            try writeOutputFile(output, Array(sheet.html.utf8))
            global.output.say(Text(en: "notice \(notice) written to \(output)", zh: "公示 \(notice) 已写入 \(output)"))
        }
    }
}
