import ArgumentParser
import Foundation
import Postgres
import WelfarePosts

struct Assess: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Record a person's assessment for a month (pass or fail, absent days).")
    @OptionGroup var global: GlobalOptions
    @Option(help: "Resident ID.") var person: String
    @Option(help: "Month assessed (YYYY-MM).") var month: String
    @Option(help: "pass or fail (合格/不合格).") var result: String
    @Option(help: "Days absent in the month (default 0).") var absentDays: Int = 0

    func run() throws {
        let id = try Persons.parseID(person)
        let month = try Parse.month(self.month, "--month")
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
    static let configuration = CommandConfiguration(commandName: "assessment", abstract: "Assessments in bulk.", subcommands: [Import.self])

    struct Import: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Import assessments (id_number 身份证号, month 考核月份, result 考核结果, absent_days 缺勤天数†).")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "CSV file.") var file: String
        @Flag(help: "Check the file and report, without writing.") var dryRun = false

        func run() throws {
            let connection = try global.connect()
            printImport(try Assessments.importFile(connection, file: try Parse.file(file), dryRun: dryRun), global.output)
        }
    }
}

struct PayrollCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "payroll", abstract: "Monthly payroll: run, approve, export, summarise, reconcile.",
        subcommands: [Run.self, Approve.self, Export.self, Summary.self, Reconcile.self, Held.self])

    struct Run: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Write the draft lines of a month (and adjustments of approved earlier months).")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "Month (YYYY-MM).") var month: String
        @Option(help: "Region whose counties to run (default: every county).") var region: String?

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
        static let configuration = CommandConfiguration(
            abstract: "A month's held lines: post subsidy held at zero for want of the evidence the county requires.")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "Month (YYYY-MM).") var month: String
        @Option(help: "Region (default: every county).") var region: String?
        @Flag(help: "Show full resident IDs.") var reveal = false

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
        static let configuration = CommandConfiguration(abstract: "Approve (lock for good) the drafts of a month in a region.")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "Month (YYYY-MM).") var month: String
        @Option(help: "County, or a region whose counties to approve.") var region: String

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
        static let configuration = CommandConfiguration(
            abstract: "Export a month's lines for finance: CSV, UTF-8 with BOM, IDs and accounts in full (Chinese headers with --lang zh).")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "Month (YYYY-MM).") var month: String
        @Option(help: "Region (default: every county).") var region: String?
        @Option(help: "Write to this file instead of standard output.") var output: String?
        @Flag(help: "Also export counties whose payroll is still a draft (a preview).") var draft = false

        func run() throws {
            let month = try Parse.month(self.month, "month")
            let connection = try global.connect()
            // A file is written beside its final name and moved there when complete.
            let partial = output.map { $0 + ".partial" }
            let file = try partial.map { path -> UnsafeMutablePointer<FILE> in
                guard let file = fopen(path, "wb") else {
                    throw AppError.badInput(Text(en: "cannot write \(path)", zh: "无法写入 \(path)"), code: "BAD_FILE")
                }
                return file
            }
            do {
                let lines = try Payroll.export(connection, month: month, region: region, lang: global.lang, includeDraft: draft) { bytes in
                    if let file {
                        _ = bytes.withUnsafeBufferPointer { fwrite($0.baseAddress, 1, $0.count, file) }
                    } else {
                        // Through print, so it never overtakes what was printed before. libpq hands
                        // COPY data over a whole row at a time, so no character is split.
                        print(String(decoding: bytes, as: UTF8.self), terminator: "")
                    }
                }
                if let file, let partial, let output {
                    guard fclose(file) == 0 else {
                        throw AppError.badInput(Text(en: "cannot write \(partial)", zh: "无法写入 \(partial)"), code: "BAD_FILE")
                    }
                    guard rename(partial, output) == 0 else {
                        throw AppError.badInput(Text(en: "cannot write \(output)", zh: "无法写入 \(output)"), code: "BAD_FILE")
                    }
                    FileHandle.standardError.write(Data("\(lines) lines written to \(output)\n".utf8))
                }
            } catch {
                if let file, let partial {
                    fclose(file)
                    unlink(partial)
                }
                throw error
            }
        }
    }

    struct Summary: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Totals of a month: overall and per county, township, funding channel and post type.")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "Month (YYYY-MM).") var month: String
        @Option(help: "Region (default: every county).") var region: String?

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
        static let configuration = CommandConfiguration(
            abstract: "Record what the bank paid for a month (id_number, post_id†, bank_account, amount, paid_on).")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "Month the payments are for (YYYY-MM).") var month: String
        @Argument(help: "The bank's results as CSV.") var file: String
        @Flag(help: "Check the file and report, without writing.") var dryRun = false

        func run() throws {
            let month = try Parse.month(self.month, "month")
            let connection = try global.connect()
            printDisbursements(try Disbursements.importFile(connection, file: try Parse.file(file), month: month, dryRun: dryRun), global)
        }
    }
}

struct DisbursementCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "disbursement", abstract: "Payments made in the past.", subcommands: [Import.self])

    struct Import: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Record past payments of any month (id_number, month, post_id†, bank_account, amount, paid_on).")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "CSV file.") var file: String
        @Flag(help: "Check the file and report, without writing.") var dryRun = false

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
    }
    fields.append((Column("dry_run", "dry run", "试运行"), outcome.dryRun ? "true" : "false"))
    global.output.entity(fields)
}
