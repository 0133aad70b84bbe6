import ArgumentParser
import Foundation
import Postgres
import WelfarePosts

/// Options every command takes: where the database is, and how to print.
struct GlobalOptions: ParsableArguments {
    @Option(help: .tr("PostgreSQL URL or connection string (else DATABASE_URL, else libpq's PG* variables).", "PostgreSQL 连接 URL 或连接串（否则用 DATABASE_URL，再否则用 libpq 的 PG* 环境变量）。"))
    var database: String?

    @Option(help: .tr("Output format: table, csv, json or xlsx (default: table on a terminal, csv otherwise; xlsx needs --output).", "输出格式：table、csv、json 或 xlsx（默认：终端上为 table，否则为 csv；xlsx 须同时给出 --output）。"))
    var format: OutputFormat?

    @Option(name: .customLong("output"), help: .tr("Write the listing or export into this file instead of standard output (readable by you only).", "将列表或导出内容写入该文件，而不是标准输出（仅本人可读）。"))
    var outputFile: String?

    @Option(help: .tr("Language of labels and messages: en or zh.", "标签和提示的语言：en 或 zh（默认随 LANG/LC_ALL：zh_CN 等为中文）。"))
    var lang: Lang = Language.current

    var output: Output {
        Output(format: format ?? (outputFile == nil && isatty(STDOUT_FILENO) == 1 ? .table : .csv), lang: lang, file: outputFile)
    }

    /// Refuses (exit 2, `BAD_OUTPUT`) `--format xlsx` without `--output`, and an `--output` the
    /// tool must not write to, before any work is done.
    func checkOutput(folder: Bool = false) throws {
        if folder { return }
        if format == .xlsx && outputFile == nil {
            throw AppError.badInput(Text(en: "--format xlsx writes an Excel workbook: give the file with --output, e.g. --output list.xlsx",
                                         zh: "--format xlsx 会生成 Excel 工作簿：请用 --output 指定文件，例如 --output list.xlsx"), code: "BAD_OUTPUT")
        }
        if let outputFile { try SafeFile.check(outputFile) }
    }

    /// A connection to a database that has every migration applied (else exit 3).
    func connect(requireMigrated: Bool = true, outputIsFolder: Bool = false) throws -> Connection {
        try checkOutput(folder: outputIsFolder)
        let connection = try Database.connect(database, environment: ProcessInfo.processInfo.environment)
        if requireMigrated { try Database.mapped { try Migrator(connection: connection).requireCurrent() } }
        return connection
    }

    /// Opens another connection to the same database as the same role, for work that runs
    /// beside the first (the two halves of an audit report).
    var opener: Audit.Opener {
        let database = self.database, environment = ProcessInfo.processInfo.environment
        return { try Database.connect(database, environment: environment) }
    }
}

/// `--reveal` is for roles allowed to see full resident IDs and bank accounts (else exit 1).
func checkReveal(_ reveal: Bool, _ connection: Connection) throws {
    if reveal { try Access.requireReveal(connection) }
}

/// Parsers for the value types of SPEC §3, each failing with a message that says what is expected.
enum Parse {
    static func day(_ text: String, _ option: String) throws -> Day {
        guard let day = Day(iso: text) else {
            throw AppError.badInput(Text(en: "\(option) '\(TextValue.quoted(text))' is not a date: write YYYY-MM-DD, e.g. 2026-01-31",
                                         zh: "\(option)“\(TextValue.quoted(text))”不是日期：请写成 YYYY-MM-DD，例如 2026-01-31"), code: "BAD_DATE")
        }
        return day
    }

    static func month(_ text: String, _ option: String) throws -> Month {
        guard let month = Month(iso: text) else {
            throw AppError.badInput(Text(en: "\(option) '\(TextValue.quoted(text))' is not a month: write YYYY-MM, e.g. 2026-01",
                                         zh: "\(option)“\(TextValue.quoted(text))”不是月份：请写成 YYYY-MM，例如 2026-01"), code: "BAD_MONTH")
        }
        return month
    }

    /// An amount in yuan of 0 to `maximum` (SPEC §10: 1,000,000 yuan for one amount; a monthly
    /// pay standard 100,000 yuan).
    static func yuan(_ text: String, _ option: String, maximum: Fen = Fen.fileMaximum, perMonth: Bool = false) throws -> Fen {
        do {
            return try Fen(yuan: text, atMost: maximum)
        } catch {
            let problem = error.explanation(text, maximum: maximum, perMonth: perMonth)
            throw AppError.badInput(Text(en: "\(option) \(problem.en)", zh: "\(option) \(problem.zh)"), code: "BAD_AMOUNT")
        }
    }

    /// A monthly pay standard in yuan: 0 to 100,000.
    static func standard(_ text: String, _ option: String) throws -> Fen {
        try yuan(text, option, maximum: Fen.standardMaximum, perMonth: true)
    }

    /// A whole number within `range`: counts of days, ages, years and rows are bounded, so no
    /// date or sum made of them can overflow.
    static func number(_ value: Int, _ option: String, _ range: ClosedRange<Int>) throws -> Int {
        guard range.contains(value) else {
            throw AppError.badInput(Text(en: "\(option) \(value) is out of range: give \(range.lowerBound) to \(range.upperBound)",
                                         zh: "\(option) \(value) 超出范围：应为 \(range.lowerBound) 至 \(range.upperBound)"), code: "BAD_NUMBER")
        }
        return value
    }

    /// Text given on the command line, held to the same rules as a file's cell of the same kind
    /// (SPEC §10): no control characters, not too long, no leading formula character.
    static func text(_ value: String, _ option: String, _ kind: TextKind) throws -> String {
        let trimmed = value.trimmingWhitespace()
        if let problem = TextValue.problem(trimmed, kind: kind) {
            throw AppError.badInput(Text(en: "\(option): \(problem.en)", zh: "\(option)：\(problem.zh)"), code: "BAD_TEXT")
        }
        return trimmed
    }

    static func file(_ path: String) throws -> CSVFile { try CSVFile(path: path) }
}

/// Money columns print in yuan with two decimals.
func yuan(_ fen: String?) -> String? {
    fen.flatMap { Int64($0) }.map { Fen($0).yuanText }
}
