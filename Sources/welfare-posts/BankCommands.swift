import ArgumentParser
import Foundation
import Postgres
import WelfarePosts

extension PayrollCommand.Export {
    /// `--profile`: the bank's files, named by the tool, in the folder --output names.
    func exportByProfile(_ month: Month, _ profile: String) throws {
        guard let folder = global.outputFile else {
            throw AppError.badInput(Text(en: "--profile writes the bank's files into a folder: give it with --output, e.g. --output bank/",
                                         zh: "--profile 会把银行文件写入文件夹：请用 --output 指定，例如 --output bank/"), code: "BAD_OUTPUT")
        }
        let connection = try global.connect(outputIsFolder: true)
        let outcome = try BankExport.export(connection, month: month, region: region, profileName: profile, folder: folder,
                                            includeDraft: draft, lang: global.lang)
        printBankFiles(outcome, folder: folder, global)
    }
}

/// The files written, one row each, then what was left out (to standard output: --output is
/// the folder of the files).
func printBankFiles(_ outcome: BankExport.Outcome, folder: String, _ global: GlobalOptions) {
    let output = Output(format: global.format == .xlsx || global.format == nil ? (isatty(STDOUT_FILENO) == 1 ? .table : .csv) : global.format!,
                        lang: global.lang)
    var rows = outcome.files.map { [$0.batch, $0.name, String($0.rows), Fen($0.totalFen).yuanText] as [String?] }
    if let control = outcome.control { rows.append(["", control, String(outcome.rows), Fen(outcome.totalFen).yuanText]) }
    output.list([Column("batch", "batch", "批次号"), Column("file", "file", "文件名"), Column("rows", "rows", "笔数"), Column("total", "total", "金额")], rows)
    if outcome.draft {
        output.say(Text(en: "草稿 DRAFT: a preview of a payroll not yet approved; do not send it to the bank", zh: "草稿 DRAFT：工资表尚未审核，仅供预览，不得报送银行"))
    }
    if outcome.zeroNets > 0 || outcome.negativeNets > 0 {
        output.say(Text(
            en: "left out: \(outcome.zeroNets) person-post(s) netting to zero; \(outcome.negativeNets) netting below zero, owing \(Fen(outcome.negativeFen).yuanText) (see `recovery list`)",
            zh: "未列入：轧差为零 \(outcome.zeroNets) 人次；轧差为负 \(outcome.negativeNets) 人次，应追回 \(Fen(outcome.negativeFen).yuanText) 元（见 `recovery list`）"))
    }
    let written = outcome.control == nil
        ? Text(en: "\(outcome.files.count) file(s) written: \(outcome.files.map(\.name).joined(separator: ", "))",
               zh: "已写入 \(outcome.files.count) 个文件：\(outcome.files.map(\.name).joined(separator: "、"))")
        : Text(en: "\(outcome.files.count) file(s) and a control sheet written to \(folder)", zh: "已写入 \(outcome.files.count) 个文件及控制表：\(folder)")
    FileHandle.standardError.write(Data((written(global.lang) + "\n").utf8))
}

