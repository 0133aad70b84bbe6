import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// One cell of a written workbook.
public enum XLSXCell: Sendable, Equatable {
    /// Text, kept as typed: resident IDs, bank accounts, codes and names (Excel never turns a
    /// text cell into `3.20321E+17`, and the cell is formatted `@` so editing keeps it text).
    case text(String)
    /// Money, shown as a number with two decimals (`0.00`).
    case amount(Fen)
    /// A whole number (days, counts, a row's sequence number).
    case integer(Int64)
    case empty

    /// A listing's value as a cell: amounts (yuan with exactly two decimals) as numbers, whole
    /// numbers as numbers unless the column holds codes or identifiers, everything else as text.
    public static func guess(key: String, value: String?) -> XLSXCell {
        guard let value, !value.isEmpty else { return .empty }
        let identifying = ["id", "code", "account", "number", "post", "reference", "month", "household", "batch", "login", "phone"]
            .contains { key == $0 || key.hasSuffix("_" + $0) || key.hasPrefix($0 + "_") }
        if !identifying {
            let bytes = Array(value.utf8)
            let digits = bytes.drop { $0 == 0x2D }
            if bytes.count <= 16, bytes.count - digits.count <= 1, let dot = digits.firstIndex(of: 0x2E),
               digits.distance(from: dot, to: digits.endIndex) == 3, let fen = Fen(yuan: String(decoding: digits, as: UTF8.self)) {
                return .amount(bytes.first == 0x2D ? Fen(-fen.value) : fen)
            }
            if bytes.count <= 15, !digits.isEmpty, bytes.count - digits.count <= 1, digits.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }),
               digits.first != 0x30 || digits.count == 1, let number = Int64(value) {
                return .integer(number)
            }
        }
        return .text(value)
    }
}

/// Writes an Excel workbook (SPEC §15: IDs and accounts as text cells, amounts as numbers with
/// two decimals) without holding it in memory: each sheet's rows are written as XML and
/// deflated as they come (the system zlib, fastest level) into a file in a private temporary
/// folder, its CRC and sizes counted on the way; `finish` writes the zip — the small parts, then
/// each sheet's deflated bytes copied as they are — into the `SafeFile` the caller commits
/// (0600, never through a link, complete or absent).
///
/// Cells are inline strings (no shared-string table to keep), so a million rows cost the same
/// memory as one. The one writer of workbooks; `XLSXReader` is the one reader.
///
/// The zip is written here rather than by ZIPFoundation (which the reader uses): it deflated at
/// zlib's default level through `Data` chunks, a sheet's XML written to a file, read back, the
/// zip written to a second file and copied (issue 17: three fifths of an xlsx export's
/// instructions). Level 1 is valid deflate that every reader takes; the workbook is larger
/// (about a third) and reads back the same.
public final class XLSXWriter {
    private let folder: String
    private var sheets: [(name: String, entry: XLSXZip.Entry)] = []
    private var current: XLSXZip.DeflatingFile?
    /// The sheet's XML not yet deflated (64 KiB at a time), its memory the writer's own.
    private var sink = ByteSink(capacity: 1 << 17)
    private var rowNumber = 0
    private var finished = false

    public init() throws {
        let temporary = NSTemporaryDirectory()
        let base: String = temporary.hasSuffix("/") ? temporary : temporary + "/"
        var template: [CChar] = Array((base + "welfare-posts-xlsx-XXXXXX").utf8CString)
        guard let made = template.withUnsafeMutableBufferPointer({ mkdtemp($0.baseAddress!) }) else {
            throw AppError.badInput(Text(en: "cannot create a temporary folder for the workbook: \(String(cString: strerror(errno)))",
                                         zh: "无法为工作簿创建临时文件夹：\(String(cString: strerror(errno)))"), code: "BAD_OUTPUT")
        }
        folder = String(cString: made)
    }

    deinit {
        current?.abandon()
        removeFolder()
        sink.free()
    }

    /// Starts a new sheet (ending the one before); its name is cut to Excel's 31 characters.
    public func beginSheet(_ name: String) throws {
        try endSheet()
        let path = folder + "/sheet\(sheets.count + 1).deflate"
        current = try XLSXZip.DeflatingFile(path: path, entryName: "xl/worksheets/sheet\(sheets.count + 1).xml")
        let cleaned = String(name.unicodeScalars.filter { !"[]:*?/\\".unicodeScalars.contains($0) }.prefix(31).map(Character.init))
        sheets.append((cleaned.isEmpty ? "Sheet\(sheets.count + 1)" : cleaned, XLSXZip.Entry(name: "", path: path)))
        rowNumber = 0
        try append("""
            <?xml version="1.0" encoding="UTF-8" standalone="yes"?>
            <worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>
            """)
    }

