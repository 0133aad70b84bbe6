import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import ZIPFoundation

/// Reads the first sheet of an Excel workbook (SPEC §10) as rows of text, each cell as Excel
/// shows it: shared and inline strings as written; numbers in General format as their shortest
/// form (`800.5`), with a fixed number of decimals as that many (`0.00` → `800.50`); dates
/// (serial days from 1899-12-30 in a date-formatted cell) as `YYYY-MM-DD`, or `YYYY-MM` when
/// the format shows no day; TRUE/FALSE as written. Rows without a value are skipped (as blank
/// lines are); a row's cells missing after its last value are empty, up to the header's width. The rows then go through the same checks as
/// a CSV file's (`CSVFile`, `Staging`).
///
/// Refused (exit 2, with the cell): a number of 16 or more digits — an ID or account typed
/// into a cell formatted as a number, which Excel has already cut to 15 digits
/// (3.20321197003151E+17): the column must be formatted as text and the values typed again; a
/// cell showing a formula error (#N/A). A workbook without a sheet, or whose parts are not
/// readable XML, is not a workbook. Parts are read up to 2 GiB unpacked (a zip bomb stops there).
///
/// The one reader of workbooks; `XLSXWriter` is the one writer. Zip through ZIPFoundation, XML
/// through Foundation's event parser (no document tree).
public struct XLSXReader {
    let sheet: Data
    let sharedStrings: [String]
    /// For each cell style index: how a number of that style is shown.
    let styles: [NumberShape]
    /// The sheet's merged cells, as `A1:C1` and their first and last rows.
    let merges: [(reference: String, firstRow: Int, lastRow: Int)]

    enum NumberShape: Equatable {
        case general
        case decimals(Int)
        case date
        case month
    }

    /// Whether the bytes start as a zip archive does (an .xlsx is one).
    public static func looksLikeWorkbook(_ data: [UInt8]) -> Bool {
        data.count >= 4 && data[0] == 0x50 && data[1] == 0x4B && data[2] == 0x03 && data[3] == 0x04
    }

    public init(data: [UInt8]) throws {
        let archive: Archive
        do {
            archive = try Archive(data: Data(data), accessMode: .read)
        } catch {
            throw XLSXReader.notWorkbook(Text(en: "it is not a readable zip archive", zh: "不是可读取的 zip 压缩包"))
        }
        func part(_ path: String) throws -> Data? {
            guard let entry = archive[path] else { return nil }
            var out = Data()
            do {
                _ = try archive.extract(entry, bufferSize: 1 << 16, skipCRC32: false) { chunk in
                    guard out.count + chunk.count <= CSVFile.maximumSize else { throw XLSXReader.tooLarge }
                    out.append(chunk)
                }
            } catch let error as AppError {
                throw error
            } catch {
                throw XLSXReader.notWorkbook(Text(en: "its part \(path) cannot be unpacked", zh: "其中的 \(path) 无法解压"))
            }
            return out
        }
        // The first sheet: the workbook's first <sheet>, found through the workbook's relations.
        guard let workbook = try part("xl/workbook.xml") else {
            throw XLSXReader.notWorkbook(Text(en: "it has no xl/workbook.xml", zh: "缺少 xl/workbook.xml"))
        }
        let firstSheet = try XLSXReader.attributes(of: "sheet", in: workbook).first
        var sheetPath = "xl/worksheets/sheet1.xml"
        if let id = firstSheet?["r:id"], let relations = try part("xl/_rels/workbook.xml.rels"),
           let target = try XLSXReader.attributes(of: "Relationship", in: relations).first(where: { $0["Id"] == id })?["Target"] {
            sheetPath = target.hasPrefix("/") ? String(target.dropFirst()) : "xl/" + target
        }
        guard let sheet = try part(sheetPath) else {
            throw XLSXReader.notWorkbook(Text(en: "it has no sheet", zh: "没有工作表"))
        }
        self.sheet = sheet
        merges = try XLSXReader.mergedCells(sheet)
        sharedStrings = try part("xl/sharedStrings.xml").map(XLSXReader.strings) ?? []
        styles = try part("xl/styles.xml").map(XLSXReader.numberShapes) ?? []
    }

