/// What a text value may hold (SPEC §10): the same rules for a cell of a file and for a value
/// given on the command line, so every import and option refuses the same things.
///
/// Refused everywhere: control characters (C0, DEL, C1; a tab only where `allowsTab`), the
/// invisible formatting characters that reorder or hide text on screen (bidirectional
/// overrides and isolates, zero-width characters, line and paragraph separators, a byte-order
/// mark inside the text), and values longer than the kind allows. Refused in text that a
/// person types (names, free text, codes by their form): a value whose first character makes a
/// spreadsheet run it as a formula: `=`, `+`, `-`, `@` (SPEC lists `=`, `+`, `@`; `-` starts
/// formulas too, `-2+3+cmd|…`, and no name, place or free text needs it first).
public enum TextKind: Sendable, Equatable {
    /// A person's, region's or insurer's name: at most 50 characters, no tab.
    case name
    /// Free text (developer, need, reasons): at most 200 characters; a tab only inside CSV quotes.
    case freeText
    /// An identifier or code whose form the column's own parser checks (resident ID, region
    /// code, bank account, date, amount, label): at most `maxLength` characters, no tab.
    case code(maxLength: Int)

    public var maxLength: Int {
        switch self {
        case .name: 50
        case .freeText: 200
        case .code(let length): length
        }
    }

    /// Identifier-like columns of a file (IDs, codes, labels, dates, amounts): longer than this
    /// is never a real value of theirs.
    public static let code = TextKind.code(maxLength: 64)
}

public enum TextValue {
    /// Why `text` (already trimmed) is not acceptable as a value of `kind`, or nil.
    /// - Parameters:
    ///   - quoted: for a cell of a file, whether it came inside CSV quotes, where SPEC §10 lets
    ///     free text hold a tab; nil for a value given on the command line (no tab).
    ///   - formulaCheck: false for values that a column parses by a strict form of digits and
    ///     signs (amounts, phone numbers), whose own parser explains what is wrong.
    public static func problem(_ text: String, kind: TextKind, quoted: Bool? = nil, formulaCheck: Bool = true) -> Text? {
        // Most cells of a million-row file are printable ASCII or Chinese: one pass over the bytes.
        // True when every character is printable ASCII or of three bytes led by 0xE3...0xEE
        // (U+3000 to U+EFFF, where the Chinese characters are: `forbiddenName` names none of them,
        // only characters up to U+2069 and from U+FEFF), there are not too many, and (if checked)
        // the first is no formula character: then there is no problem. Else the full check below.
        let fine = text.utf8.withContiguousStorageIfAvailable { bytes in
            isFine(bytes, maxLength: kind.maxLength, formulaCheck: formulaCheck)
        }
        if fine == true { return nil }
        return slowProblem(text, kind: kind, quoted: quoted, formulaCheck: formulaCheck)
    }

    /// `problem`'s fast path: true when the bytes (valid UTF-8) are printable ASCII and characters
    /// U+3000–U+EFFF only, at most `maxLength` of them, and (if checked) the first is no formula
    /// character: then `problem` finds nothing. False says nothing: the full check decides.
    static func isFine(_ bytes: UnsafeBufferPointer<UInt8>, maxLength: Int, formulaCheck: Bool) -> Bool {
        var index = 0
        var count = 0
        while index < bytes.count {
            // Eight printable ASCII bytes at a time: none with its high bit, none below 0x20
            // (a byte minus 0x20 borrows), none 0x7F (a byte of w ^ 0x7F… is zero).
            if index + 8 <= bytes.count, let base = bytes.baseAddress {
                let word = UnsafeRawPointer(base + index).loadUnaligned(as: UInt64.self)
                let high: UInt64 = 0x8080_8080_8080_8080
                let del = word ^ 0x7F7F_7F7F_7F7F_7F7F
                if word & high == 0 && (word &- 0x2020_2020_2020_2020) & ~word & high == 0
                    && (del &- 0x0101_0101_0101_0101) & ~del & high == 0 {
                    index += 8
                    count += 8
                    continue
                }
            }
            let byte = bytes[index]
            if byte >= 0x20 && byte < 0x7F {
                index += 1
            } else if byte >= 0xE3 && byte <= 0xEE {
                // A String is valid UTF-8: two continuation bytes follow.
                index += 3
            } else {
                return false
            }
            count += 1
        }
        guard count <= maxLength else { return false }
        guard formulaCheck, let first = bytes.first, first == 0x3D || first == 0x2B || first == 0x2D || first == 0x40 else { return true }
        return false
    }

