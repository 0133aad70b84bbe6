#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A CSV file as the user saved it: UTF-8 with or without a byte-order mark, or GBK (what Excel
/// in China saves). Decoded to UTF-8 bytes once; records are read without copying the file.
/// Or an Excel workbook (.xlsx, told by its zip signature, whatever its name): its first sheet's
/// rows, read by `XLSXReader` as the cells show, go through the same checks.
///
/// What it refuses before a record is read (SPEC §10, exit 2): anything that is not a regular
/// file (a folder, a device such as /dev/zero, a FIFO, a socket), a file over 2 GiB, and a file
/// whose lines are not all in one encoding (UTF-8 rows with a GBK row pasted in, or the
/// reverse), naming each line that differs from the rest.
public struct CSVFile {
    /// The file's text as UTF-8, without a byte-order mark.
    let bytes: [UInt8]
    /// The workbook, when the file is one (then `bytes` is empty).
    let workbook: XLSXReader?
    /// The file's name without its folder, as the user gave it (empty for text made in memory).
    public let name: String

    /// The largest file an import reads: 2 GiB.
    public static let maximumSize = 2 << 30

    public init(path: String) throws {
        let shown = "'" + TextValue.quoted(path, limit: 200) + "'"
        // O_NONBLOCK: opening a FIFO that no one writes to returns at once instead of waiting
        // for a writer; what the descriptor is decides whether a byte is read.
        let descriptor = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC)
        guard descriptor >= 0 else {
            let reason = String(cString: strerror(errno))
            throw AppError.badInput(Text(en: "cannot open \(shown): \(reason)", zh: "无法打开文件 \(shown)：\(reason)"), code: "BAD_FILE")
        }
        defer { close(descriptor) }
        var status = stat()
        guard fstat(descriptor, &status) == 0 else {
            let reason = String(cString: strerror(errno))
            throw AppError.badInput(Text(en: "cannot read \(shown): \(reason)", zh: "无法读取文件 \(shown)：\(reason)"), code: "BAD_FILE")
        }
        guard status.st_mode & S_IFMT == S_IFREG else {
            let kind: Text = switch status.st_mode & S_IFMT {
            case S_IFDIR: Text(en: "a folder", zh: "文件夹")
            case S_IFCHR, S_IFBLK: Text(en: "a device", zh: "设备")
            case S_IFIFO: Text(en: "a pipe (FIFO)", zh: "管道（FIFO）")
            case S_IFSOCK: Text(en: "a socket", zh: "套接字")
            default: Text(en: "not a regular file", zh: "非普通文件")
            }
            throw AppError.badInput(Text(
                en: "\(shown) is \(kind.en), not a file: give the path of the saved CSV file; nothing was imported",
                zh: "\(shown) 是\(kind.zh)，不是文件：请给出已保存的 CSV 文件的路径；未导入任何数据"), code: "BAD_FILE")
        }
        let size = Int(status.st_size)
        guard size <= CSVFile.maximumSize else {
            throw CSVFile.tooLarge(shown)
        }
        // A regular file never blocks; read it whole, and never more than the cap if it grows.
        _ = fcntl(descriptor, F_SETFL, 0)
        var data = [UInt8]()
        data.reserveCapacity(size)
        var chunk = [UInt8](repeating: 0, count: 1 << 22)
        while true {
            let count = chunk.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
            if count < 0 {
                if errno == EINTR { continue }
                let reason = String(cString: strerror(errno))
                throw AppError.badInput(Text(en: "cannot read \(shown): \(reason)", zh: "无法读取文件 \(shown)：\(reason)"), code: "BAD_FILE")
            }
            if count == 0 { break }
            guard data.count + count <= CSVFile.maximumSize else { throw CSVFile.tooLarge(shown) }
            data.append(contentsOf: chunk[0..<count])
        }
        let base = path.split(separator: "/", omittingEmptySubsequences: true).last.map(String.init) ?? path
        if XLSXReader.looksLikeWorkbook(data) {
            self.init(workbook: try XLSXReader(data: data), name: base)
            return
        }
        try self.init(data: data, name: base)
    }

    static func tooLarge(_ shown: String) -> AppError {
        AppError.badInput(Text(
            en: "\(shown) is larger than 2 GiB, the most an import reads: split it into smaller files; nothing was imported",
            zh: "\(shown) 超过 2 GiB，即导入文件的上限：请拆分为较小的文件；未导入任何数据"), code: "BAD_FILE")
    }

    public init(data: [UInt8], name: String = "") throws {
        self.name = name
        workbook = nil
        let byteOrderMark = data.starts(with: [0xEF, 0xBB, 0xBF])
        let text = byteOrderMark ? Array(data.dropFirst(3)) : data
        // The usual case: the whole file is UTF-8.
        if text.withUnsafeBufferPointer({ CSVFile.firstInvalidUTF8(whole: $0) }) == nil {
            bytes = text
            return
        }
        bytes = try CSVFile.decodeNotUTF8(text, byteOrderMark: byteOrderMark)
    }

    /// A file that is not UTF-8 throughout: GBK if every line that is not plain ASCII reads as
    /// GBK; refused, naming the lines that differ, when some lines are UTF-8 and others not.
    ///
    /// A line counts as UTF-8 when it is valid UTF-8 and holds a character of three or more
    /// bytes (every Chinese character is one). A GBK line can pass as UTF-8 by chance, mostly as
    /// two-byte Latin or Greek letters; such lines count as neither and are read with the file.
    static func decodeNotUTF8(_ text: [UInt8], byteOrderMark: Bool) throws -> [UInt8] {
        struct Found { var line: Int; var offset: Int; var lineStart: Int }
        var utf8Lines: [Found] = [], otherLines: [Found] = []
        var utf8Count = 0, otherCount = 0
        var firstIsUTF8: Bool?
        let cap = 1_000
        text.withUnsafeBufferPointer { buffer in
            var line = 1
            var start = 0
            let count = buffer.count
            while start <= count {
                var end = start
                var ascii = true
                while end < count && buffer[end] != 0x0A && buffer[end] != 0x0D {
                    if buffer[end] >= 0x80 { ascii = false }
                    end += 1
                }
                if !ascii {
                    if let bad = firstInvalidUTF8(buffer, from: start, to: end) {
                        otherCount += 1
                        if otherLines.count < cap { otherLines.append(Found(line: line, offset: bad, lineStart: start)) }
                        if firstIsUTF8 == nil { firstIsUTF8 = false }
                    } else if let wide = firstWideUTF8(buffer, from: start, to: end) {
                        utf8Count += 1
                        if utf8Lines.count < cap { utf8Lines.append(Found(line: line, offset: wide, lineStart: start)) }
                        if firstIsUTF8 == nil { firstIsUTF8 = true }
                    }
                }
                if end >= count { break }
                end += (buffer[end] == 0x0D && end + 1 < count && buffer[end + 1] == 0x0A) ? 2 : 1
                line += 1
                start = end
            }
        }
        let isUTF8: Bool
        if byteOrderMark || otherCount == 0 {
            isUTF8 = true
        } else if utf8Count == 0 {
            isUTF8 = false
        } else if utf8Count != otherCount {
            isUTF8 = utf8Count > otherCount
        } else {
            isUTF8 = firstIsUTF8 ?? true
        }
        if !isUTF8 && utf8Count == 0 {
            // GBK throughout (as far as UTF-8 can tell): it must also read as GBK throughout.
            switch convertFromGB18030(text) {
            case .converted(let converted):
                return converted
            case .failed(let offset):
                let line = lineNumber(text, at: offset)
                throw AppError(.input, code: "BAD_FILE", Text(
                    en: "the file is neither UTF-8 nor GBK text: save it from Excel as \"CSV UTF-8\" and try again",
                    zh: "文件既不是 UTF-8 也不是 GBK 文本：请在 Excel 中另存为“CSV UTF-8”后重试"),
                    problems: [problem(text, line: line.line, lineStart: line.start, offset: offset, isUTF8: false,
                                       Text(en: "this line is neither UTF-8 nor GBK text", zh: "该行既不是 UTF-8 也不是 GBK 文本"))])
            case .unavailable:
                throw AppError(.input, code: "BAD_FILE", Text(
                    en: "the file is not UTF-8 and this system cannot read GBK: save it from Excel as \"CSV UTF-8\" and try again",
                    zh: "文件不是 UTF-8，且本系统无法读取 GBK：请在 Excel 中另存为“CSV UTF-8”后重试"))
            }
        }
        let wrong = isUTF8 ? otherLines : utf8Lines
        let wrongCount = isUTF8 ? otherCount : utf8Count
        let says: Text = isUTF8
            ? Text(en: "this line is not UTF-8 like the rest of the file (GBK?)", zh: "该行不是与文件其余部分相同的 UTF-8 编码（可能是 GBK）")
            : Text(en: "this line is UTF-8 while the rest of the file is GBK", zh: "该行是 UTF-8 编码，而文件其余部分是 GBK")
        var problems = wrong.map { problem(text, line: $0.line, lineStart: $0.lineStart, offset: $0.offset, isUTF8: isUTF8, says) }
        if wrongCount > wrong.count, let last = wrong.last {
            problems.append(FileProblem(line: last.line, problem: Text(en: "and \(wrongCount - wrong.count) more line(s) like these",
                                                                       zh: "另有 \(wrongCount - wrong.count) 行同样有误")))
        }
        let message: Text = byteOrderMark
            ? Text(en: "the file says it is UTF-8 (it starts with a byte-order mark) but \(wrongCount) line(s) are not; nothing was imported. Save the whole file again from Excel as \"CSV UTF-8\" and import it again:",
                   zh: "文件标明为 UTF-8（以字节顺序标记开头），但有 \(wrongCount) 行不是；未导入任何数据。请在 Excel 中将整个文件另存为“CSV UTF-8”后重新导入：")
            : Text(en: "the file mixes two text encodings (UTF-8 and GBK): \(wrongCount) line(s) differ from the rest; nothing was imported. Save the whole file again from Excel as \"CSV UTF-8\" and import it again:",
                   zh: "文件混用了两种文字编码（UTF-8 与 GBK）：有 \(wrongCount) 行与其余部分不同；未导入任何数据。请在 Excel 中将整个文件另存为“CSV UTF-8”后重新导入：")
        throw AppError(.input, code: "MIXED_ENCODING", message, problems: problems)
    }

    /// The problem of one line, at the column of the byte at `offset` (cells counted by the
    /// commas before it outside quotes) and that column's header when line 1 reads cleanly.
    static func problem(_ text: [UInt8], line: Int, lineStart: Int, offset: Int, isUTF8: Bool, _ says: Text) -> FileProblem {
        var column = 1
        var quoted = false
        for index in lineStart..<offset {
            if text[index] == UInt8(ascii: "\"") { quoted.toggle() }
            if text[index] == UInt8(ascii: ",") && !quoted { column += 1 }
        }
        var header: String?
        var end = 0
        while end < text.count && text[end] != 0x0A && text[end] != 0x0D { end += 1 }
        let first = Array(text[0..<end])
        let decoded: [UInt8]?
        if isUTF8 {
            decoded = firstInvalidUTF8(first, from: 0, to: first.count) == nil ? first : nil
        } else if firstInvalidUTF8(first, from: 0, to: first.count) == nil && firstWideUTF8(first, from: 0, to: first.count) != nil {
            decoded = nil
        } else if case .converted(let bytes) = convertFromGB18030(first) {
            decoded = bytes
        } else {
            decoded = nil
        }
        if let decoded, line > 1, let file = try? CSVFile(utf8: decoded) {
            try? file.forEachRecord { record in
                if header == nil, column <= record.fields.count { header = record.fields[column - 1].trimmingWhitespace() }
            }
        }
        return FileProblem(line: line, column: column, header: header, problem: says)
    }

    init(workbook: XLSXReader, name: String) {
        self.workbook = workbook
        bytes = []
        self.name = name
    }

    init(utf8: [UInt8]) throws {
        bytes = utf8
        workbook = nil
        name = ""
    }

    /// The line (1-based) holding byte `offset`, and where that line starts.
    static func lineNumber(_ text: [UInt8], at offset: Int) -> (line: Int, start: Int) {
        var line = 1, start = 0
        var index = 0
        while index < offset {
            if text[index] == 0x0A || (text[index] == 0x0D && (index + 1 >= text.count || text[index + 1] != 0x0A)) {
                line += 1
                start = index + 1
            }
            index += 1
        }
        return (line, start)
    }

    /// Offset of the first byte in `from..<to` that does not belong to valid UTF-8 (overlong
    /// forms, surrogates and values past U+10FFFF included), or nil.
    static func firstInvalidUTF8<Bytes: RandomAccessCollection>(_ bytes: Bytes, from: Int, to: Int) -> Int?
    where Bytes.Element == UInt8, Bytes.Index == Int {
        var index = from
        while index < to {
            let lead = bytes[index]
            if lead < 0x80 { index += 1; continue }
            let length: Int
            var low: UInt8 = 0x80, high: UInt8 = 0xBF
            switch lead {
            case 0xC2...0xDF: length = 2
            case 0xE0: length = 3; low = 0xA0
            case 0xE1...0xEC, 0xEE...0xEF: length = 3
            case 0xED: length = 3; high = 0x9F
            case 0xF0: length = 4; low = 0x90
            case 0xF1...0xF3: length = 4
            case 0xF4: length = 4; high = 0x8F
            default: return index
            }
            guard index + length <= to else { return index }
            let second = bytes[index + 1]
            guard second >= low && second <= high else { return index }
            for next in 2..<length where bytes[index + next] & 0xC0 != 0x80 { return index }
            index += length
        }
        return nil
    }

    /// `firstInvalidUTF8(bytes, from: 0, to: bytes.count)`, passing over plain ASCII eight bytes
    /// at a time: the whole file is checked before it is read, on the import's critical path
    /// (callgrind, 200,000 persons: 226 million instructions byte by byte).
    static func firstInvalidUTF8(whole bytes: UnsafeBufferPointer<UInt8>) -> Int? {
        guard let base = bytes.baseAddress else { return nil }
        let count = bytes.count
        var index = 0
        while index < count {
            while index + 8 <= count && UnsafeRawPointer(base + index).loadUnaligned(as: UInt64.self) & 0x8080_8080_8080_8080 == 0 {
                index += 8
            }
            guard index < count else { break }
            let lead = base[index]
            if lead < 0x80 { index += 1; continue }
            // A character of three bytes led by E1…EC or EE…EF (every Chinese one): two
            // continuation bytes, as `firstInvalidUTF8` holds them (E0 and ED narrow the second).
            if index + 3 <= count, lead >= 0xE1, lead <= 0xEF, lead != 0xED, base[index + 1] & 0xC0 == 0x80, base[index + 2] & 0xC0 == 0x80 {
                index += 3
                continue
            }
            // One character that is not ASCII, checked as `firstInvalidUTF8` checks it.
            let end = min(count, index + 4)
            var next = index + 1
            while next < end && base[next] & 0xC0 == 0x80 { next += 1 }
            if let bad = firstInvalidUTF8(bytes, from: index, to: next) { return bad }
            index = next
        }
        return nil
    }

    /// Offset of the first character of three or more bytes in valid UTF-8 `from..<to`, or nil.
    static func firstWideUTF8<Bytes: RandomAccessCollection>(_ bytes: Bytes, from: Int, to: Int) -> Int?
    where Bytes.Element == UInt8, Bytes.Index == Int {
        var index = from
        while index < to {
            let lead = bytes[index]
            if lead >= 0xE0 { return index }
            index += lead < 0x80 ? 1 : 2
        }
        return nil
    }

    enum Conversion {
        case converted([UInt8])
        /// The input offset of the first byte that is not GB18030.
        case failed(Int)
        case unavailable
    }

    /// GB18030 is a superset of GBK and GB2312; glibc's iconv converts it.
    static func convertFromGB18030(_ input: [UInt8]) -> Conversion {
        let converter = iconv_open("UTF-8", "GB18030")
        guard converter != iconv_t(bitPattern: -1) else { return .unavailable }
        defer { iconv_close(converter) }
        guard !input.isEmpty else { return .converted([]) }
        var output = [UInt8](repeating: 0, count: input.count * 2 + 16)
        var source = input
        let outcome: Conversion = source.withUnsafeMutableBufferPointer { inBuffer in
            output.withUnsafeMutableBufferPointer { outBuffer in
                var inPointer: UnsafeMutablePointer<CChar>? = UnsafeMutableRawPointer(inBuffer.baseAddress!).assumingMemoryBound(to: CChar.self)
                var inLeft = inBuffer.count
                var outPointer: UnsafeMutablePointer<CChar>? = UnsafeMutableRawPointer(outBuffer.baseAddress!).assumingMemoryBound(to: CChar.self)
                var outLeft = outBuffer.count
                let result = iconv(converter, &inPointer, &inLeft, &outPointer, &outLeft)
                if result == -1 || inLeft != 0 { return .failed(inBuffer.count - inLeft) }
                return .converted(Array(outBuffer[0..<(outBuffer.count - outLeft)]))
            }
        }
        return outcome
    }

    /// One record: the physical line it starts on and its fields.
    public struct Record {
        public let line: Int
        public let fields: [String]
        /// For each field: whether it was written in double quotes.
        public let quoted: [Bool]
    }

    /// Calls `body` with every record in order. Quoted fields may hold commas, doubled quotes and
    /// line breaks; line numbers count physical lines, as a text editor shows them.
    public func forEachRecord(_ body: (Record) throws -> Void) throws {
        try forEachRecord(line: { _, _, _ in nil }, body)
    }

    /// `forEachRecord`, offering each line to `line` first where a record would begin, with its
    /// line number, the file's text and where the line starts. `line` may take the line whole
    /// when it holds one record of cells without quotes: a line ending with a line feed (or CR
    /// LF), holding no double quote and no other carriage return, not empty. It returns the
    /// index just past the line feed when it took the line, which is then not made into a record;
    /// nil to leave the line to be read as any other. (Not for a workbook: its rows are records.)
    func forEachRecord(line take: (_ line: Int, _ text: UnsafeBufferPointer<UInt8>, _ start: Int) throws -> Int?,
                       _ body: (Record) throws -> Void) throws {
        if let workbook {
            try workbook.forEachRecord(body)
            return
        }
        try bytes.withUnsafeBufferPointer { buffer in
            let count = buffer.count
            var index = 0
            var line = 1
            var field: [UInt8] = []
            field.reserveCapacity(64)
            var fields: [String] = []
            var quoted: [Bool] = []
            var fieldQuoted = false
            var recordLine = 1
            var inRecord = false
            // An unquoted cell (most of a file) is found whole and made into a string once,
            // rather than gathered byte by byte: its bytes are `slice`.
            var slice: Range<Int>?
            func cell() -> String {
                if let range = slice {
                    slice = nil
                    return String(decoding: UnsafeBufferPointer(rebasing: buffer[range]), as: UTF8.self)
                }
                return String(decoding: field, as: UTF8.self)
            }
            while index < count {
                // Where the parser below would start a record afresh.
                if !inRecord, field.isEmpty, slice == nil, !fieldQuoted, fields.isEmpty, let end = try take(recordLine, buffer, index) {
                    index = end
                    line += 1
                    recordLine = line
                    continue
                }
                let byte = buffer[index]
                if field.isEmpty && slice == nil && !fieldQuoted && byte != UInt8(ascii: "\"") && byte != UInt8(ascii: ",")
                    && byte != UInt8(ascii: "\n") && byte != UInt8(ascii: "\r") {
                    // A quote inside it is an ordinary byte, as below.
                    var end = index + 1
                    while end < count {
                        let b = buffer[end]
                        if b == UInt8(ascii: ",") || b == UInt8(ascii: "\n") || b == UInt8(ascii: "\r") { break }
                        end += 1
                    }
                    slice = index..<end
                    inRecord = true
                    index = end
                    continue
                }
                if byte == UInt8(ascii: "\"") && field.isEmpty {
                    // A quoted field runs to the next quote not doubled.
                    inRecord = true
                    fieldQuoted = true
                    index += 1
                    var closed = false
                    while index < count {
                        let b = buffer[index]
                        if b == UInt8(ascii: "\"") {
                            if index + 1 < count && buffer[index + 1] == UInt8(ascii: "\"") {
                                field.append(b)
                                index += 2
                                continue
                            }
                            index += 1
                            closed = true
                            break
                        }
                        if b == UInt8(ascii: "\n") { line += 1 }
                        field.append(b)
                        index += 1
                    }
                    if !closed {
                        throw AppError(.input, code: "BAD_FILE", Text(en: "a quoted field is never closed",
                                                                       zh: "引号内的字段没有结束引号"),
                                       problems: [FileProblem(line: recordLine, column: fields.count + 1,
                                                              problem: Text(en: "unclosed quote", zh: "引号未闭合"))])
                    }
                    continue
                }
                switch byte {
                case UInt8(ascii: ","):
                    fields.append(cell())
                    quoted.append(fieldQuoted)
                    fieldQuoted = false
                    field.removeAll(keepingCapacity: true)
                    inRecord = true
                case UInt8(ascii: "\n"), UInt8(ascii: "\r"):
                    if byte == UInt8(ascii: "\r") && index + 1 < count && buffer[index + 1] == UInt8(ascii: "\n") {
                        index += 1
                    }
                    if inRecord || !field.isEmpty || slice != nil {
                        fields.append(cell())
                        quoted.append(fieldQuoted)
                        try body(Record(line: recordLine, fields: fields, quoted: quoted))
                    }
                    field.removeAll(keepingCapacity: true)
                    fields.removeAll(keepingCapacity: true)
                    quoted.removeAll(keepingCapacity: true)
                    fieldQuoted = false
                    inRecord = false
                    line += 1
                    recordLine = line
                default:
                    field.append(byte)
                    inRecord = true
                }
                index += 1
            }
            if inRecord || !field.isEmpty || slice != nil {
                fields.append(cell())
                quoted.append(fieldQuoted)
                try body(Record(line: recordLine, fields: fields, quoted: quoted))
            }
        }
    }
}