    static let tooLarge = AppError.badInput(Text(
        en: "the workbook unpacks to more than 2 GiB, the most an import reads: split it into smaller files; nothing was imported",
        zh: "该工作簿解压后超过 2 GiB，即导入文件的上限：请拆分为较小的文件；未导入任何数据"), code: "BAD_FILE")

    static func notWorkbook(_ why: Text) -> AppError {
        AppError.badInput(Text(en: "the file is not an Excel workbook (.xlsx): \(why.en); save it from Excel as .xlsx or as CSV; nothing was imported",
                               zh: "该文件不是 Excel 工作簿（.xlsx）：\(why.zh)；请在 Excel 中另存为 .xlsx 或 CSV；未导入任何数据"), code: "BAD_FILE")
    }

    /// Calls `body` with every row that holds a value, in order: its row number as the line
    /// and its cells as text (missing cells empty, up to the last one holding a value). Cells
    /// that cannot be read as shown are listed together at the end (nothing is imported).
    public func forEachRecord(_ body: (CSVFile.Record) throws -> Void) throws {
        try withoutActuallyEscaping(body) { try read($0) }
    }

    private func read(_ body: @escaping (CSVFile.Record) throws -> Void) throws {
        let handler = SheetHandler(strings: sharedStrings, styles: styles, merges: merges, body: body)
        let parser = XMLParser(data: sheet)
        parser.delegate = handler
        parser.shouldProcessNamespaces = false
        if !parser.parse() {
            if let error = handler.thrown { throw error }
            throw XLSXReader.notWorkbook(Text(en: "its sheet is not readable XML (line \(parser.lineNumber))",
                                              zh: "其工作表不是可读取的 XML（第 \(parser.lineNumber) 行）"))
        }
        if let error = handler.thrown { throw error }
        if handler.problemCount > 0 {
            var problems = handler.problems
            if handler.problemCount > problems.count, let last = problems.last {
                problems.append(FileProblem(line: last.line, problem: Text(en: "and \(handler.problemCount - problems.count) more cell(s) like these",
                                                                           zh: "另有 \(handler.problemCount - problems.count) 个单元格同样有误")))
            }
            throw AppError(.input, code: "BAD_FILE", Text(
                en: "\(handler.problemCount) cell(s) of the workbook cannot be read as they show; nothing was imported:",
                zh: "工作簿中有 \(handler.problemCount) 个单元格无法按显示内容读取，未导入任何数据："), problems: problems)
        }
    }

    /// The merged cells of a sheet (`<mergeCells>`, after the rows): a header row with merged
    /// cells, or a header over two rows, is refused (exit 2) before any row is read as data.
    static func mergedCells(_ sheet: Data) throws -> [(reference: String, firstRow: Int, lastRow: Int)] {
        guard let start = sheet.range(of: Data("<mergeCells".utf8)),
              let end = sheet.range(of: Data("</mergeCells>".utf8), in: start.upperBound..<sheet.endIndex) else { return [] }
        return try attributes(of: "mergeCell", in: sheet.subdata(in: start.lowerBound..<end.upperBound)).compactMap { cell in
            guard let reference = cell["ref"] else { return nil }
            let rows = reference.split(separator: ":").map { Int($0.drop { $0.isLetter }) ?? 0 }
            guard let first = rows.first, let last = rows.last else { return nil }
            return (reference, min(first, last), max(first, last))
        }
    }

    // MARK: Cells

    /// A column letter reference ("AB12") as a 0-based column index.
    static func column(of reference: String) -> Int? {
        var index = 0
        var any = false
        for byte in reference.utf8 {
            guard byte >= 0x41 && byte <= 0x5A else { break }
            index = index * 26 + Int(byte - 0x40)
            any = true
            if index > 16_384 { return nil }
        }
        return any ? index - 1 : nil
    }

