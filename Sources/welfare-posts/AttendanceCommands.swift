import ArgumentParser
import Postgres
import WelfarePosts

struct AttendanceCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "attendance", abstract: tr("Daily attendance (考勤), the evidence of work: import, show.", "逐日考勤（在岗证明）：导入、查看。"),
        subcommands: [Import.self, Show.self])

    struct Import: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "import", 
            abstract: tr("Import daily attendance (id_number 身份证号, date 日期, status 考勤状态: present 出勤, absent 缺勤, leave 请假).", "导入逐日考勤（列：身份证号、日期、考勤状态；考勤状态填出勤、缺勤或请假，也可填 present、absent、leave）。"))
        @OptionGroup var global: GlobalOptions
        @Argument(help: .tr("CSV file: UTF-8 (with or without BOM) or GBK.", "CSV 文件：UTF-8（有无 BOM 均可）或 GBK 编码。")) var file: String
        @Flag(help: .tr("Check the file and report, without writing.", "试运行：只检查文件并报告，不写入。")) var dryRun = false

        func run() throws {
            let connection = try global.connect()
            let outcome = try Attendance.importFile(connection, file: try Parse.file(file), dryRun: dryRun)
            if outcome.dryRun {
                global.output.say(Text(en: "dry run: the file is valid; nothing was written", zh: "试运行：文件无误，未写入任何数据"))
            }
            global.output.entity([
                (Column("rows", "rows (person-days)", "行数（人天）"), String(outcome.rows)),
                (Column("person_months", "person-months", "人月数"), String(outcome.personMonths)),
                (Column("inserted", outcome.dryRun ? "would insert" : "inserted", outcome.dryRun ? "将新增" : "新增"), String(outcome.inserted)),
                (Column("updated", outcome.dryRun ? "would update" : "updated", outcome.dryRun ? "将更新" : "更新"), String(outcome.updated)),
                (Column("unchanged", "unchanged", "未变"), String(outcome.unchanged)),
                (Column("dry_run", "dry run", "试运行"), outcome.dryRun ? "true" : "false"),
            ])
        }
    }

    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "show", 
            abstract: tr("A person's recorded months: the days (P present, A absent, L leave, - none) and their counts.", "查看某人已登记考勤的各月：逐日考勤（P 出勤、A 缺勤、L 请假、- 未登记）及各项天数。"))
        @OptionGroup var global: GlobalOptions
        @Option(help: .tr("Resident ID.", "身份证号。")) var person: String
        @Option(help: .tr("Only this month (YYYY-MM).", "只看该月（YYYY-MM）。")) var month: String?

        func run() throws {
            let id = try Persons.parseID(person)
            let month = try self.month.map { try Parse.month($0, "--month") }
            let connection = try global.connect()
            let rows = try Attendance.months(connection, person: id, month: month)
            global.output.list(
                [Column("month", "month", "月份"), Column("days", "days", "逐日考勤"), Column("present", "present", "出勤"),
                 Column("absent", "absent", "缺勤"), Column("leave", "leave", "请假"), Column("unrecorded", "unrecorded", "未登记")],
                rows.map { [$0["month"], $0["days"], $0["present"], $0["absent"], $0["leave"], $0["unrecorded"]] })
        }
    }
}
