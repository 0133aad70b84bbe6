import ArgumentParser
import Foundation
import Postgres
import WelfarePosts

struct Assess: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "assess", abstract: tr("Record a person's assessment for a month (pass or fail, absent days).", "登记人员某月的考核结果（合格或不合格，缺勤天数）。"))
    @OptionGroup var global: GlobalOptions
    @Option(help: .tr("Resident ID.", "身份证号。")) var person: String
    @Option(help: .tr("Month assessed (YYYY-MM).", "考核月份（YYYY-MM）。")) var month: String
    @Option(help: .tr("pass or fail (合格/不合格).", "考核结果：pass 合格 或 fail 不合格。")) var result: String
    @Option(help: .tr("Days absent in the month (default 0).", "当月缺勤天数（默认 0）。")) var absentDays: Int = 0

    func run() throws {
        let id = try Persons.parseID(person)
        let month = try Parse.month(self.month, "--month")
        let absentDays = try Parse.number(self.absentDays, "--absent-days", 0...31)
        let connection = try global.connect()
        let row = try Assessments.record(connection, person: id, month: month, result: result, absentDays: absentDays)
        let vocabulary = try Vocabulary.load(connection)
        global.output.entity([
            (Column("post_id", "post", "岗位编号"), row["post_id"]),
            (Column("month", "month", "考核月份"), row["month"]),
            (Column("result", "result", "考核结果"), row["result"].map { vocabulary.label(.assessmentResult, $0, global.lang) }),
            (Column("absent_days", "absent days", "缺勤天数"), row["absent_days"]),
        ])
    }
}

struct AssessmentCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "assessment", abstract: tr("Assessments in bulk.", "批量导入考核结果。"), subcommands: [Import.self])

    struct Import: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "import", abstract: tr("Import assessments (id_number 身份证号, month 考核月份, result 考核结果, absent_days 缺勤天数†).", "导入考核结果（列：身份证号、考核月份、考核结果、缺勤天数†）。"))
        @OptionGroup var global: GlobalOptions
        @Argument(help: .tr("CSV file.", "CSV 文件。")) var file: String
        @Flag(help: .tr("Check the file and report, without writing.", "试运行：只检查文件并报告，不写入。")) var dryRun = false

        func run() throws {
            let connection = try global.connect()
            printImport(try Assessments.importFile(connection, file: try Parse.file(file), dryRun: dryRun), global.output)
        }
    }
}