/// A column an import understands, by its English and Chinese header, and what its values may
/// hold (SPEC §10): every cell is held to its kind before the import reads it.
public struct ImportColumn: Sendable {
    public let key: String
    public let zh: String
    public let required: Bool
    public let kind: TextKind
    /// False for amounts and numbers, whose own parser refuses signs and says why.
    public let formulaCheck: Bool

    public init(_ key: String, _ zh: String, required: Bool = true, kind: TextKind = .code, formulaCheck: Bool = true) {
        self.key = key
        self.zh = zh
        self.required = required
        self.kind = kind
        self.formulaCheck = formulaCheck
    }

    /// A column of amounts in yuan.
    public static func amount(_ key: String, _ zh: String, required: Bool = true) -> ImportColumn {
        ImportColumn(key, zh, required: required, kind: .code(maxLength: 32), formulaCheck: false)
    }
}

/// The file's header mapped onto an import's columns.
public struct HeaderMap {
    /// For each column key present: its 0-based position in the file.
    public let position: [String: Int]
    /// The columns present, by key.
    public let columns: [String: ImportColumn]
    /// The columns present in the file's order: each one's position, kind and formula check (for
    /// checking every cell; no strings, so walking them per row retains nothing), and its key at
    /// the same place in `presentKeys`.
    let present: [(index: Int, kind: TextKind, formulaCheck: Bool)]
    let presentKeys: [String]
    /// The headers as written, for naming columns in messages.
    public let headers: [String]
    /// The keys present and their positions, for looking a key up per cell without hashing it
    /// (an import has a handful of columns; comparing short keys is cheaper).
    private let keys: [(key: String, index: Int)]