    /// A number as its cell shows it, or nil with why not.
    static func shown(_ raw: String, shape: NumberShape) -> (String?, Text?) {
        guard let value = Double(raw), value.isFinite else {
            return (nil, Text(en: "'\(TextValue.quoted(raw))' is not a number", zh: "“\(TextValue.quoted(raw))”不是数字"))
        }
        switch shape {
        case .date, .month:
            let days = Int(value.rounded(.down))
            guard days >= 1 && days < 2_958_466 else { return (raw, nil) }
            let day = Day(year: 1899, month: 12, day: 30)!.adding(days: days)
            return (shape == .date ? day.iso : String(day.iso.prefix(7)), nil)
        case .general, .decimals:
            if abs(value) >= 1e15 {
                return (nil, Text(
                    en: "the cell holds the number \(raw), of 16 or more digits: Excel keeps only 15, so an ID or account typed as a number has lost its last digits. Format the column as text (设置单元格格式 → 文本) and type the values again",
                    zh: "该单元格是 16 位以上的数字 \(raw)：Excel 只保留 15 位，按数字输入的身份证号或账号末几位已丢失。请把该列设置为文本格式（设置单元格格式 → 文本）后重新输入"))
            }
            if case .decimals(let places) = shape {
                return (String(format: "%.\(places)f", value), nil)
            }
            if value == value.rounded(), abs(value) < 1e15 { return (String(Int64(value)), nil) }
            var text = String(format: "%.15g", value)
            if text.contains("e") { text = String(format: "%.15f", value) }
            if text.contains(".") {
                while text.hasSuffix("0") { text.removeLast() }
                if text.hasSuffix(".") { text.removeLast() }
            }
            return (text, nil)
        }
    }

    // MARK: Parts

    /// The attributes of every element named `name` in an XML part.
    static func attributes(of name: String, in data: Data) throws -> [[String: String]] {
        final class Collect: NSObject, XMLParserDelegate {
            let name: String
            var found: [[String: String]] = []
            init(_ name: String) { self.name = name }
            func parser(_ parser: XMLParser, didStartElement element: String, namespaceURI: String?, qualifiedName: String?,
                        attributes: [String: String] = [:]) {
                if element == name || element.hasSuffix(":" + name) { found.append(attributes) }
            }
        }
        let collect = Collect(name)
        let parser = XMLParser(data: data)
        parser.delegate = collect
        guard parser.parse() else { throw notWorkbook(Text(en: "a part is not readable XML", zh: "其中的部件不是可读取的 XML")) }
        return collect.found
    }

    /// The shared strings, in order: each `<si>`'s text runs joined (phonetic runs left out).
    static func strings(_ data: Data) throws -> [String] {
        final class Collect: NSObject, XMLParserDelegate {
            var strings: [String] = []
            var current = ""
            var inText = false
            var phonetic = 0
            func parser(_ parser: XMLParser, didStartElement element: String, namespaceURI: String?, qualifiedName: String?,
                        attributes: [String: String] = [:]) {
                switch element {
                case "si": current = ""
                case "t": inText = phonetic == 0
                case "rPh": phonetic += 1
                default: break
                }
            }
            func parser(_ parser: XMLParser, didEndElement element: String, namespaceURI: String?, qualifiedName: String?) {
                switch element {
                case "si": strings.append(XLSXReader.unescapeExcel(current))
                case "t": inText = false
                case "rPh": phonetic -= 1
                default: break
                }
            }
            func parser(_ parser: XMLParser, foundCharacters string: String) { if inText { current += string } }
        }
        let collect = Collect()
        let parser = XMLParser(data: data)
        parser.delegate = collect
        guard parser.parse() else { throw notWorkbook(Text(en: "its shared strings are not readable XML", zh: "其共享字符串不是可读取的 XML")) }
        return collect.strings
    }