struct PayrollCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "payroll", abstract: tr("Monthly payroll: run, approve, export, summarise, reconcile.", "按月发放：生成、审核、导出、汇总、对账。"),
        subcommands: [Run.self, Check.self, Approve.self, Export.self, Summary.self, Reconcile.self, Resubmit.self, Held.self, Notice.self, Timeliness.self])

    struct Run: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "run", abstract: tr("Write the draft lines of a month (and adjustments of approved earlier months).", "生成某月的工资表草稿（以及以前已审核月份的补扣发）。"))
        @OptionGroup var global: GlobalOptions
        @Argument(help: .tr("Month (YYYY-MM).", "月份（YYYY-MM）。")) var month: String
        @Option(help: .tr("Region whose counties to run (default: every county).", "为该区划下的各县生成（默认：所有县）。")) var region: String?

        func run() throws {
            let month = try Parse.month(self.month, "month")
            let connection = try global.connect()
            let outcome = try Payroll.run(connection, month: month, region: region)
            global.output.entity([
                (Column("month", "month", "月份"), month.iso),
                (Column("counties", "counties", "县区"), outcome.counties.joined(separator: ",")),
                (Column("lines", "lines", "工资条数"), String(outcome.regularLines)),
                (Column("adjustment_lines", "adjustment lines", "补扣发条数"), String(outcome.adjustmentLines)),
                (Column("held_lines", "held lines", "暂缓发放条数"), String(outcome.heldLines)),
                (Column("adjustment", "adjustments", "补扣发金额"), Fen(outcome.adjustmentFen).yuanText),
                (Column("total", "total", "合计"), Fen(outcome.totalFen).yuanText),
                (Column("state", "state", "状态"), global.lang == .zh ? "待审核" : "draft"),
            ])
        }
    }

    struct Held: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "held", 
            abstract: tr("A month's held lines: post subsidy held at zero for want of the evidence the county requires.", "某月暂缓发放的明细：缺少本县要求的在岗证明，岗位补贴暂按 0 元计。"))
        @OptionGroup var global: GlobalOptions
        @Argument(help: .tr("Month (YYYY-MM).", "月份（YYYY-MM）。")) var month: String
        @Option(help: .tr("Region (default: every county).", "区划（默认：所有县）。")) var region: String?
        @Flag(help: .tr("Show full resident IDs.", "显示完整的身份证号。")) var reveal = false

        func run() throws {
            let month = try Parse.month(self.month, "month")
            let connection = try global.connect()
            try checkReveal(reveal, connection)
            let zh = global.lang == .zh
            let reasons = ["assessment-missing": "未登记考核", "attendance-missing": "未登记考勤"]
            global.output.list(
                [Column("county_code", "county", "县区代码"), Column("post_id", "post", "岗位编号"), Column("id_number", "resident ID", "身份证号"),
                 Column("name", "name", "姓名"), Column("days_in_post", "days in post", "在岗天数"),
                 Column("social_insurance_subsidy", "social insurance paid", "社保补贴"), Column("held_reason", "held for", "暂缓原因")],
                try Payroll.held(connection, month: month, region: region).map { row in
                    [row["county_code"], row["post_id"], masked(row["id_number"], reveal: reveal), row["name"], row["days_in_post"],
                     yuan(row["social_insurance_fen"]), zh ? row["held_reason"].flatMap { reasons[$0] } : row["held_reason"]]
                })
        }
    }

    struct Approve: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "approve", abstract: tr("Approve (lock for good) the drafts of a month in a region.", "审核某区划某月的工资表草稿（审核后永久锁定）。"))
        @OptionGroup var global: GlobalOptions
        @Argument(help: .tr("Month (YYYY-MM).", "月份（YYYY-MM）。")) var month: String
        @Option(help: .tr("County, or a region whose counties to approve.", "县，或要审核其下各县的区划。")) var region: String

        func run() throws {
            let month = try Parse.month(self.month, "month")
            let connection = try global.connect()
            let counties = try Payroll.approve(connection, month: month, region: region)
            global.output.entity([
                (Column("month", "month", "月份"), month.iso),
                (Column("approved", "approved counties", "已审核县区"), counties.joined(separator: ",")),
            ])
        }
    }

    struct Export: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "export", 
            abstract: tr("Export a month's lines for finance: CSV, UTF-8 with BOM, IDs and accounts in full (Chinese headers with --lang zh).", "为财务导出某月发放明细：CSV，UTF-8 带 BOM，身份证号和账号完整（--lang zh 时为中文表头）。"))
        @OptionGroup var global: GlobalOptions
        @Argument(help: .tr("Month (YYYY-MM).", "月份（YYYY-MM）。")) var month: String
        @Option(help: .tr("Region (default: every county).", "区划（默认：所有县）。")) var region: String?
        @Flag(help: .tr("Also export counties whose payroll is still a draft (a preview).", "同时导出工资表仍为草稿的县（仅供预览）。")) var draft = false
        @Option(help: .tr("Write the bank's files by this bank profile (see `bank profile list`) into the folder --output names: one person-post a row, netted, split into batches.", "按该银行模板（银行模板由 bank profile 命令管理）将银行文件写入 --output 指定的文件夹：每人每岗一行（轧差），按批次拆分。"))
        var profile: String?

        func run() throws {
            let month = try Parse.month(self.month, "month")
            if let profile {
                try exportByProfile(month, profile)
                return
            }
            // Refused (exit 2) before the database is asked anything; see SafeFile for how the
            // file is made: 0600, a fresh name in the same folder, renamed when complete.
            try global.checkOutput()
            let connection = try global.connect()
            // A draft says 草稿 DRAFT in its file name and in every row (SPEC §15).
            let draft = self.draft ? try BankExport.includesDraft(connection, month: month, region: region) : false
            let output = global.outputFile.map { draft ? BankExport.draftName($0) : $0 }
            if let output { try SafeFile.check(output) }
            let mark = Array(("," + BankExport.draftMark).utf8)
            let file = try output.map { try SafeFile(path: $0) }
            // Any failure below (a refusal, a cancelled statement, a write error) removes it.
            defer { file?.discard() }
            let workbook = global.format == .xlsx ? try XLSXWriter() : nil
            if let workbook {
                try workbook.beginSheet(month.iso)
                try workbook.row(Payroll.exportColumns.map { .text(global.lang == .zh ? $0.zh : $0.key) } + (draft ? [.text(BankExport.draftMark)] : []))
            }
            let lines = try Payroll.export(connection, month: month, region: region, lang: global.lang, includeDraft: self.draft) { raw in
                var bytes = raw
                if draft && workbook == nil && bytes.last == 0x0A {
                    // Every line, the header's too, ends with the mark.
                    bytes = []
                    for byte in raw {
                        if byte == 0x0A { bytes += mark }
                        bytes.append(byte)
                    }
                }
                if let workbook {
                    // The CSV rows as cells: IDs and accounts text, amounts numbers (0.00).
                    guard bytes.first != 0xEF, !bytes.starts(with: Array("month,".utf8)), !bytes.starts(with: Array("发放月份,".utf8)) else { return }
                    for record in CSVLine.records(bytes) {
                        try workbook.row(zip(Payroll.exportColumns, record).map { XLSXCell.guess(key: $0.key, value: $1) }
                                         + (draft ? [.text(BankExport.draftMark)] : []))
                    }
                } else if let file {
                    try file.write(bytes)
                } else {
                    // Through print, so it never overtakes what was printed before. libpq hands
                    // COPY data over a whole row at a time, so no character is split.
                    print(String(decoding: bytes, as: UTF8.self), terminator: "")
                }
            }
            if let file, let output {
                try workbook?.finish(into: file)
                try file.commit()
                let written = Text(en: "\(lines) lines written to \(output)", zh: "已写入 \(lines) 行：\(output)")
                FileHandle.standardError.write(Data((written(global.lang) + "\n").utf8))
            }
        }
    }

    struct Summary: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "summary", abstract: tr("Totals of a month: overall and per county, township, funding channel and post type.", "某月合计：总计，以及按县、乡镇、资金渠道和岗位类型的小计。"))
        @OptionGroup var global: GlobalOptions
        @Argument(help: .tr("Month (YYYY-MM).", "月份（YYYY-MM）。")) var month: String
        @Option(help: .tr("Region (default: every county).", "区划（默认：所有县）。")) var region: String?

        func run() throws {
            let month = try Parse.month(self.month, "month")
            let connection = try global.connect()
            let vocabulary = try Vocabulary.load(connection)
            let lang = global.lang
            let dimensions: [String: String] = ["total": "合计", "county": "县区", "township": "乡镇", "funding_channel": "资金渠道", "post_type": "岗位类型"]
            global.output.list(
                [Column("dimension", "by", "维度"), Column("key", "key", "代码"), Column("name", "name", "名称"),
                 Column("people", "people", "人数"), Column("lines", "lines", "条数"), Column("adjustment", "adjustments", "补扣发"),
                 Column("total", "total", "合计")],
                try Payroll.summary(connection, month: month, region: region).map { row in
                    let dimension = row["dimension"] ?? ""
                    let key = row["key"] ?? ""
                    let name: String? = switch dimension {
                    case "funding_channel": vocabulary.label(.fundingChannel, key, .zh)
                    case "post_type": vocabulary.label(.postType, key, .zh)
                    default: row["label"]
                    }
                    return [lang == .zh ? dimensions[dimension] : dimension, key, name, row["people"], row["lines"],
                            yuan(row["adjustment_fen"]), yuan(row["total_fen"])]
                })
        }
    }

    struct Reconcile: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "reconcile", 
            abstract: tr("Record the bank's results for a month (id_number, post_id†, bank_account, amount, paid_on, status†, failure_reason†, reference†): payments, failures, and what is missing.", "登记银行某月的回单（列：身份证号、岗位编号†、银行账号、金额、发放日期、状态†、失败原因†、交易流水号†）：成功、失败及缺少回单的笔数。"))
        @OptionGroup var global: GlobalOptions
        @Argument(help: .tr("Month the payments are for (YYYY-MM).", "发放所属月份（YYYY-MM）。")) var month: String
        @Argument(help: .tr("The bank's results as CSV.", "银行返回的结果文件（CSV）。")) var file: String
        @Flag(help: .tr("Check the file and report, without writing.", "试运行：只检查文件并报告，不写入。")) var dryRun = false

        func run() throws {
            let month = try Parse.month(self.month, "month")
            let connection = try global.connect()
            printDisbursements(try Disbursements.importFile(connection, file: try Parse.file(file), month: month, dryRun: dryRun), global)
        }
    }
}