    /// The 0-based position of a column key in the file, or nil when the file has no such column.
    public func index(of key: String) -> Int? {
        // Keys of another length are passed over without comparing their text.
        let count = key.utf8.count
        for entry in keys where entry.key.utf8.count == count && entry.key == key { return entry.index }
        return nil
    }

    /// Maps a header row; unknown, repeated and missing required columns are all reported.
    public init(_ header: CSVFile.Record, columns: [ImportColumn]) throws {
        var position: [String: Int] = [:]
        var problems: [FileProblem] = []
        let headers = header.fields.map { $0.trimmingWhitespace() }
        for (index, name) in headers.enumerated() {
            guard let column = columns.first(where: { $0.key == name.lowercased() || $0.zh == name }) else {
                let known = columns.map { "\($0.key)/\($0.zh)" }.joined(separator: ", ")
                let shown = TextValue.quoted(name)
                problems.append(FileProblem(line: header.line, column: index + 1, header: shown, problem: Text(
                    en: "unknown column '\(shown)': the columns are \(known)",
                    zh: "未知的列“\(shown)”：可用的列为 \(known)")))
                continue
            }
            if position[column.key] != nil {
                problems.append(FileProblem(line: header.line, column: index + 1, header: name, problem: Text(
                    en: "column \(column.key) appears twice", zh: "列“\(column.zh)”重复出现")))
                continue
            }
            position[column.key] = index
        }
        for column in columns where column.required && position[column.key] == nil {
            problems.append(FileProblem(line: header.line, problem: Text(
                en: "required column \(column.key) (\(column.zh)) is missing from the header",
                zh: "表头缺少必填列“\(column.zh)”（\(column.key)）")))
        }
        guard problems.isEmpty else {
            throw AppError(.input, code: "BAD_FILE", Text(en: "the header row is not right; nothing was imported",
                                                           zh: "表头有误，未导入任何数据"), problems: problems)
        }
        self.position = position
        self.headers = headers
        self.columns = Dictionary(uniqueKeysWithValues: columns.filter { position[$0.key] != nil }.map { ($0.key, $0) })
        self.keys = position.map { (key: $0.key, index: $0.value) }
        let present = columns.compactMap { column in position[column.key].map { (index: $0, column: column) } }.sorted { $0.index < $1.index }
        self.present = present.map { (index: $0.index, kind: $0.column.kind, formulaCheck: $0.column.formulaCheck) }
        self.presentKeys = present.map(\.column.key)
    }
}

extension String {
    /// Without leading and trailing spaces, tabs and line breaks (including the full-width space
    /// Chinese input methods type).
    public func trimmingWhitespace() -> String {
        guard mayNeedTrimming else { return self }
        let isSpace: (Character) -> Bool = { $0 == " " || $0 == "\t" || $0 == "\r" || $0 == "\n" || $0 == "\u{3000}" }
        guard let first = firstIndex(where: { !isSpace($0) }) else { return "" }
        let last = lastIndex(where: { !isSpace($0) })!
        return String(self[first...last])
    }

    /// False when `trimmingWhitespace()` is the string itself, told by its end bytes alone:
    /// neither end is a space, tab, line break or a byte of U+3000 (E3 80 80). The empty string
    /// trims to itself too.
    @inline(__always) var mayNeedTrimming: Bool {
        utf8.withContiguousStorageIfAvailable { bytes in
            guard let first = bytes.first, let last = bytes.last else { return false }
            return first == 0x20 || first == 0x09 || first == 0x0A || first == 0x0D || first == 0xE3
                || last == 0x20 || last == 0x09 || last == 0x0A || last == 0x0D || last == 0x80
        } ?? true
    }
}