    /// Appends one row to the current sheet. Every row and every cell names its place (`r`):
    /// ECMA-376 makes a cell's `r` optional, but readers that banks' import systems are built
    /// on have failed on cells without it (the Java excel-streaming-reader over Apache POI
    /// threw, Spout, creek and older calamine refused or skipped them), and a bank file its
    /// bank cannot read leaves people unpaid. The bytes go straight into the kept buffer from
    /// constant pieces, digits and references written directly, text copied as it is unless
    /// it must be escaped: nothing is allocated per row or cell (issue 17).
    public func row(_ cells: [XLSXCell]) throws {
        try writeRow { row, sink, file in
            for (column, cell) in cells.enumerated() {
                switch cell {
                case .empty: continue
                case .text(let text): try XLSXWriter.text(text, column, row, &sink, file)
                case .amount(let fen): try XLSXWriter.amount(fen.value, column, row, &sink, file)
                case .integer(let value): try XLSXWriter.integer(value, column, row, &sink, file)
                }
            }
        }
    }

    /// A bank file's row, its values written as `row` writes `.text`, `.amount` and `.integer`
    /// (no array of cells made per row).
    func bankRow(_ values: [BankValue]) throws {
        try writeRow { row, sink, file in
            for (column, value) in values.enumerated() {
                switch value {
                case .text(let text): try XLSXWriter.text(text, column, row, &sink, file)
                case .fen(let fen): try XLSXWriter.amount(fen, column, row, &sink, file)
                case .integer(let number): try XLSXWriter.integer(number, column, row, &sink, file)
                }
            }
        }
    }

    /// The next row of the current sheet: `<row r="N">`, the cells `body` writes, `</row>`.
    @inline(__always) private func writeRow(_ body: (_ row: Int, _ sink: inout ByteSink, _ file: XLSXZip.DeflatingFile) throws -> Void) throws {
        guard let file = current else { preconditionFailure("row before beginSheet") }
        rowNumber += 1
        var sink = self.sink
        defer { self.sink = sink }
        try XLSXWriter.openRow(rowNumber, &sink, file)
        try body(rowNumber, &sink, file)
        try XLSXWriter.closeRow(&sink, file)
    }

    private static func openRow(_ row: Int, _ sink: inout ByteSink, _ file: XLSXZip.DeflatingFile) throws {
        try sink.reserve(32, flushing: file)
        sink.put("<row r=\"")
        sink.putDigits(UInt64(row))
        sink.put("\">")
    }

    private static func closeRow(_ sink: inout ByteSink, _ file: XLSXZip.DeflatingFile) throws {
        try sink.reserve(16, flushing: file)
        sink.put("</row>")
        if sink.count >= 1 << 16 { try sink.flush(into: file) }
    }

    /// `<c r="B12"`: a cell and its place (`column` 0-based).
    @inline(__always) private static func openCell(_ column: Int, _ row: Int, _ sink: inout ByteSink) {
        sink.put("<c")
        sink.putReference(column: column, row: row)
    }

    private static func text(_ text: String, _ column: Int, _ row: Int, _ sink: inout ByteSink, _ file: XLSXZip.DeflatingFile) throws {
        var text = text
        try text.withUTF8 { utf8 in
            try sink.reserve(128 + 7 * utf8.count, flushing: file)
            // Text without a space, a control character or anything to escape (names, IDs,
            // accounts, batch numbers): its bytes as they are, and no `xml:space` — that only
            // keeps whitespace. Anything else escaped, whitespace kept.
            var plain = true
            for byte in utf8 where byte <= 0x20 || byte == 0x26 || byte == 0x3C || byte == 0x3E || byte == 0xEF {
                plain = false
                break
            }
            openCell(column, row, &sink)
            if plain {
                sink.put(" t=\"inlineStr\" s=\"1\"><is><t>")
                sink.put(utf8)
            } else {
                sink.put(" t=\"inlineStr\" s=\"1\"><is><t xml:space=\"preserve\">")
                var escaped: [UInt8] = []
                XLSXWriter.escape(String(decoding: utf8, as: UTF8.self), into: &escaped)
                escaped.withUnsafeBufferPointer { sink.put($0) }
            }
            sink.put("</t></is></c>")
        }
    }

    private static func amount(_ fen: Int64, _ column: Int, _ row: Int, _ sink: inout ByteSink, _ file: XLSXZip.DeflatingFile) throws {
        try sink.reserve(96, flushing: file)
        openCell(column, row, &sink)
        sink.put(" s=\"2\"><v>")
        sink.putYuan(fen)
        sink.put("</v></c>")
    }