struct BankCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "bank", abstract: tr("The files the paying banks take.", "代发银行的文件格式。"),
                                                    subcommands: [Profile.self])

    struct Profile: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "profile", abstract: tr("Bank profiles: the columns, encoding and format of a bank's or the 一卡通 platform's file.", "银行模板：代发银行或“一卡通”平台文件的列、编码和格式。"),
                                                        subcommands: [Add.self, List.self])

        struct Add: ParsableCommand {
            static let configuration = CommandConfiguration(commandName: "add", abstract: tr("Add a bank profile to a county, or replace the one of that name.", "为县添加银行模板，或替换同名模板。"))
            @OptionGroup var global: GlobalOptions
            @Argument(help: .tr("The profile's name, e.g. 农商行 or 一卡通.", "模板名称，例如 农商行 或 一卡通。")) var name: String
            @Option(help: .tr("Columns in order, each key or key:name (keys: seq, batch and the export's columns), e.g. seq:序号,name:姓名,bank_account:帐号,total:金额,id_number:身份证.", "按顺序列出各列，每列写 key 或 key:列名（key 为 seq、batch 及导出文件的各列），例如 seq:序号,name:姓名,bank_account:帐号,total:金额,id_number:身份证。"))
            var columns: String
            @Option(help: .tr("utf-8 or gbk.", "编码：utf-8 或 gbk。")) var encoding: String
            @Option(name: .customLong("file-format"), help: .tr("csv, txt (every field followed by the separator) or xlsx.", "文件格式：csv、txt（每个字段后均跟分隔符）或 xlsx。")) var fileFormat: String
            @Option(help: .tr("The separator of csv and txt (default , for csv, | for txt).", "csv 和 txt 的分隔符（默认 csv 为逗号，txt 为 |）。")) var separator: String?
            @Option(help: .tr("The most rows one file may hold; more rows are split into batches.", "每个文件最多行数；超出则拆分为多个批次。")) var maxRows: Int?
            @Option(help: .tr("Only accounts starting with these digits (comma-separated), for a bank that pays its own accounts.", "只包含以这些数字开头的账号（逗号分隔），用于只代发本行账户的银行。")) var accountPrefix: String?
            @Option(help: .tr("County the profile belongs to (default: your own county).", "模板所属的县（默认：您所在的县）。")) var region: String?

            func run() throws {
                let name = try Parse.text(self.name, "name", .name)
                guard !name.contains("/") else {
                    throw AppError.badInput(Text(en: "name: a profile's name names files: no '/'", zh: "name：模板名称用于文件名，不能含“/”"), code: "BAD_TEXT")
                }
                let columns = try BankProfile.parseColumns(self.columns)
                guard ["utf-8", "gbk"].contains(encoding.lowercased()) else {
                    throw AppError.badInput(Text(en: "--encoding is utf-8 or gbk", zh: "--encoding 应为 utf-8 或 gbk"), code: "BAD_ENCODING")
                }
                guard ["csv", "txt", "xlsx"].contains(fileFormat.lowercased()) else {
                    throw AppError.badInput(Text(en: "--file-format is csv, txt or xlsx", zh: "--file-format 应为 csv、txt 或 xlsx"), code: "BAD_FORMAT")
                }
                if let separator, separator.count != 1 || separator == "\"" || separator.unicodeScalars.first!.value < 0x20 && separator != "\t" {
                    throw AppError.badInput(Text(en: "--separator is one character (not a quote)", zh: "--separator 应为一个字符（不能是引号）"), code: "BAD_SEPARATOR")
                }
                let maxRows = try self.maxRows.map { try Parse.number($0, "--max-rows", 1...1_000_000) }
                let prefixes: [String] = (accountPrefix ?? "").split(separator: ",").map { String($0).trimmingWhitespace() }.filter { !$0.isEmpty }
                guard prefixes.allSatisfy({ $0.count <= 10 && $0.allSatisfy(\.isASCII) && $0.allSatisfy(\.isNumber) }) else {
                    throw AppError.badInput(Text(en: "--account-prefix is digits, comma-separated", zh: "--account-prefix 应为数字，以逗号分隔"), code: "BAD_PREFIX")
                }
                let connection = try global.connect()
                let profile = try BankProfile.add(connection, county: region, name: name, columns: columns, encoding: encoding.lowercased(),
                                                  format: fileFormat.lowercased(), separator: separator, maxRows: maxRows, accountPrefixes: prefixes)
                global.output.entity(fields(profile))
            }
        }

        struct List: ParsableCommand {
            static let configuration = CommandConfiguration(commandName: "list", abstract: tr("List the bank profiles of a region's counties.", "列出区划内各县的银行模板。"))
            @OptionGroup var global: GlobalOptions
            @Option(help: .tr("Region (default: all you may see).", "区划（默认：您可查看的全部）。")) var region: String?

            func run() throws {
                let connection = try global.connect()
                let profiles = try BankProfile.list(connection, region: region)
                global.output.list(fields(profiles.first ?? nil).map(\.0), profiles.map { fields($0).map(\.1) })
            }
        }
    }
}

