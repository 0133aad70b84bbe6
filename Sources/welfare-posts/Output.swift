import ArgumentParser
import Foundation
import WelfarePosts

enum OutputFormat: String, ExpressibleByArgument, CaseIterable {
    case table, csv, json, xlsx
}

extension Lang: ExpressibleByArgument {}

/// A column of a listing: its key (CSV/JSON) and its headers in both languages.
struct Column {
    let key: String
    let title: Text

    init(_ key: String, _ en: String, _ zh: String) {
        self.key = key
        self.title = Text(en: en, zh: zh)
    }
}

/// Prints listings and changed entities as a table, CSV or JSON (SPEC §9).
///
/// Whatever the database holds (psql writes past the tool's checks), nothing printed carries a
/// raw control character: tables and CSV show them as visible escapes (`\e`, `\n`, `\u{202E}`),
/// JSON as `\u` escapes. CSV cells that a spreadsheet would run as a formula get a leading
/// apostrophe (`TextValue.spreadsheetSafe`).
struct Output {
    let format: OutputFormat
    let lang: Lang
    /// `--output FILE`: listings and entities go into this file instead of standard output
    /// (an Excel workbook under `--format xlsx`, one sheet per listing).
    var file: String? = nil

    /// A line of a listing: into the output file when there is one, else printed.
    private func print(_ line: String) {
        if let file { OutputSink.sink(file, format).append(line + "\n") } else { Swift.print(line) }
    }

    /// A listing: one row per item. Missing values print empty (JSON: null).
    func list(_ columns: [Column], _ rows: [[String?]], sheet: String? = nil) {
        switch format {
        case .xlsx:
            OutputSink.sink(file ?? "", format).sheet(sheet, headers: columns.map { lang == .zh ? $0.title.zh : $0.key },
                                                      rows: rows.map { zip(columns, $0).map { XLSXCell.guess(key: $0.key, value: $1) } })
        case .json:
            let objects = rows.map { row in
                "{" + zip(columns, row).map { "\(json($0.key)):\($1.map(json) ?? "null")" }.joined(separator: ",") + "}"
            }
            print("[" + objects.joined(separator: ",\n ") + "]")
        case .csv:
            print(columns.map { csv(lang == .zh ? $0.title.zh : $0.key) }.joined(separator: ","))
            for row in rows { print(row.map { csv($0 ?? "") }.joined(separator: ",")) }
        case .table:
            let headers = columns.map { $0.title(lang) }
            let cells = rows.map { $0.map { TextValue.displayed($0 ?? "") } }
            let widths = headers.indices.map { index in
                ([headers[index]] + cells.map { $0[index] }).map(displayWidth).max() ?? 0
            }
            func line(_ values: [String]) -> String {
                zip(values, widths).map { $0 + String(repeating: " ", count: $1 - displayWidth($0)) }
                    .joined(separator: "  ").trailingSpacesRemoved()
            }
            print(line(headers))
            print(line(widths.map { String(repeating: "-", count: $0) }))
            cells.forEach { print(line($0)) }
        }
    }

    /// A list that belongs to an entity (a person's placements): a nested array under JSON,
    /// a titled listing after the entity otherwise.
    struct Section {
        let key: String
        let title: Text
        let columns: [Column]
        let rows: [[String?]]
    }

    /// One entity that a command changed or shows: key/value lines, or a JSON object.
    func entity(_ fields: [(Column, String?)], sections: [Section] = []) {
        switch format {
        case .xlsx:
            list(fields.map(\.0), [fields.map(\.1)])
            for section in sections { list(section.columns, section.rows, sheet: section.title(lang)) }
            return
        case .json:
            let scalars = fields.map { "\(json($0.0.key)):\($0.1.map(json) ?? "null")" }
            let lists = sections.map { section in
                json(section.key) + ":[" + section.rows.map { row in
                    "{" + zip(section.columns, row).map { "\(json($0.key)):\($1.map(json) ?? "null")" }.joined(separator: ",") + "}"
                }.joined(separator: ",") + "]"
            }
            print("{" + (scalars + lists).joined(separator: ",") + "}")
            return
        case .csv:
            list(fields.map(\.0), [fields.map(\.1)])
        case .table, .xlsx:
            let width = fields.map { displayWidth($0.0.title(lang)) }.max() ?? 0
            for (column, value) in fields {
                let title = column.title(lang)
                print(title + String(repeating: " ", count: width - displayWidth(title)) + "  " + TextValue.displayed(value ?? ""))
            }
        }
        for section in sections {
            print("\n" + section.title(lang) + ":")
            list(section.columns, section.rows)
        }
    }