    /// `problem` without its fast path for printable ASCII: every character looked at.
    static func slowProblem(_ text: String, kind: TextKind, quoted: Bool?, formulaCheck: Bool) -> Text? {
        var count = 0
        for scalar in text.unicodeScalars {
            count += 1
            if scalar == "\t" {
                if kind == .freeText && quoted == true { continue }
                if kind == .freeText && quoted == false {
                    return Text(en: "character \(count) is a tab outside quotes: is the file separated by tabs instead of commas? (a tab that belongs in free text needs the cell in double quotes)",
                                zh: "第 \(count) 个字符是引号外的制表符：文件是否以制表符而非逗号分隔？（文字说明中确需制表符时，请将该单元格用双引号括起）")
                }
                return Text(en: "character \(count) is a tab, which is not allowed in this value", zh: "第 \(count) 个字符是制表符，此处不允许")
            }
            if let name = forbiddenName(scalar) {
                return Text(en: "character \(count) is \(name.en), which is not allowed in a value: retype the value without it",
                            zh: "第 \(count) 个字符是\(name.zh)，值中不允许出现：请去掉后重新输入")
            }
        }
        if count > kind.maxLength {
            let what: Text = switch kind {
            case .name: Text(en: "a name", zh: "姓名或名称")
            case .freeText: Text(en: "free text", zh: "文字说明")
            case .code: Text(en: "this column", zh: "此列")
            }
            return Text(en: "the value is \(count) characters long; \(what.en) takes at most \(kind.maxLength)",
                        zh: "该值长 \(count) 个字符；\(what.zh)最多 \(kind.maxLength) 个字符")
        }
        // formulaStarts, compared in turn rather than hashed.
        if formulaCheck, let first = text.unicodeScalars.first, first == "=" || first == "+" || first == "-" || first == "@" {
            return Text(en: "the value starts with '\(first)', which a spreadsheet would run as a formula: remove the leading '\(first)'",
                        zh: "该值以“\(first)”开头，电子表格会把它当作公式执行：请去掉开头的“\(first)”")
        }
        return nil
    }

    /// First characters that make a spreadsheet treat a cell as a formula.
    public static let formulaStarts: Set<Unicode.Scalar> = ["=", "+", "-", "@"]

    /// The name of a character no value may hold, or nil when it may appear.
    public static func forbiddenName(_ scalar: Unicode.Scalar) -> Text? {
        let v = scalar.value
        switch v {
        case 0x00: return Text(en: "a NUL byte (0x00)", zh: "空字符（0x00）")
        case 0x0A, 0x0D, 0x85, 0x2028, 0x2029:
            return Text(en: "a line break", zh: "换行符")
        case 0x1B: return Text(en: "an escape character (ESC, 0x1B: terminal control)", zh: "转义字符（ESC，0x1B，终端控制符）")
        case 0x01...0x1F, 0x7F...0x9F:
            return Text(en: "the control character \(hex(v))", zh: "控制字符 \(hex(v))")
        case 0x200B...0x200F, 0x202A...0x202E, 0x2060...0x2069, 0xFEFF, 0xFFF9...0xFFFB:
            return Text(en: "the invisible formatting character \(hex(v))", zh: "不可见的格式字符 \(hex(v))")
        default: return nil
        }
    }

    static func hex(_ value: UInt32) -> String {
        let digits = String(value, radix: 16, uppercase: true)
        return "U+" + String(repeating: "0", count: max(0, 4 - digits.count)) + digits
    }

    /// `text` as it may be shown on a terminal or in a message: every character that
    /// `forbiddenName` names (and a tab) written as a visible escape (`\e`, `\n`, `\u{202E}`).
    /// Data written into the
    /// database past this tool (with psql) cannot move the cursor, clear the screen or reorder
    /// what the operator reads.
    public static func displayed(_ text: String) -> String {
        guard text.unicodeScalars.contains(where: { $0 == "\t" || forbiddenName($0) != nil }) else { return text }
        var out = ""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\t": out += "\\t"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\u{1B}": out += "\\e"
            default:
                if forbiddenName(scalar) != nil {
                    out += "\\u{" + String(scalar.value, radix: 16, uppercase: true) + "}"
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out
    }

    /// `text` quoted for a message, shown safely and cut to `limit` characters: a 10 MB value
    /// or an escape sequence is never echoed whole.
    public static func quoted(_ text: String, limit: Int = 40) -> String {
        let shown = displayed(text)
        guard shown.unicodeScalars.count > limit else { return shown }
        var cut = String.UnicodeScalarView()
        cut.append(contentsOf: shown.unicodeScalars.prefix(limit))
        return String(cut) + "…"
    }

    /// A cell for a CSV file a spreadsheet will open (SPEC §10, second line of defence): a text
    /// that starts with `=`, `+`, `-`, `@`, a tab or a carriage return gets a leading
    /// apostrophe, so Excel shows it as text instead of running it. Plain numbers (`-12.50`,
    /// `+86…` digits only) are left alone: they are what they look like.
    public static func spreadsheetSafe(_ text: String) -> String {
        guard let first = text.unicodeScalars.first, formulaStarts.contains(first) || first == "\t" || first == "\r" else {
            return text
        }
        if isPlainNumber(text) { return text }
        return "'" + text
    }

    /// `[+-]digits[.digits]`.
    static func isPlainNumber(_ text: String) -> Bool {
        var bytes = Substring(text).utf8[...]
        if let first = bytes.first, first == 0x2B || first == 0x2D { bytes = bytes.dropFirst() }
        let parts = bytes.split(separator: 0x2E, omittingEmptySubsequences: false)
        guard (1...2).contains(parts.count) else { return false }
        return parts.allSatisfy { !$0.isEmpty && $0.allSatisfy { (0x30...0x39).contains($0) } }
    }
}
