import Foundation
import ZIPFoundation
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
/// two decimals) without holding it in memory: each sheet's rows are written as XML to a file
/// in a private temporary folder as they come, then the parts are deflated into the zip by
/// ZIPFoundation and the zip is copied into the `SafeFile` the caller commits (0600, never
/// through a link, complete or absent).
///
/// Cells are inline strings (no shared-string table to keep), so a million rows cost the same
/// memory as one. The one writer of workbooks; `XLSXReader` is the one reader.
public final class XLSXWriter {
    private let folder: String
    private var sheets: [(name: String, path: String)] = []
    private var current: UnsafeMutablePointer<FILE>?
    private var buffer: [UInt8] = []
    private var rowNumber = 0
    private var finished = false

    /// Column letters A, B, … of the first 702 columns (enough for any profile).
    private static let letters: [[UInt8]] = (0..<702).map { (index: Int) -> [UInt8] in
        if index < 26 { return [UInt8(65 + index)] }
        let first = UInt8(65 + index / 26 - 1), second = UInt8(65 + index % 26)
        return [first, second]
    }

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
        if let current { fclose(current) }
        removeFolder()
    }

    /// Starts a new sheet (ending the one before); its name is cut to Excel's 31 characters.
    public func beginSheet(_ name: String) throws {
        try endSheet()
        let path = folder + "/sheet\(sheets.count + 1).xml"
        guard let file = fopen(path, "wx") else { throw failure(errno) }
        current = file
        let cleaned = String(name.unicodeScalars.filter { !"[]:*?/\\".unicodeScalars.contains($0) }.prefix(31).map(Character.init))
        sheets.append((cleaned.isEmpty ? "Sheet\(sheets.count + 1)" : cleaned, path))
        rowNumber = 0
        append("""
            <?xml version="1.0" encoding="UTF-8" standalone="yes"?>
            <worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>
            """)
    }

    private static let rowOpen = Array("<row r=\"".utf8), cellOpen = Array("<c r=\"".utf8)
    private static let textOpen = Array("\" t=\"inlineStr\" s=\"1\"><is><t xml:space=\"preserve\">".utf8)
    private static let textClose = Array("</t></is></c>".utf8)
    private static let amountOpen = Array("\" s=\"2\"><v>".utf8), integerOpen = Array("\" s=\"3\"><v>".utf8)
    private static let valueClose = Array("</v></c>".utf8), rowClose = Array("</row>".utf8)

    /// Appends one row to the current sheet. Built in a local array from constant pieces (no
    /// array made per piece), then added to the buffer at once.
    public func row(_ cells: [XLSXCell]) throws {
        precondition(current != nil, "row before beginSheet")
        rowNumber += 1
        let number = Array(String(rowNumber).utf8)
        var line: [UInt8] = []
        line.reserveCapacity(64 + cells.count * 64)
        line.append(contentsOf: XLSXWriter.rowOpen)
        line.append(contentsOf: number)
        line.append(0x22)
        line.append(0x3E)
        for (index, cell) in cells.enumerated() {
            if case .empty = cell { continue }
            line.append(contentsOf: XLSXWriter.cellOpen)
            line.append(contentsOf: XLSXWriter.letters[min(index, 701)])
            line.append(contentsOf: number)
            switch cell {
            case .empty:
                continue
            case .text(let text):
                line.append(contentsOf: XLSXWriter.textOpen)
                XLSXWriter.escape(text, into: &line)
                line.append(contentsOf: XLSXWriter.textClose)
            case .amount(let fen):
                line.append(contentsOf: XLSXWriter.amountOpen)
                line.append(contentsOf: fen.yuanText.utf8)
                line.append(contentsOf: XLSXWriter.valueClose)
            case .integer(let value):
                line.append(contentsOf: XLSXWriter.integerOpen)
                line.append(contentsOf: String(value).utf8)
                line.append(contentsOf: XLSXWriter.valueClose)
            }
        }
        line.append(contentsOf: XLSXWriter.rowClose)
        buffer.append(contentsOf: line)
        if buffer.count >= 1 << 16 { try flush() }
    }

    /// Writes the workbook into `file` (which the caller then commits). The writer is done.
    public func finish(into file: SafeFile) throws {
        precondition(!finished, "finish twice")
        finished = true
        if sheets.isEmpty { try beginSheet("Sheet1") }
        try endSheet()
        let zipPath = folder + "/book.xlsx"
        do {
            let archive = try Archive(url: URL(fileURLWithPath: zipPath), accessMode: .create)
            func add(_ name: String, _ text: String) throws {
                let data = Data(text.utf8)
                try archive.addEntry(with: name, type: .file, uncompressedSize: Int64(data.count), compressionMethod: .deflate) { position, size in
                    data.subdata(in: Int(position)..<Int(position) + size)
                }
            }
            try add("[Content_Types].xml", """
                <?xml version="1.0" encoding="UTF-8" standalone="yes"?>
                <Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">\
                <Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>\
                <Default Extension="xml" ContentType="application/xml"/>\
                <Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>\
                <Override PartName="/xl/styles.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>\
                \(sheets.indices.map { "<Override PartName=\"/xl/worksheets/sheet\($0 + 1).xml\" ContentType=\"application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml\"/>" }.joined())\
                </Types>
                """)
            try add("_rels/.rels", """
                <?xml version="1.0" encoding="UTF-8" standalone="yes"?>
                <Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">\
                <Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/>\
                </Relationships>
                """)
            try add("xl/workbook.xml", """
                <?xml version="1.0" encoding="UTF-8" standalone="yes"?>
                <workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets>\
                \(sheets.enumerated().map { "<sheet name=\"\(XLSXWriter.escaped($1.name))\" sheetId=\"\($0 + 1)\" r:id=\"rId\($0 + 1)\"/>" }.joined())\
                </sheets></workbook>
                """)
            try add("xl/_rels/workbook.xml.rels", """
                <?xml version="1.0" encoding="UTF-8" standalone="yes"?>
                <Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">\
                \(sheets.indices.map { "<Relationship Id=\"rId\($0 + 1)\" Type=\"http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet\" Target=\"worksheets/sheet\($0 + 1).xml\"/>" }.joined())\
                <Relationship Id="rId\(sheets.count + 1)" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles" Target="styles.xml"/>\
                </Relationships>
                """)
            // Styles: 0 general, 1 text (@), 2 amounts (0.00), 3 whole numbers (0).
            try add("xl/styles.xml", """
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
                """)
            for (index, sheet) in sheets.enumerated() {
                try archive.addEntry(with: "xl/worksheets/sheet\(index + 1).xml", fileURL: URL(fileURLWithPath: sheet.path),
                                     compressionMethod: .deflate, bufferSize: 1 << 16)
                unlink(sheet.path)
            }
        } catch let error as AppError {
            throw error
        } catch {
            throw AppError.badInput(Text(en: "cannot write the workbook: \(error)", zh: "无法写入工作簿：\(error)"), code: "BAD_OUTPUT")
        }
        // The finished zip into the caller's file.
        guard let zip = fopen(zipPath, "r") else { throw failure(errno) }
        defer { fclose(zip) }
        var chunk = [UInt8](repeating: 0, count: 1 << 20)
        while true {
            let count = chunk.withUnsafeMutableBytes { fread($0.baseAddress, 1, $0.count, zip) }
            if count > 0 { try file.write(Array(chunk[0..<count])) }
            if count < chunk.count {
                if ferror(zip) != 0 { throw failure(errno) }
                break
            }
        }
        removeFolder()
    }

    // MARK: Internals

    private func endSheet() throws {
        guard let file = current else { return }
        append("</sheetData></worksheet>")
        try flush()
        current = nil
        guard fclose(file) == 0 else { throw failure(errno) }
    }

    private func append(_ text: String) { buffer += Array(text.utf8) }

    private func flush() throws {
        guard let file = current, !buffer.isEmpty else { return }
        let written = buffer.withUnsafeBytes { fwrite($0.baseAddress, 1, $0.count, file) }
        guard written == buffer.count else { throw failure(errno) }
        buffer.removeAll(keepingCapacity: true)
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
        for byte in text.utf8 where byte < 0x20 || byte == 0x26 || byte == 0x3C || byte == 0x3E || byte == 0xEF {
            _ = byte
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
            return
        }
        out.append(contentsOf: text.utf8)
    }

    static func escaped(_ text: String) -> String {
        var out: [UInt8] = []
        escape(text, into: &out)
        return String(decoding: out, as: UTF8.self).replacingOccurrences(of: "\"", with: "&quot;")
    }
}