    private static func integer(_ value: Int64, _ column: Int, _ row: Int, _ sink: inout ByteSink, _ file: XLSXZip.DeflatingFile) throws {
        try sink.reserve(96, flushing: file)
        openCell(column, row, &sink)
        sink.put(" s=\"3\"><v>")
        if value < 0 { sink.putByte(0x2D) }
        sink.putDigits(value.magnitude)
        sink.put("</v></c>")
    }

    /// Writes the workbook into `file` (which the caller then commits). The writer is done.
    public func finish(into file: SafeFile) throws {
        precondition(!finished, "finish twice")
        finished = true
        if sheets.isEmpty { try beginSheet("Sheet1") }
        try endSheet()
        var parts: [(String, String)] = []
        parts.append(("[Content_Types].xml", """
                <?xml version="1.0" encoding="UTF-8" standalone="yes"?>
                <Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">\
                <Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>\
                <Default Extension="xml" ContentType="application/xml"/>\
                <Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>\
                <Override PartName="/xl/styles.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>\
                \(sheets.indices.map { "<Override PartName=\"/xl/worksheets/sheet\($0 + 1).xml\" ContentType=\"application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml\"/>" }.joined())\
                </Types>
                """))
        parts.append(("_rels/.rels", """
                <?xml version="1.0" encoding="UTF-8" standalone="yes"?>
                <Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">\
                <Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/>\
                </Relationships>
                """))
        parts.append(("xl/workbook.xml", """
                <?xml version="1.0" encoding="UTF-8" standalone="yes"?>
                <workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets>\
                \(sheets.enumerated().map { "<sheet name=\"\(XLSXWriter.escaped($1.name))\" sheetId=\"\($0 + 1)\" r:id=\"rId\($0 + 1)\"/>" }.joined())\
                </sheets></workbook>
                """))
        parts.append(("xl/_rels/workbook.xml.rels", """
                <?xml version="1.0" encoding="UTF-8" standalone="yes"?>
                <Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">\
                \(sheets.indices.map { "<Relationship Id=\"rId\($0 + 1)\" Type=\"http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet\" Target=\"worksheets/sheet\($0 + 1).xml\"/>" }.joined())\
                <Relationship Id="rId\(sheets.count + 1)" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles" Target="styles.xml"/>\
                </Relationships>
                """))
        // Styles: 0 general, 1 text (@), 2 amounts (0.00), 3 whole numbers (0).
        parts.append(("xl/styles.xml", """
                <?xml version="1.0" encoding="UTF-8" standalone="yes"?>
                <styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">\
                <fonts count="1"><font><sz val="11"/><name val="Calibri"/></font></fonts>\
                <fills count="2"><fill><patternFill patternType="none"/></fill><fill><patternFill patternType="gray125"/></fill></fills>\
                <borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>\
                <cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>\
                <cellXfs count="4"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>\
                <xf numFmtId="49" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>\
                <xf numFmtId="2" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>\
                <xf numFmtId="1" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/></cellXfs>\
                <cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>\
                </styleSheet>
                """))
        var zip = XLSXZip.Writer(file: file)
        for (name, text) in parts {
            let path = folder + "/part.deflate"
            let part = try XLSXZip.DeflatingFile(path: path, entryName: name)
            try part.add(Array(text.utf8))
            try zip.add(try part.finish())
            unlink(path)
        }
        for sheet in sheets {
            try zip.add(sheet.entry)
            unlink(sheet.entry.path)
        }
        try zip.finish()
        removeFolder()
    }

    // MARK: Internals

    private func endSheet() throws {
        guard let file = current else { return }
        try append("</sheetData></worksheet>")
        try flush()
        current = nil
        sheets[sheets.count - 1].entry = try file.finish()
    }

    private func append(_ text: String) throws {
        var text = text
        try text.withUTF8 { utf8 in
            try sink.reserve(utf8.count, flushing: current!)
            sink.put(utf8)
        }
    }

    private func flush() throws {
        guard let file = current else { return }
        try sink.flush(into: file)
    }

    private func failure(_ error: Int32) -> AppError {
        AppError.badInput(Text(en: "cannot write the workbook: \(String(cString: strerror(error)))",
                               zh: "无法写入工作簿：\(String(cString: strerror(error)))"), code: "BAD_OUTPUT")
    }