struct DisbursementCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "disbursement", abstract: tr("Payments made in the past.", "历史发放记录。"), subcommands: [Import.self])

    struct Import: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "import", 
            abstract: tr("Record past payments of any month (id_number, month, post_id†, bank_account, amount, paid_on).", "登记任意月份的历史发放（列：身份证号、发放月份、岗位编号†、银行账号、金额、发放日期）。"))
        @OptionGroup var global: GlobalOptions
        @Argument(help: .tr("CSV file.", "CSV 文件。")) var file: String
        @Flag(help: .tr("Check the file and report, without writing.", "试运行：只检查文件并报告，不写入。")) var dryRun = false

        func run() throws {
            let connection = try global.connect()
            printDisbursements(try Disbursements.importFile(connection, file: try Parse.file(file), month: nil, dryRun: dryRun), global)
        }
    }
}

func printDisbursements(_ outcome: Disbursements.Outcome, _ global: GlobalOptions) {
    if outcome.dryRun {
        global.output.say(Text(en: "dry run: the file is valid; nothing was written", zh: "试运行：文件无误，未写入任何数据"))
    }
    var fields: [(Column, String?)] = [
        (Column("rows", "payments", "笔数"), String(outcome.rows)),
        (Column("paid", "paid", "实发金额"), Fen(outcome.paidFen).yuanText),
    ]
    if let booked = outcome.bookedFen, let mismatches = outcome.mismatches {
        fields.append((Column("booked", "booked by the approved payroll", "应发金额"), Fen(booked).yuanText))
        fields.append((Column("mismatches", "people paid other than booked", "实发与应发不符人数"), String(mismatches)))
        fields.append((Column("failed", "failed transfers", "失败笔数"), String(outcome.failed)))
        fields.append((Column("failed_amount", "failed amount", "失败金额"), Fen(outcome.failedFen).yuanText))
        if let missing = outcome.missing, let missingFen = outcome.missingFen {
            fields.append((Column("missing", "approved lines without a result", "无回单笔数"), String(missing)))
            fields.append((Column("missing_amount", "amount without a result", "无回单金额"), Fen(missingFen).yuanText))
        }
    }
    fields.append((Column("dry_run", "dry run", "试运行"), outcome.dryRun ? "true" : "false"))
    global.output.entity(fields)
}
