#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// One file of a bank batch being written in a profile's shape: CSV or TXT in UTF-8 or GBK, or
/// an Excel workbook; its name, which carries the batch number, the row count and the total,
/// is given when it is complete (`SafeFile.commit(as:)`).
final class BankFileWriter {
    let profile: BankProfile
    let file: SafeFile
    private let workbook: XLSXWriter?
    private let encoder: GBKEncoder?
    private(set) var rows = 0
    private(set) var totalFen: Int64 = 0
    let extraHeader: String?

    /// - Parameter extraHeader: a last column's header (a draft's 草稿 DRAFT mark), if any.
    init(profile: BankProfile, folder: String, sheet: String, extraHeader: String? = nil) throws {
        self.profile = profile
        self.extraHeader = extraHeader
        file = try SafeFile(path: folder + "/.batch." + profile.fileExtension)
        encoder = profile.encoding == "gbk" && profile.format != "xlsx" ? try GBKEncoder() : nil
        let headers = profile.headers + (extraHeader.map { [$0] } ?? [])
        if profile.format == "xlsx" {
            workbook = try XLSXWriter()
            try workbook!.beginSheet(sheet)
            try workbook!.row(headers.map { .text($0) })
        } else {
            workbook = nil
            if profile.encoding == "utf-8" && profile.format == "csv" { try file.write([0xEF, 0xBB, 0xBF]) }
            try writeLine(headers, line: 1)
        }
    }

    /// One row: `values` by the profile's columns (text as it is, amounts as fen).
    func row(_ values: [BankValue], amount: Int64, line: Int) throws {
        rows += 1
        totalFen += amount
        if let workbook {
            try workbook.bankRow(values)
        } else {
            // The kept buffer is taken out of the property while the line is made (no
            // exclusivity check per byte appended).
            var bytes = self.line
            self.line = []
            bytes.removeAll(keepingCapacity: true)
            let separator = self.separator, isCSV = self.isCSV, isTXT = self.isTXT, longSeparator = separator.count > 1 ? profile.separator : nil
            for (index, value) in values.enumerated() {
                if index > 0 && isCSV { bytes += separator }
                switch value {
                case .text(let text):
                    BankFileWriter.appendField(BankFileWriter.mayBeFormula(text) ? TextValue.spreadsheetSafe(text) : text, separator: separator,
                                               longSeparator: longSeparator, into: &bytes)
                case .fen(let fen): BankFileWriter.appendYuan(fen, into: &bytes)
                case .integer(let number): BankFileWriter.appendDecimal(number, into: &bytes)
                }
                if isTXT { bytes += separator }
            }
            self.line = bytes
            try endLine(line: line)
        }
    }

    /// CSV: fields separated, a field holding the separator, a quote or a line break quoted.
    /// TXT: every field followed by the separator (`序号|姓名|帐号|金额|身份证|`), as banks'
    /// text templates have it; a field holding the separator is quoted too.
    private lazy var separator = Array(profile.separator.utf8)
    private lazy var isCSV = profile.format == "csv"
    private lazy var isTXT = profile.format == "txt"
    /// The line being made, and its GBK form: kept from row to row (no array made per row).
    private var line: [UInt8] = []
    private var encoded: [UInt8] = []

    private func writeLine(_ fields: [String], line: Int) throws {
        self.line.removeAll(keepingCapacity: true)
        for (index, field) in fields.enumerated() {
            if index > 0 && isCSV { self.line += separator }
            BankFileWriter.appendField(field, separator: separator, longSeparator: separator.count > 1 ? profile.separator : nil, into: &self.line)
            if isTXT { self.line += separator }
        }
        try endLine(line: line)
    }

    /// A field's bytes, quoted when it holds a quote, a line break or the separator.
    private static func appendField(_ field: String, separator: [UInt8], longSeparator: String?, into line: inout [UInt8]) {
        var field = field
        let first = separator[0]
        field.withUTF8 { utf8 in
            var needsQuotes = false
            for byte in utf8 where byte == 0x22 || byte == 0x0A || byte == 0x0D || byte == first {
                needsQuotes = true
                break
            }
            if !needsQuotes, let longSeparator { needsQuotes = String(decoding: utf8, as: UTF8.self).contains(longSeparator) }
            if needsQuotes {
                line.append(0x22)
                for byte in utf8 {
                    if byte == 0x22 { line.append(0x22) }
                    line.append(byte)
                }
                line.append(0x22)
            } else {
                line.append(contentsOf: utf8)
            }
        }
    }