    /// A yes/no value: `true`/`false` for CSV and JSON (what programs read), words in a table.
    func flag(_ value: Bool) -> String {
        guard format == .table else { return value ? "true" : "false" }
        return lang == .zh ? (value ? "是" : "否") : (value ? "yes" : "no")
    }

    /// A plain sentence (progress, summaries). Suppressed under JSON so output stays parseable.
    func say(_ text: Text) {
        if format != .json { Swift.print(text(lang)) }
    }

    private func csv(_ raw: String) -> String {
        let value = TextValue.spreadsheetSafe(TextValue.displayed(raw))
        // Bytes, not Characters: the four are ASCII, and a cell is not cut into graphemes.
        guard value.utf8.contains(where: { $0 == 0x2C || $0 == 0x22 || $0 == 0x0A || $0 == 0x0D }) else { return value }
        return "\"" + value.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }

    private func json(_ value: String) -> String {
        var out = "\""
        for scalar in value.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if scalar.value < 0x20 || TextValue.forbiddenName(scalar) != nil {
                    out += String(format: "\\u%04x", scalar.value)
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out + "\""
    }
}

/// Terminal columns a string takes: Chinese characters take two.
func displayWidth(_ text: String) -> Int {
    text.unicodeScalars.reduce(0) { width, scalar in
        let v = scalar.value
        let wide = (0x1100...0x115F).contains(v) || (0x2E80...0xA4CF).contains(v) || (0xAC00...0xD7A3).contains(v)
            || (0xF900...0xFAFF).contains(v) || (0xFE30...0xFE4F).contains(v) || (0xFF00...0xFF60).contains(v)
            || (0xFFE0...0xFFE6).contains(v) || (0x20000...0x3FFFD).contains(v)
        return width + (wide ? 2 : 1)
    }
}

extension String {
    func trailingSpacesRemoved() -> String {
        var text = self
        while text.last == " " { text.removeLast() }
        return text
    }
}

/// The file `--output` names, written once the command has succeeded (SafeFile: 0600, never
/// through a link, complete or absent): the listings' text under table, CSV or JSON, or an
/// Excel workbook with one sheet per listing under `--format xlsx`. A command that fails leaves
/// nothing behind.
final class OutputSink {
    nonisolated(unsafe) private static var current: OutputSink?

    let path: String
    let format: OutputFormat
    private var text: [UInt8] = []
    private var workbook: XLSXWriter?
    private var sheets = 0
    private(set) var rows = 0

    private init(path: String, format: OutputFormat) {
        self.path = path
        self.format = format
    }

    static func sink(_ path: String, _ format: OutputFormat) -> OutputSink {
        if let current { return current }
        let made = OutputSink(path: path, format: format)
        current = made
        return made
    }

    func append(_ line: String) {
        text += Array(line.utf8)
    }

    func sheet(_ name: String?, headers: [String], rows: [[XLSXCell]]) {
        do {
            if workbook == nil { workbook = try XLSXWriter() }
            sheets += 1
            try workbook!.beginSheet(name ?? "Sheet\(sheets)")
            try workbook!.row(headers.map { .text($0) })
            for row in rows { try workbook!.row(row) }
            self.rows += rows.count
        } catch {
            OutputSink.fail(error)
        }
    }

    /// Writes the file, after the command succeeded; says on standard error what was written.
    static func finish(_ lang: Lang) throws {
        guard let sink = current else { return }
        current = nil
        let file = try SafeFile(path: sink.path)
        defer { file.discard() }
        if let workbook = sink.workbook {
            try workbook.finish(into: file)
        } else {
            try file.write(sink.text)
        }
        try file.commit()
        let written = sink.workbook != nil
            ? Text(en: "\(sink.rows) rows written to \(sink.path)", zh: "已写入 \(sink.rows) 行：\(sink.path)")
            : Text(en: "written to \(sink.path)", zh: "已写入：\(sink.path)")
        FileHandle.standardError.write(Data((written(lang) + "\n").utf8))
    }

    /// The command failed: nothing is written.
    static func abandon() { current = nil }

    private static func fail(_ error: Error) -> Never {
        let lang = Language.current
        let rendered = (error as? AppError)?.render(lang) ?? "error: [BAD_OUTPUT] \(error)"
        FileHandle.standardError.write(Data((rendered + "\n").utf8))
        exit(2)
    }
}