    /// How each cell style shows a number, from xl/styles.xml's number formats and cellXfs.
    static func numberShapes(_ data: Data) throws -> [NumberShape] {
        final class Collect: NSObject, XMLParserDelegate {
            var formats: [Int: String] = [:]
            var xfs: [Int] = []
            var inCellXfs = false
            func parser(_ parser: XMLParser, didStartElement element: String, namespaceURI: String?, qualifiedName: String?,
                        attributes: [String: String] = [:]) {
                switch element {
                case "numFmt":
                    if let id = attributes["numFmtId"].flatMap(Int.init), let code = attributes["formatCode"] { formats[id] = code }
                case "cellXfs": inCellXfs = true
                case "xf" where inCellXfs: xfs.append(attributes["numFmtId"].flatMap(Int.init) ?? 0)
                default: break
                }
            }
            func parser(_ parser: XMLParser, didEndElement element: String, namespaceURI: String?, qualifiedName: String?) {
                if element == "cellXfs" { inCellXfs = false }
            }
        }
        let collect = Collect()
        let parser = XMLParser(data: data)
        parser.delegate = collect
        guard parser.parse() else { throw notWorkbook(Text(en: "its styles are not readable XML", zh: "其样式不是可读取的 XML")) }
        return collect.xfs.map { shape(id: $0, code: collect.formats[$0]) }
    }

    /// Excel's built-in formats by id, else the format code's own tokens.
    static func shape(id: Int, code: String?) -> NumberShape {
        switch id {
        case 1, 3: return .decimals(0)
        case 2, 4: return .decimals(2)
        case 14, 15, 16, 22, 27...31, 34...36, 50...58: return .date
        case 17: return .month
        default: break
        }
        guard let code else { return .general }
        // Quoted literals, escapes and [colour]/[locale] sections say nothing of the shape.
        var plain = ""
        var quoted = false, bracket = false, escaped = false
        for character in code {
            if escaped { escaped = false; continue }
            switch character {
            case "\\": escaped = true
            case "\"": quoted.toggle()
            case "[" where !quoted: bracket = true
            case "]" where !quoted: bracket = false
            default: if !quoted && !bracket { plain.append(character) }
            }
        }
        let section = plain.split(separator: ";").first.map(String.init)?.lowercased() ?? ""
        if section.contains("y") || section.contains("d") {
            return section.contains("d") ? .date : .month
        }
        if section.contains("e") && !section.contains("0") { return .general }
        if let dot = section.firstIndex(of: ".") {
            return .decimals(section[section.index(after: dot)...].prefix { $0 == "0" || $0 == "#" }.count)
        }
        if section.contains("0") || section.contains("#") { return .decimals(0) }
        return .general
    }

    /// Excel writes characters XML cannot hold as `_xHHHH_`; read them back as the characters
    /// (which the cell checks then refuse if they are control characters).
    static func unescapeExcel(_ text: String) -> String {
        guard text.contains("_x") else { return text }
        var out = ""
        var rest = Substring(text)
        while let start = rest.range(of: "_x") {
            out += rest[..<start.lowerBound]
            let hex = rest[start.upperBound...].prefix(5)
            if hex.count == 5, hex.last == "_", let value = UInt32(hex.dropLast(), radix: 16), let scalar = Unicode.Scalar(value) {
                out.unicodeScalars.append(scalar)
                rest = rest[rest.index(start.upperBound, offsetBy: 5)...]
            } else {
                out += "_x"
                rest = rest[start.upperBound...]
            }
        }
        return out + rest
    }
}

/// The sheet's rows, cell by cell, as the parser meets them.
private final class SheetHandler: NSObject, XMLParserDelegate {
    let strings: [String]
    let styles: [XLSXReader.NumberShape]
    let merges: [(reference: String, firstRow: Int, lastRow: Int)]
    let body: (CSVFile.Record) throws -> Void
    var thrown: Error?
    var problems: [FileProblem] = []
    var problemCount = 0

    var rowNumber = 0
    var headerWidth: Int?
    var cells: [String] = []
    var cellColumn = 0
    var nextColumn = 0
    var cellType = "n"
    var cellStyle = 0
    var value = ""
    var inValue = false
    var inInline = false
    var phonetic = 0

    init(strings: [String], styles: [XLSXReader.NumberShape], merges: [(reference: String, firstRow: Int, lastRow: Int)],
         body: @escaping (CSVFile.Record) throws -> Void) {
        self.strings = strings
        self.styles = styles
        self.merges = merges
        self.body = body
    }