    private func removeFolder() {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: folder) else { return }
        for name in names { unlink(folder + "/" + name) }
        rmdir(folder)
    }

    /// XML text: `& < >` escaped; characters XML 1.0 cannot hold (control characters, U+FFFE,
    /// U+FFFF) written as Excel writes them, `_xHHHH_`, so the cell shows where they were.
    static func escape(_ text: String, into out: inout [UInt8]) {
        // Most text holds nothing to escape: its bytes as they are, found in one pass.
        var text = text
        let plain = text.withUTF8 { utf8 -> Bool in
            for byte in utf8 where byte < 0x20 || byte == 0x26 || byte == 0x3C || byte == 0x3E || byte == 0xEF { return false }
            out.append(contentsOf: utf8)
            return true
        }
        if plain { return }
        for scalar in text.unicodeScalars {
            switch scalar {
            case "&": out += Array("&amp;".utf8)
            case "<": out += Array("&lt;".utf8)
            case ">": out += Array("&gt;".utf8)
            case "\t", "\n", "\r": out += Array(String(scalar).utf8)
            default:
                if scalar.value < 0x20 || scalar.value == 0xFFFE || scalar.value == 0xFFFF {
                    out += Array(String(format: "_x%04X_", scalar.value).utf8)
                } else {
                    out += Array(String(scalar).utf8)
                }
            }
        }
    }

    static func escaped(_ text: String) -> String {
        var out: [UInt8] = []
        escape(text, into: &out)
        return String(decoding: out, as: UTF8.self).replacingOccurrences(of: "\"", with: "&quot;")
    }
}


/// A sheet's XML as it is made: bytes in memory of its own (no array's checks or copies per
/// piece), deflated into the sheet's file when full. `reserve` before writing: `put` and the
/// others assume the room is there.
struct ByteSink {
    private(set) var base: UnsafeMutablePointer<UInt8>
    private(set) var count = 0
    private(set) var capacity: Int

    init(capacity: Int) {
        base = UnsafeMutablePointer<UInt8>.allocate(capacity: capacity)
        self.capacity = capacity
    }

    func free() { base.deallocate() }

    /// Makes room for `bytes` more: the bytes so far deflated into `file` if they must go,
    /// the memory made larger if even an empty buffer is too small.
    mutating func reserve(_ bytes: Int, flushing file: XLSXZip.DeflatingFile) throws {
        if capacity - count >= bytes { return }
        try flush(into: file)
        if capacity < bytes {
            base.deallocate()
            capacity = bytes * 2
            base = UnsafeMutablePointer<UInt8>.allocate(capacity: capacity)
        }
    }

    mutating func flush(into file: XLSXZip.DeflatingFile) throws {
        guard count > 0 else { return }
        try file.add(UnsafeBufferPointer(start: base, count: count))
        count = 0
    }

    @inline(__always) mutating func put(_ text: StaticString) {
        (base + count).update(from: text.utf8Start, count: text.utf8CodeUnitCount)
        count += text.utf8CodeUnitCount
    }

    @inline(__always) mutating func put(_ bytes: UnsafeBufferPointer<UInt8>) {
        guard let start = bytes.baseAddress else { return }
        (base + count).update(from: start, count: bytes.count)
        count += bytes.count
    }

    @inline(__always) mutating func putByte(_ byte: UInt8) {
        base[count] = byte
        count += 1
    }

    /// `String(value)`'s bytes.
    mutating func putDigits(_ value: UInt64) {
        var length = 1, rest = value
        while rest >= 10 { rest /= 10; length += 1 }
        rest = value
        for position in stride(from: count + length - 1, through: count, by: -1) {
            base[position] = UInt8(0x30 + rest % 10)
            rest /= 10
        }
        count += length
    }

    /// `Fen(fen).yuanText`'s bytes: `1150.00`, `-0.50`.
    mutating func putYuan(_ fen: Int64) {
        if fen < 0 { putByte(0x2D) }
        let magnitude = fen.magnitude
        putDigits(magnitude / 100)
        putByte(0x2E)
        putByte(UInt8(0x30 + magnitude % 100 / 10))
        putByte(UInt8(0x30 + magnitude % 10))
    }

    /// ` r="B12"`: a cell's place (0-based column; Excel's columns end at XFD, three letters).
    mutating func putReference(column: Int, row: Int) {
        put(" r=\"")
        let n = column + 1
        if n > 702 { putByte(UInt8(65 + (n - 703) / 676 % 26)) }
        if n > 26 { putByte(UInt8(65 + ((n - 27) / 26) % 26)) }
        putByte(UInt8(65 + (n - 1) % 26))
        putDigits(UInt64(row))
        putByte(0x22)
    }
}