    /// CRLF, then the line into the file (in GBK for a GBK profile).
    private func endLine(line number: Int) throws {
        line.append(0x0D)
        line.append(0x0A)
        if let encoder {
            guard encoder.encode(line, into: &encoded) else {
                let text = String(decoding: line, as: UTF8.self)
                throw AppError(.rule, code: "NOT_IN_ENCODING", Text(
                    en: "row \(number) of the file holds a character that GBK cannot write (\(TextValue.quoted(text, limit: 60))): correct the name, or give the profile --encoding utf-8",
                    zh: "文件第 \(number) 行含有 GBK 无法表示的字符（\(TextValue.quoted(text, limit: 60))）：请更正姓名，或将模板改为 --encoding utf-8"))
            }
            try file.write(encoded)
        } else {
            try file.write(line)
        }
    }

    /// Whether `TextValue.spreadsheetSafe` may change the text (its first character is one
    /// a spreadsheet reads as a formula, a tab or a CR): the one test made of every field.
    static func mayBeFormula(_ text: String) -> Bool {
        guard let first = text.utf8.first else { return false }
        return first == 0x3D || first == 0x2B || first == 0x2D || first == 0x40 || first == 0x09 || first == 0x0D
    }

    /// `Fen(fen).yuanText`'s bytes (`800.50`, `-12.34`), without making the string.
    static func appendYuan(_ fen: Int64, into out: inout [UInt8]) {
        let magnitude = fen.magnitude
        if fen < 0 { out.append(0x2D) }
        appendDigits(magnitude / 100, into: &out)
        out.append(0x2E)
        let cents = magnitude % 100
        out.append(UInt8(0x30 + cents / 10))
        out.append(UInt8(0x30 + cents % 10))
    }

    /// `String(number)`'s bytes.
    static func appendDecimal(_ number: Int64, into out: inout [UInt8]) {
        if number < 0 { out.append(0x2D) }
        appendDigits(number.magnitude, into: &out)
    }

    private static func appendDigits(_ value: UInt64, into out: inout [UInt8]) {
        var digits: (UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8,
                     UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8) =
            (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
        var count = 0
        var rest = value
        withUnsafeMutableBytes(of: &digits) { buffer in
            repeat {
                buffer[19 - count] = UInt8(0x30 + rest % 10)
                rest /= 10
                count += 1
            } while rest > 0
            out.append(contentsOf: buffer[(20 - count)...])
        }
    }

    private var sealed = false

    /// Ends the writing (the workbook zipped, the file flushed and closed), keeping the
    /// temporary name: an export of many files holds one open at a time. Not yet `fsync`ed:
    /// `BankFileWriter.sync` does all of a batch's files at once.
    func seal() throws {
        guard !sealed else { return }
        sealed = true
        try workbook?.finish(into: file)
        try file.finishWriting(durable: false)
    }

    /// Seals every writer and makes their data durable together (`SafeFile.sync`), before the
    /// batches are recorded.
    static func sync(_ writers: [BankFileWriter]) throws {
        for writer in writers { try writer.seal() }
        try SafeFile.sync(writers.map(\.file))
    }

    /// Makes the file complete under `name` in `folder`; the folder's `fsync` is the caller's
    /// (`SafeFile.syncFolder`, once for all the files).
    func commit(folder: String, name: String) throws {
        try seal()
        try file.commit(as: folder + "/" + name, syncingFolder: false)
    }

    func discard() { file.discard() }
}

enum BankValue {
    case text(String)
    case fen(Int64)
    case integer(Int64)
}

/// UTF-8 text to GBK through iconv (what banks' templates in China read).
final class GBKEncoder {
    private let handle: iconv_t

    init() throws {
        handle = iconv_open("GBK", "UTF-8")
        guard handle != iconv_t(bitPattern: -1) else {
            throw AppError(.rule, code: "NOT_IN_ENCODING", Text(en: "this system cannot write GBK: give the profile --encoding utf-8",
                                                                zh: "本系统无法写出 GBK 编码：请将模板改为 --encoding utf-8"))
        }
    }