/// A profile as a listing shows it.
func fields(_ profile: BankProfile?) -> [(Column, String?)] {
    [(Column("county_code", "county", "县区代码"), profile?.county),
     (Column("name", "name", "名称"), profile?.name),
     (Column("columns", "columns", "列"), profile.map { zip($0.columns, $0.headers).map { "\($0):\($1)" }.joined(separator: ",") }),
     (Column("encoding", "encoding", "编码"), profile?.encoding),
     (Column("file_format", "format", "格式"), profile?.format),
     (Column("separator", "separator", "分隔符"), profile?.separator),
     (Column("max_rows", "max rows", "每文件最多行数"), profile?.maxRows.map(String.init)),
     (Column("account_prefix", "account prefixes", "账号前缀"), profile.map { $0.accountPrefixes.joined(separator: ",") })]
}

struct RecoveryCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "recovery", abstract: tr("追缴: money paid that a later correction makes not due.", "追缴：后来的更正表明不应发放的款项。"),
                                                    subcommands: [List.self, Settle.self])

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "list", abstract: tr("Recoveries (open ones unless --all).", "追缴清单（默认只列未结清的，--all 列出全部）。"))
        @OptionGroup var global: GlobalOptions
        @Option(help: .tr("Region (default: all you may see).", "区划（默认：您可查看的全部）。")) var region: String?
        @Flag(help: .tr("Settled ones too.", "同时列出已结清的。")) var all = false
        @Flag(help: .tr("Show resident IDs in full.", "显示完整身份证号。")) var reveal = false

        func run() throws {
            let connection = try global.connect()
            try checkReveal(reveal, connection)
            let rows = try Recoveries.list(connection, region: region, openOnly: !all)
            let lang = global.lang
            global.output.list(
                [Column("id", "id", "编号"), Column("county_code", "county", "县区代码"), Column("month", "month", "月份"),
                 Column("id_number", "person", "身份证号"), Column("name", "name", "姓名"), Column("post_id", "post", "岗位编号"),
                 Column("amount", "amount", "应追回金额"), Column("state", "state", "状态"), Column("settled_on", "settled on", "结清日期"),
                 Column("how", "how", "方式"), Column("note", "note", "说明")],
                rows.map { row in
                    let id = row["id_number"] ?? ""
                    let settled = row["settled_on"] != nil
                    return [row["id"], row["county_code"], row["month"], reveal ? id : (try? ResidentID(id).masked) ?? id, row["name"], row["post_id"],
                            yuan(row["amount_fen"]), lang == .zh ? (settled ? "已结清" : "未结清") : (settled ? "settled" : "open"),
                            row["settled_on"], row["how"].map { lang == .zh ? ["deduction": "扣回", "refund": "退回", "waived": "核销"][$0] ?? $0 : $0 }, row["note"]]
                })
        }
    }

    struct Settle: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "settle", abstract: tr("Record how a recovery was settled.", "登记追缴的结清方式。"))
        @OptionGroup var global: GlobalOptions
        @Argument(help: .tr("The recovery's number (recovery list).", "追缴编号（见 recovery list）。")) var id: Int64
        @Option(help: .tr("Date settled (YYYY-MM-DD).", "结清日期（YYYY-MM-DD）。")) var on: String
        @Option(help: .tr("deduction (from a later payment), refund or waived.", "结清方式：deduction（从以后发放中扣回）、refund（本人退回）或 waived（核销）。")) var how: String
        @Option(help: .tr("A note: the voucher, who approved a waiver.", "说明：凭证号、核销审批人等。")) var note: String

        func run() throws {
            let day = try Parse.day(on, "--on")
            let note = try Parse.text(self.note, "--note", .freeText)
            let connection = try global.connect()
            let row = try Recoveries.settle(connection, id: id, on: day, how: how, note: note)
            global.output.entity([
                (Column("id", "id", "编号"), row["id"]), (Column("month", "month", "月份"), row["month"]),
                (Column("post_id", "post", "岗位编号"), row["post_id"]), (Column("amount", "amount", "金额"), yuan(row["amount_fen"])),
                (Column("settled_on", "settled on", "结清日期"), row["settled_on"]), (Column("how", "how", "方式"), row["how"]),
                (Column("note", "note", "说明"), row["note"]),
            ])
        }
    }
}