    func parser(_ parser: XMLParser, didStartElement element: String, namespaceURI: String?, qualifiedName: String?,
                attributes: [String: String] = [:]) {
        switch element {
        case "row":
            rowNumber = attributes["r"].flatMap(Int.init) ?? rowNumber + 1
            cells.removeAll(keepingCapacity: true)
            nextColumn = 0
        case "c":
            // A cell without `r` is the one after the cell before it, empty or not (ECMA-376
            // §18.3.1.4; `XLSXWriter` writes cells so).
            cellColumn = attributes["r"].flatMap(XLSXReader.column(of:)) ?? nextColumn
            nextColumn = cellColumn + 1
            cellType = attributes["t"] ?? "n"
            cellStyle = attributes["s"].flatMap(Int.init) ?? 0
            value = ""
        case "v":
            inValue = true
        case "is":
            inInline = true
        case "t":
            if inInline && phonetic == 0 { inValue = true }
        case "rPh":
            phonetic += 1
        default:
            break
        }
    }

    func parser(_ parser: XMLParser, foundCharacters string: String) {
        if inValue { value += string }
    }

    func parser(_ parser: XMLParser, didEndElement element: String, namespaceURI: String?, qualifiedName: String?) {
        switch element {
        case "v", "t":
            inValue = false
        case "is":
            inInline = false
        case "rPh":
            phonetic -= 1
        case "c":
            let text = cellText()
            guard !text.isEmpty else { return }
            if cells.count <= cellColumn { cells += Array(repeating: "", count: cellColumn - cells.count + 1) }
            cells[cellColumn] = text
        case "row":
            guard !cells.isEmpty else { return }
            // Excel stores no empty cells: a row ends at its last value. Up to the header's
            // width the missing cells are empty values; past it, a value is an extra cell.
            if let width = headerWidth {
                if cells.count < width { cells += Array(repeating: "", count: width - cells.count) }
            } else {
                headerWidth = cells.count
                // The header is one row naming each column in its own cell: merged cells in it
                // (a title over the columns, a group heading over two rows) are refused.
                let merged = merges.filter { $0.firstRow <= rowNumber && $0.lastRow >= rowNumber }
                if !merged.isEmpty {
                    thrown = AppError(.input, code: "BAD_FILE", Text(
                        en: "the header row has merged cells: an import reads one header row naming each column in its own cell; unmerge the cells, keep a single header row and delete any title or heading rows above or below it; nothing was imported",
                        zh: "表头行含有合并单元格：导入只读取一行表头，每列名称各占一个单元格；请取消合并，只保留一行表头，并删除其上下的标题行或分组表头行；未导入任何数据"),
                        problems: merged.map { FileProblem(line: rowNumber, problem: Text(en: "cells \($0.reference) are merged", zh: "单元格 \($0.reference) 已合并")) })
                    parser.abortParsing()
                    return
                }
            }
            do {
                try body(CSVFile.Record(line: rowNumber, fields: cells, quoted: Array(repeating: false, count: cells.count)))
            } catch {
                thrown = error
                parser.abortParsing()
            }
        default:
            break
        }
    }

    /// The cell's text as shown, recording a problem when it cannot be.
    func cellText() -> String {
        switch cellType {
        case "s":
            guard let index = Int(value), strings.indices.contains(index) else { return problem(Text(en: "the cell names a shared string that does not exist", zh: "单元格引用的共享字符串不存在")) }
            return strings[index]
        case "inlineStr", "str":
            return XLSXReader.unescapeExcel(value)
        case "b":
            return value == "1" ? "TRUE" : value == "0" ? "FALSE" : value
        case "e":
            return problem(Text(en: "the cell shows the formula error \(TextValue.quoted(value)): correct the formula or type the value",
                                zh: "单元格显示公式错误 \(TextValue.quoted(value))：请改正公式或直接输入值"))
        case "d":
            return String(value.prefix(10))
        default:
            guard !value.isEmpty else { return "" }
            let shape = styles.indices.contains(cellStyle) ? styles[cellStyle] : .general
            let (text, why) = XLSXReader.shown(value, shape: shape)
            if let why { return problem(why) }
            return text ?? ""
        }
    }

    private func problem(_ text: Text) -> String {
        problemCount += 1
        if problems.count < 1_000 { problems.append(FileProblem(line: rowNumber, column: cellColumn + 1, problem: text)) }
        return ""
    }
}