    deinit { iconv_close(handle) }

    /// UTF-8 bytes in GBK, or nil when a character has no GBK form.
    func encode(_ utf8: [UInt8]) -> [UInt8]? {
        var output: [UInt8] = []
        return encode(utf8, into: &output) ? output : nil
    }

    /// UTF-8 bytes in GBK into `output` (its storage kept from call to call); false when a
    /// character has no GBK form. GBK takes at most two bytes a character, UTF-8 one to four.
    func encode(_ utf8: [UInt8], into output: inout [UInt8]) -> Bool {
        output.removeAll(keepingCapacity: true)
        guard !utf8.isEmpty else { return true }
        let capacity = utf8.count * 2 + 8
        var written = -1
        utf8.withUnsafeBufferPointer { inBuffer in
            output.append(contentsOf: repeatElement(0, count: capacity))
            output.withUnsafeMutableBufferPointer { outBuffer in
                var inPointer: UnsafeMutablePointer<CChar>? = UnsafeMutablePointer(mutating: UnsafeRawPointer(inBuffer.baseAddress!).assumingMemoryBound(to: CChar.self))
                var inLeft = inBuffer.count
                var outPointer: UnsafeMutablePointer<CChar>? = UnsafeMutableRawPointer(outBuffer.baseAddress!).assumingMemoryBound(to: CChar.self)
                var outLeft = outBuffer.count
                let result = iconv(handle, &inPointer, &inLeft, &outPointer, &outLeft)
                _ = iconv(handle, nil, nil, nil, nil)
                if result != -1 && inLeft == 0 { written = outBuffer.count - outLeft }
            }
        }
        guard written >= 0 else { return false }
        output.removeLast(output.count - written)
        return true
    }
}

/// Rows of `COPY … TO STDOUT` in text format: fields separated by tabs, `\N` for NULL,
/// backslash escapes.
enum CopyText {
    static func rows(_ bytes: [UInt8]) -> [[String?]] {
        var rows: [[String?]] = []
        forEachRow(bytes) { rows.append($0) }
        return rows
    }

    /// Each row of the chunk in turn, in one array kept from row to row (no array of rows is
    /// made, nor an array per row unless `body` keeps one).
    static func forEachRow(_ bytes: [UInt8], _ body: ([String?]) throws -> Void) rethrows {
        try bytes.withUnsafeBufferPointer { buffer in
            let count = buffer.count
            var fields: [String?] = []
            fields.reserveCapacity(16)
            var start = 0
            var escaped = false
            // Each field is found whole and made into a string once; only a field holding a
            // backslash is unescaped.
            func field(_ end: Int) -> String? {
                let slice = UnsafeBufferPointer(rebasing: buffer[start..<end])
                if slice.count == 2 && slice[0] == 0x5C && slice[1] == 0x4E { return nil }
                if escaped { return unescape(Array(slice)) }
                return String(decoding: slice, as: UTF8.self)
            }
            var index = 0
            while index < count {
                let byte = buffer[index]
                if byte == 0x09 || byte == 0x0A {
                    fields.append(field(index))
                    start = index + 1
                    escaped = false
                    if byte == 0x0A {
                        try body(fields)
                        fields.removeAll(keepingCapacity: true)
                    }
                } else if byte == 0x5C {
                    escaped = true
                }
                index += 1
            }
            if start < count || !fields.isEmpty {
                fields.append(field(count))
                try body(fields)
            }
        }
    }

    static func unescape(_ bytes: [UInt8]) -> String {
        guard bytes.contains(0x5C) else { return String(decoding: bytes, as: UTF8.self) }
        var out: [UInt8] = []
        var index = 0
        while index < bytes.count {
            if bytes[index] == 0x5C && index + 1 < bytes.count {
                let next = bytes[index + 1]
                switch next {
                case 0x74: out.append(0x09)
                case 0x6E: out.append(0x0A)
                case 0x72: out.append(0x0D)
                default: out.append(next)
                }
                index += 2
            } else {
                out.append(bytes[index])
                index += 1
            }
        }
        return String(decoding: out, as: UTF8.self)
    }
}