extension PayrollCommand {
    struct Check: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "check", abstract: tr("Lines the bank will reject or that should not be paid: no account, a malformed account, one account for several persons, a person dead or ineligible in the month.", "银行会退回或不应发放的明细：无账号、账号格式错误、一个账号对应多人、当月死亡或不符合条件的人员。"))
        @OptionGroup var global: GlobalOptions
        @Argument(help: .tr("Month (YYYY-MM).", "月份（YYYY-MM）。")) var month: String
        @Option(help: .tr("Region (default: every county).", "区划（默认：所有县）。")) var region: String?
        @Flag(help: .tr("Show resident IDs and accounts in full.", "显示完整身份证号和账号。")) var reveal = false

        func run() throws {
            let month = try Parse.month(self.month, "month")
            let connection = try global.connect()
            try checkReveal(reveal, connection)
            let rows = try PayrollCheck.run(connection, month: month, region: region)
            let words: [String: (String, String)] = [
                "NO_ACCOUNT": ("no bank account", "无银行账号"), "BAD_ACCOUNT": ("the account is not 10 to 30 digits", "账号不是10至30位数字"),
                "SHARED_ACCOUNT": ("the account receives for several persons", "同一账号对应多人"),
                "DECEASED": ("died on or before the month's end", "本月末前已死亡"), "INELIGIBLE": ("not eligible in the month", "本月不符合条件"),
            ]
            if rows.isEmpty {
                global.output.say(Text(en: "no problems: every line has a well-formed account of its own, and nobody is dead or ineligible",
                                       zh: "未发现问题：每条明细都有本人的有效账号，且无死亡或不符合条件人员"))
            }
            global.output.list(
                [Column("problem", "problem", "问题"), Column("what", "what", "说明"), Column("county_code", "county", "县区代码"),
                 Column("id_number", "person", "身份证号"), Column("name", "name", "姓名"), Column("post_id", "post", "岗位编号"),
                 Column("bank_account", "account", "银行账号"), Column("amount", "amount", "金额"), Column("detail", "detail", "详情")],
                rows.map { row in
                    let id = row["id_number"] ?? "", account = row["account"]
                    let word = words[row["problem"] ?? ""].map { global.lang == .zh ? $0.1 : $0.0 }
                    return [row["problem"], word, row["county_code"], reveal ? id : (try? ResidentID(id).masked) ?? id, row["name"], row["post_id"],
                            account.map { reveal ? $0 : BankAccount.masked($0) }, yuan(row["net_fen"]), row["detail"]]
                })
        }
    }

    struct Resubmit: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "resubmit", abstract: tr("Write the transfers the bank reported failed again, to the account now in force, as a new batch; each failure once.", "将银行回单中失败的转账按现行账号重新生成为新批次；每笔失败只重发一次。"))
        @OptionGroup var global: GlobalOptions
        @Argument(help: .tr("Month (YYYY-MM).", "月份（YYYY-MM）。")) var month: String
        @Option(help: .tr("County (default: your own).", "县（默认：您所在的县）。")) var region: String?
        @Option(help: .tr("Write by this bank profile into the folder --output names (else the export's columns into the file --output names).", "按该银行模板写入 --output 指定的文件夹（否则按导出文件的列写入 --output 指定的文件）。"))
        var profile: String?

        func run() throws {
            let month = try Parse.month(self.month, "month")
            guard let output = global.outputFile else {
                throw AppError.badInput(Text(en: "give the file (or, with --profile, the folder) with --output", zh: "请用 --output 指定文件（使用 --profile 时为文件夹）"), code: "BAD_OUTPUT")
            }
            let connection = try global.connect(outputIsFolder: profile != nil)
            let outcome = try BankExport.resubmit(connection, month: month, region: region, profileName: profile, output: output,
                                                  xlsx: global.format == .xlsx, lang: global.lang)
            printBankFiles(outcome, folder: profile == nil ? output : output, global)
        }
    }
}

