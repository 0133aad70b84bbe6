#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A CSV file as the user saved it: UTF-8 with or without a byte-order mark, or GBK (what Excel
/// in China saves). Decoded to UTF-8 bytes once; records are read without copying the file.
public struct CSVFile {
    /// The file's text as UTF-8, without a byte-order mark.
    let bytes: [UInt8]

    public init(path: String) throws {
        guard let file = fopen(path, "rb") else {
            throw AppError.badInput(Text(en: "cannot open \(path): \(String(cString: strerror(errno)))",
                                         zh: "无法打开文件 \(path)：\(String(cString: strerror(errno)))"), code: "BAD_FILE")
        }
        defer { fclose(file) }
        var data: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 1 << 22)
        fseek(file, 0, SEEK_END)
        data.reserveCapacity(max(0, ftell(file)))
        rewind(file)
        while true {
            let count = fread(&chunk, 1, chunk.count, file)
            if count == 0 { break }
            chunk.withUnsafeBufferPointer { data.append(contentsOf: $0[0..<count]) }
        }
        try self.init(data: data)
    }

    public init(data: [UInt8]) throws {
        let text = data.starts(with: [0xEF, 0xBB, 0xBF]) ? Array(data.dropFirst(3)) : data
        if CSVFile.isValidUTF8(text) {
            bytes = text
        } else {
            guard let converted = CSVFile.convertFromGB18030(text) else {
                throw AppError(.input, code: "BAD_FILE", Text(
                    en: "the file is neither UTF-8 nor GBK text: save it from Excel as \"CSV UTF-8\" and try again",
                    zh: "文件既不是 UTF-8 也不是 GBK 文本：请在 Excel 中另存为“CSV UTF-8”后重试"))
            }
            bytes = converted
        }
    }

    static func isValidUTF8(_ bytes: [UInt8]) -> Bool {
        var iterator = bytes.makeIterator()
        var decoder = UTF8()
        while true {
            switch decoder.decode(&iterator) {
            case .scalarValue: continue
            case .emptyInput: return true
            case .error: return false
            }
        }
    }

    /// GB18030 is a superset of GBK and GB2312; glibc's iconv converts it.
    static func convertFromGB18030(_ input: [UInt8]) -> [UInt8]? {
        let converter = iconv_open("UTF-8", "GB18030")
        guard converter != iconv_t(bitPattern: -1) else { return nil }
        defer { iconv_close(converter) }
        var output = [UInt8](repeating: 0, count: input.count * 2 + 16)
        var source = input
        let written: Int? = source.withUnsafeMutableBufferPointer { inBuffer in
            output.withUnsafeMutableBufferPointer { outBuffer in
                var inPointer = UnsafeMutableRawPointer(inBuffer.baseAddress!).assumingMemoryBound(to: CChar.self)
                var inLeft = inBuffer.count
                var outPointer = UnsafeMutableRawPointer(outBuffer.baseAddress!).assumingMemoryBound(to: CChar.self)
                var outLeft = outBuffer.count
                let result = withUnsafeMutablePointer(to: &inPointer) { inRef in
                    withUnsafeMutablePointer(to: &outPointer) { outRef in
                        inRef.withMemoryRebound(to: UnsafeMutablePointer<CChar>?.self, capacity: 1) { inOptional in
                            outRef.withMemoryRebound(to: UnsafeMutablePointer<CChar>?.self, capacity: 1) { outOptional in
                                iconv(converter, inOptional, &inLeft, outOptional, &outLeft)
                            }
                        }
                    }
                }
                if result == -1 || inLeft != 0 { return nil }
                return outBuffer.count - outLeft
            }
        }
        guard let written else { return nil }
        return Array(output[0..<written])
    }

    /// One record: the physical line it starts on and its fields.
    public struct Record {
        public let line: Int
        public let fields: [String]
    }

    /// Calls `body` with every record in order. Quoted fields may hold commas, doubled quotes and
    /// line breaks; line numbers count physical lines, as a text editor shows them.
    public func forEachRecord(_ body: (Record) throws -> Void) throws {
        try bytes.withUnsafeBufferPointer { buffer in
            let count = buffer.count
            var index = 0
            var line = 1
            var field: [UInt8] = []
            field.reserveCapacity(64)
            var fields: [String] = []
            var recordLine = 1
            var inRecord = false
            while index < count {
                let byte = buffer[index]
                if byte == UInt8(ascii: "\"") && field.isEmpty {
                    // A quoted field runs to the next quote not doubled.
                    inRecord = true
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
                    fields.append(String(decoding: field, as: UTF8.self))
                    field.removeAll(keepingCapacity: true)
                    inRecord = true
                case UInt8(ascii: "\n"), UInt8(ascii: "\r"):
                    if byte == UInt8(ascii: "\r") && index + 1 < count && buffer[index + 1] == UInt8(ascii: "\n") {
                        index += 1
                    }
                    if inRecord || !field.isEmpty {
                        fields.append(String(decoding: field, as: UTF8.self))
                        try body(Record(line: recordLine, fields: fields))
                    }
                    field.removeAll(keepingCapacity: true)
                    fields.removeAll(keepingCapacity: true)
                    inRecord = false
                    line += 1
                    recordLine = line
                default:
                    field.append(byte)
                    inRecord = true
                }
                index += 1
            }
            if inRecord || !field.isEmpty {
                fields.append(String(decoding: field, as: UTF8.self))
                try body(Record(line: recordLine, fields: fields))
            }
        }
    }
}

/// A column an import understands, by its English and Chinese header.
public struct ImportColumn: Sendable {
    public let key: String
    public let zh: String
    public let required: Bool

    public init(_ key: String, _ zh: String, required: Bool = true) {
        self.key = key
        self.zh = zh
        self.required = required
    }
}

/// The file's header mapped onto an import's columns.
public struct HeaderMap {
    /// For each column key present: its 0-based position in the file.
    public let position: [String: Int]
    /// The headers as written, for naming columns in messages.
    public let headers: [String]

    /// Maps a header row; unknown, repeated and missing required columns are all reported.
    public init(_ header: CSVFile.Record, columns: [ImportColumn]) throws {
        var position: [String: Int] = [:]
        var problems: [FileProblem] = []
        let headers = header.fields.map { $0.trimmingWhitespace() }
        for (index, name) in headers.enumerated() {
            guard let column = columns.first(where: { $0.key == name.lowercased() || $0.zh == name }) else {
                let known = columns.map { "\($0.key)/\($0.zh)" }.joined(separator: ", ")
                problems.append(FileProblem(line: header.line, column: index + 1, header: name, problem: Text(
                    en: "unknown column '\(name)': the columns are \(known)",
                    zh: "未知的列“\(name)”：可用的列为 \(known)")))
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
    }
}

extension String {
    /// Without leading and trailing spaces, tabs and line breaks (including the full-width space
    /// Chinese input methods type).
    func trimmingWhitespace() -> String {
        // Fast path: nothing to trim when neither end is a space, tab, line break or U+3000.
        if let first = utf8.first, let last = utf8.last,
           first != 0x20, first != 0x09, first != 0x0A, first != 0x0D, first != 0xE3,
           last != 0x20, last != 0x09, last != 0x0A, last != 0x0D, last != 0x80 {
            return self
        }
        let isSpace: (Character) -> Bool = { $0 == " " || $0 == "\t" || $0 == "\r" || $0 == "\n" || $0 == "\u{3000}" }
        guard let first = firstIndex(where: { !isSpace($0) }) else { return "" }
        let last = lastIndex(where: { !isSpace($0) })!
        return String(self[first...last])
    }
}
