import ArgumentParser
import Foundation
import WelfarePosts

/// The language of this run (SPEC §16): `--lang en|zh` anywhere on the command line, else a
/// Chinese locale in the environment (`LC_ALL`, `LC_MESSAGES`, `LANG`, the first one set, as
/// POSIX reads them: `zh_CN.UTF-8`, `zh_TW`, `zh`), else English. Decided once, before the
/// command line is parsed, so help (abstracts, option help, discussions), messages, headers and
/// labels all follow it.
enum Language {
    /// Set once by `Main` before anything reads it.
    nonisolated(unsafe) static var current: Lang = .en

    /// The language a locale environment asks for.
    static func fromEnvironment(_ environment: [String: String]) -> Lang {
        for key in ["LC_ALL", "LC_MESSAGES", "LANG"] {
            if let value = environment[key], !value.isEmpty {
                return value.lowercased().hasPrefix("zh") ? .zh : .en
            }
        }
        return .en
    }

    /// Takes every `--lang X` and `--lang=X` out of the arguments (before a `--`), so that the
    /// choice works in any position — `welfare-posts --lang zh --help`, `help person list
    /// --lang zh` — and returns the language asked for (the last one wins). A missing or unknown
    /// value is a usage error.
    static func extract(_ arguments: [String]) -> (arguments: [String], lang: Lang?, error: String?) {
        var rest: [String] = [], lang: Lang?, index = 0
        while index < arguments.count {
            let argument = arguments[index]
            if argument == "--" {
                rest += arguments[index...]
                break
            }
            var value: String?
            if argument == "--lang" {
                guard index + 1 < arguments.count else { return (arguments, nil, "--lang needs a value: en or zh") }
                value = arguments[index + 1]
                index += 2
            } else if argument.hasPrefix("--lang=") {
                value = String(argument.dropFirst("--lang=".count))
                index += 1
            } else {
                rest.append(argument)
                index += 1
                continue
            }
            guard let value, let chosen = Lang(rawValue: value) else {
                return (arguments, nil, "--lang '\(value ?? "")' is not a language: write en or zh")
            }
            lang = chosen
        }
        return (rest, lang, nil)
    }
}

/// A word or sentence of the help, in the language of this run.
func tr(_ en: String, _ zh: String) -> String { Language.current == .zh ? zh : en }

extension ArgumentHelp {
    /// Option and argument help in both languages; the run's language picks.
    static func tr(_ en: String, _ zh: String) -> ArgumentHelp { ArgumentHelp(Language.current == .zh ? zh : en) }
}

/// The words swift-argument-parser writes itself (headings, `--help`, usage errors), in Chinese,
/// and lines wrapped by the columns they take on a terminal (a Chinese character takes two).
enum ChineseHelp {
    /// Headings and fixed phrases of a help screen.
    static let phrases: [(String, String)] = [
        ("OVERVIEW: ", "概述："), ("USAGE: ", "用法："), ("OVERVIEW:", "概述："), ("USAGE:", "用法："), ("ARGUMENTS:", "参数："), ("OPTIONS:", "选项："),
        ("SUBCOMMANDS:", "子命令："), ("Show help information.", "显示帮助信息。"), ("Show the version.", "显示版本号。"),
        (" (default)", "（默认）"),
    ]