extension PayrollCommand {
    struct Notice: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "notice", abstract: tr("Write the month's payment notice of a village (names, masked IDs, days, amounts) as an HTML page to post publicly, printable on A4.", "生成某村当月补贴发放公示（姓名、隐藏部分的身份证号、在岗天数、金额），为可在 A4 纸上打印张贴的 HTML 页面。"))
        @OptionGroup var global: GlobalOptions
        @Argument(help: .tr("Month (YYYY-MM).", "月份（YYYY-MM）。")) var month: String
        @Option(help: .tr("The village (12 digits).", "村（12位代码）。")) var region: String

        func run() throws {
            let month = try Parse.month(self.month, "month")
            guard let output = global.outputFile else {
                throw AppError.badInput(Text(en: "give the page's file with --output, e.g. --output notice.html", zh: "请用 --output 指定页面文件，例如 --output notice.html"), code: "BAD_OUTPUT")
            }
            let connection = try global.connect()
            let page = try PaymentReports.notice(connection, month: month, village: region)
            let file = try SafeFile(path: output)
            defer { file.discard() }
            try file.write(Array(page.utf8))
            try file.commit()
            FileHandle.standardError.write(Data((Text(en: "notice written to \(output)", zh: "公示已写入：\(output)")(global.lang) + "\n").utf8))
        }
    }

    struct Timeliness: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "timeliness", abstract: tr("How promptly each county paid each approved month (按时足额): days from the month's end to full payment, share paid in full within 30 days.", "各县各月按时足额发放情况：自月末至足额发放的天数，30天内足额发放的比例。"))
        @OptionGroup var global: GlobalOptions
        @Option(help: .tr("Region (default: every county).", "区划（默认：所有县）。")) var region: String?
        @Option(help: .tr("First month (YYYY-MM).", "起始月份（YYYY-MM）。")) var from: String?
        @Option(help: .tr("Last month (YYYY-MM).", "截止月份（YYYY-MM）。")) var to: String?

        func run() throws {
            let from = try self.from.map { try Parse.month($0, "--from") }
            let to = try self.to.map { try Parse.month($0, "--to") }
            let connection = try global.connect()
            let rows = try PaymentReports.timeliness(connection, region: region, from: from, to: to)
            global.output.list(
                [Column("county_code", "county", "县区代码"), Column("month", "month", "月份"), Column("lines", "person-posts payable", "应发人次"),
                 Column("booked", "booked", "应发金额"), Column("paid_lines", "paid", "已发人次"), Column("paid", "paid amount", "实发金额"),
                 Column("paid_in_full", "paid in full", "足额人次"), Column("on_time", "in full within 30 days", "30天内足额人次"),
                 Column("on_time_share", "share within 30 days (%)", "按时足额比例（%）"), Column("median_days", "median days", "中位天数"),
                 Column("max_days", "most days", "最长天数"), Column("unpaid", "unpaid", "未发人次")],
                rows.map { [$0["county_code"], $0["month"], $0["lines"], yuan($0["booked_fen"]), $0["paid"], yuan($0["paid_fen"]),
                            $0["paid_in_full"], $0["on_time"], $0["on_time_share"], $0["median_days"], $0["max_days"], $0["unpaid"]] })
        }
    }
}