    /// A help screen rendered without wrapping, translated and wrapped to `width` columns.
    static func render(_ help: String, width: Int) -> String {
        var text = help
        for (en, zh) in phrases { text = text.replacingOccurrences(of: en, with: zh) }
        text = replacing(#"See '([^']*) <subcommand>' for detailed help\."#, in: text) { "查看子命令的详细帮助：\($0[1]) <子命令>" }
        text = replacing(#" ?\(values: ([^;)]*); default: ([^)]*)\)"#, in: text) { "（可选值：\($0[1])；默认：\($0[2])）" }
        text = replacing(#" ?\(values: ([^)]*)\)"#, in: text) { "（可选值：\($0[1])）" }
        text = replacing(#" ?\(default: ([^)]*)\)"#, in: text) { "（默认：\($0[1])）" }
        return text.split(separator: "\n", omittingEmptySubsequences: false)
            .flatMap { wrap(String($0), width: width) }
            .joined(separator: "\n")
    }

    /// A usage error of swift-argument-parser, in Chinese.
    static func usage(_ message: String) -> String {
        var text = message
        let patterns: [(String, ([String]) -> String)] = [
            (#"^Error: "#, { _ in "" }),
            (#"Missing expected argument '([^']*)'"#, { "缺少参数 \($0[1])" }),
            (#"Missing one of: (.*)"#, { "缺少以下之一：\($0[1])" }),
            (#"Unknown option '([^']*)'\. Did you mean '([^']*)'\?"#, { "未知选项 \($0[1])，您是否想输入 \($0[2])？" }),
            (#"Unknown option '([^']*)'"#, { "未知选项 \($0[1])" }),
            (#"Missing value for '([^']*)'"#, { "\($0[1]) 缺少值" }),
            (#"(\d+) unexpected arguments: (.*)"#, { "多余的参数（\($0[1]) 个）：\($0[2])" }),
            (#"Unexpected argument '([^']*)'"#, { "多余的参数 '\($0[1])'" }),
            (#"The value '([^']*)' is invalid for '([^']*)'\. Please provide one of (.*)\."#, { "\($0[2]) 的值 '\($0[1])' 无效：请写 \($0[3].replacingOccurrences(of: " or ", with: " 或 ").replacingOccurrences(of: " and ", with: " 和 "))" }),
            (#"The value '([^']*)' is invalid for '([^']*)'"#, { "\($0[2]) 的值 '\($0[1])' 无效" }),
            (#"The option '([^']*)' does not take any value, but '([^']*)' was specified\."#, { "选项 \($0[1]) 不带值，却给了 '\($0[2])'" }),
            (#"Missing required subcommand\."#, { _ in "缺少子命令。" }),
            (#"(?m)^Help:  "#, { _ in "帮助：" }),
            (#"(?m)^Usage: "#, { _ in "用法：" }),
            (#"See '([^']*)' for more information\."#, { "更多信息：\($0[1])" }),
        ]
        for (pattern, replacement) in patterns { text = replacing(pattern, in: text, replacement) }
        return text
    }

    /// Every match of `pattern` replaced by what `replacement` makes of its groups.
    static func replacing(_ pattern: String, in text: String, _ replacement: ([String]) -> String) -> String {
        guard let regex = try? NSRegularExpression(pattern: pattern) else { return text }
        var result = text
        let source = text as NSString
        for match in regex.matches(in: text, range: NSRange(location: 0, length: source.length)).reversed() {
            let groups = (0..<match.numberOfRanges).map { index -> String in
                let range = match.range(at: index)
                return range.location == NSNotFound ? "" : source.substring(with: range)
            }
            let swiftRange = Range(match.range, in: result)!
            result.replaceSubrange(swiftRange, with: replacement(groups))
        }
        return result
    }

    /// One line of help cut to `width` terminal columns. Continuation lines start where the
    /// line's text does (an option's help column, a paragraph's indent); a line breaks at a space
    /// or beside a Chinese character (not before closing punctuation), never inside a Latin word.
    static func wrap(_ line: String, width: Int) -> [String] {
        guard displayWidth(line) > width else { return [line] }
        var indent = line.prefix { $0 == " " }.count
        // An option line, "  --name <name>          help…": continue under the help.
        if indent > 0, let gap = line.range(of: #"\S {2,}\S"#, options: .regularExpression) {
            indent = line.distance(from: line.startIndex, to: gap.upperBound) - 1
        } else if line.hasPrefix("用法：") {
            indent = 2
        }
        guard indent < width / 2 else { return [line] }
        let closing: Set<Character> = ["，", "。", "、", "；", "：", "）", "】", "」", "』", "”", "！", "？", ")", ",", ".", ";", ":"]
        let opening: Set<Character> = ["（", "【", "「", "『", "“", "("]
        func breakable(before character: Character, after last: Character) -> Bool {
            last == " " || ((isWide(character) || isWide(last)) && !closing.contains(character) && !opening.contains(last) && character != " ")
        }
        var lines: [String] = [], current: [Character] = [], currentWidth = 0
        var breakAt: Int?  // a break is allowed before current[breakAt]
        for character in line {
            let characterWidth = displayWidth(String(character))
            if current.count > indent, let last = current.last, breakable(before: character, after: last) {
                breakAt = current.count
            }
            if currentWidth + characterWidth > width, let cut = breakAt {
                lines.append(String(current[..<cut]).trailingSpacesRemoved())
                current = Array(repeating: " ", count: indent) + current[cut...].drop { $0 == " " }
                currentWidth = displayWidth(String(current))
                breakAt = nil
                if current.count > indent, let last = current.last, breakable(before: character, after: last) {
                    breakAt = current.count
                }
            }
            if character == " " && current.count == indent && !lines.isEmpty { continue }
            current.append(character)
            currentWidth += characterWidth
        }
        lines.append(String(current).trailingSpacesRemoved())
        return lines
    }

    private static func isWide(_ character: Character) -> Bool { displayWidth(String(character)) == 2 }

    /// The terminal's width (COLUMNS, else the terminal's own, else 80), as swift-argument-parser
    /// reads it.
    static var terminalWidth: Int {
        if let columns = ProcessInfo.processInfo.environment["COLUMNS"].flatMap(Int.init), columns > 0 { return columns }
        var size = winsize()
        if ioctl(STDOUT_FILENO, UInt(TIOCGWINSZ), &size) == 0, size.ws_col > 0 { return Int(size.ws_col) }
        return 80
    }
}
