import Foundation
import Testing
import TestSupport
import WelfarePosts

/// Chinese throughout under `--lang zh` or a Chinese locale (SPEC §16), and `--version`.
@Suite("Chinese and --version")
struct ChineseTests {
    /// An English phrase of three words or more: what a Chinese help screen must not contain
    /// outside its usage line (codes such as `service-agreement` and `--lang zh` are fine).
    static let englishPhrase = #"\b[A-Za-z]{2,} [a-z]{2,} [a-z]{2,}\b"#

    /// The help screen without its usage block (option and value names are English by nature).
    static func prose(_ help: String) -> String {
        var lines: [String] = [], inUsage = false
        for line in help.split(separator: "\n", omittingEmptySubsequences: false) {
            if line.hasPrefix("用法：") || line.hasPrefix("USAGE:") { inUsage = true; continue }
            if inUsage && line.hasPrefix("  ") && !line.contains("   ") { continue }
            inUsage = false
            // Commands to type ("welfare-posts help db <子命令>") are not prose.
            lines.append(line.replacingOccurrences(of: #"welfare-posts[a-z <>子命令-]*"#, with: "", options: .regularExpression))
        }
        return lines.joined(separator: "\n")
    }

    static func subcommands(_ help: String) -> [String] {
        guard let section = help.range(of: "子命令：\n") else { return [] }
        return help[section.upperBound...].split(separator: "\n").compactMap { line in
            guard line.hasPrefix("  "), !line.hasPrefix("   ") else { return nil }
            let name = line.dropFirst(2).prefix { $0 != " " }
            return name.isEmpty || name.hasPrefix("查看") ? nil : String(name)
        }
    }

    @Test func everyHelpScreenIsChinese() throws {
        // The root, in every place --lang can stand, and by the locale alone.
        let root = try welfarePosts(["--help", "--lang", "zh"], on: nil)
        #expect(root.status == 0, "\(root.stderr)")
        #expect(root.stdout.hasPrefix("概述：乡村公益性岗位管理系统"), "\(root.stdout)")
        #expect(root.stdout.contains("子命令：") && root.stdout.contains("退出码") && !root.stdout.contains("OVERVIEW"), "\(root.stdout)")
        for arguments in [["--lang", "zh", "--help"], ["--lang=zh", "-h"], ["help", "--lang", "zh"], []] {
            let result = try welfarePosts(arguments, on: nil, environment: arguments.isEmpty ? ["LANG": "zh_CN.UTF-8"] : [:])
            #expect(result.status == 0 && result.stdout == root.stdout, "\(arguments): \(result.stdout) \(result.stderr)")
        }
        // LC_ALL comes before LANG, as POSIX says.
        let english = try welfarePosts(["--help"], on: nil, environment: ["LANG": "zh_CN.UTF-8", "LC_ALL": "C.UTF-8"])
        #expect(english.stdout.hasPrefix("OVERVIEW: The system of record"), "\(english.stdout)")

        // Every command's screen: abstract, discussion, arguments and options, in Chinese.
        var queue = Self.subcommands(root.stdout).map { [$0] }, visited = 0
        #expect(queue.count >= 19)
        while let path = queue.first {
            queue.removeFirst()
            visited += 1
            let help = try welfarePosts(["help"] + path + ["--lang", "zh"], on: nil)
            #expect(help.status == 0, "\(path): \(help.stderr)")
            #expect(help.stdout.hasPrefix("概述："), "\(path): \(help.stdout)")
            let prose = Self.prose(help.stdout)
            #expect(prose.range(of: Self.englishPhrase, options: .regularExpression) == nil,
                    "English left in the help of \(path.joined(separator: " ")): \(prose)")
            queue += Self.subcommands(help.stdout).map { path + [$0] }
            // The same screen in English has English prose: the check above means something.
            if path == ["person", "list"] {
                let en = try welfarePosts(["person", "list", "--help"], on: nil)
                #expect(Self.prose(en.stdout).range(of: Self.englishPhrase, options: .regularExpression) != nil)
                #expect(prose.contains("姓名的一部分") && prose.contains("各筛选条件可以组合"), "\(prose)")
            }
        }
        #expect(visited >= 45, "only \(visited) help screens")
    }

    @Test func chineseHelpIsWrappedByTheColumnsItTakes() throws {
        let help = try welfarePosts(["hire", "--help", "--lang", "zh"], on: nil, environment: ["COLUMNS": "60"])
        let widest = help.stdout.split(separator: "\n").map { line in
            line.unicodeScalars.reduce(0) { $0 + ($1.value >= 0x2E80 ? 2 : 1) }
        }.max() ?? 0
        #expect(widest <= 60, "\(help.stdout)")
        // Continuation lines of an option stay under its help.
        #expect(help.stdout.contains("\n                          "), "\(help.stdout)")
    }

    @Test func versionAndLanguageMistakes() throws {
        let version = try welfarePosts(["--version"], on: nil)
        #expect(version.status == 0)
        #expect(version.stdout.hasPrefix("welfare-posts \(ProductVersion.number) (schema \(Migrator.migrations.last!.name))"), "\(version.stdout)")
        let zh = try welfarePosts(["--version", "--lang", "zh"], on: nil)
        #expect(zh.status == 0 && zh.stdout.contains("数据库结构"), "\(zh.stdout)")

        let unknown = try welfarePosts(["region", "list", "--lang", "fr"], on: nil)
        #expect(unknown.status == 2 && unknown.stderr.hasPrefix("error: [USAGE] --lang 'fr' is not a language"), "\(unknown.stderr)")
        let missing = try welfarePosts(["person", "show", "--lang", "zh"], on: nil)
        #expect(missing.status == 2 && missing.stderr.hasPrefix("error: [USAGE] 缺少参数 <id>"), "\(missing.stderr)")
        #expect(missing.stderr.contains("用法：welfare-posts person show"), "\(missing.stderr)")
        let bad = try welfarePosts(["post", "list", "--format", "xml"], on: nil, environment: ["LANG": "zh_CN.UTF-8"])
        #expect(bad.status == 2 && bad.stderr.hasPrefix("error: [USAGE] --format <format> 的值 'xml' 无效"), "\(bad.stderr)")
        let english = try welfarePosts(["person", "show"], on: nil)
        #expect(english.stderr.hasPrefix("error: [USAGE] Missing expected argument '<id>'"), "\(english.stderr)")
    }

    @Test func messagesHeadersAndLabels() throws {
        let world = try World()
        let database = world.database
        let person = try world.person(born: "1970-03-15")
        try world.hire(try world.post(), person, "2026-01-01", "2026-12-31")
        #expect(try welfarePosts(["payroll", "run", "2026-01", "--region", "320321"], on: database).status == 0)

        // A refusal by a Chinese locale, without --lang.
        let refused = try welfarePosts(["person", "show", "110101199003070011"], on: database, environment: ["LANG": "zh_CN.UTF-8"])
        #expect(refused.status == 2 && refused.stderr.contains("未登记身份证号"), "\(refused.stderr)")

        // The export's closing line.
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("wp-\(UUID().uuidString).csv").path
        let export = try welfarePosts(["payroll", "export", "2026-01", "--draft", "--output", file, "--lang", "zh"], on: database)
        #expect(export.status == 0, "\(export.stderr)")
        // A draft's file says so in its name (SPEC §15).
        let written = String(file.dropLast(4)) + "_草稿DRAFT.csv"
        #expect(export.stderr == "已写入 1 行：\(written)\n", "\(export.stderr)")
        let exportEn = try welfarePosts(["payroll", "export", "2026-01", "--draft", "--output", file], on: database)
        #expect(exportEn.stderr == "1 lines written to \(written)\n", "\(exportEn.stderr)")

        // policy show: headers and rows in words.
        let policy = try welfarePosts(["policy", "show", "--region", Fixtures.villageA1, "--on", "2026-03-01", "--format", "csv"],
                                      on: database, environment: ["LANG": "zh_CN.UTF-8"])
        #expect(policy.stdout.hasPrefix("类别,项目,值,设定区划,起始日期\n安置条件,最低年龄,16,,\n"), "\(policy.stdout)")
        #expect(policy.stdout.contains("补贴标准,保洁员,岗位补贴 800.00 + 社保补贴 300.00,320321000000,2020-01-01"), "\(policy.stdout)")
        #expect(!policy.stdout.contains("eligibility") && !policy.stdout.contains("min_age"), "\(policy.stdout)")
        let policyEn = try welfarePosts(["policy", "show", "--region", Fixtures.villageA1, "--on", "2026-03-01", "--format", "csv"], on: database)
        #expect(policyEn.stdout.hasPrefix("kind,item,value,set_by,from\neligibility,min_age,16,,\n"), "\(policyEn.stdout)")

        // A table's yes and no, and the journal's operations.
        let dry = try welfarePosts(["region", "import", try temporaryFile("code,name\n320321101203,王庄村\n"), "--dry-run",
                                    "--format", "table", "--lang", "zh"], on: database)
        #expect(dry.stdout.contains("试运行：文件无误") && dry.stdout.range(of: "试运行 +是", options: .regularExpression) != nil, "\(dry.stdout)")
        let journal = try welfarePosts(["journal", "show", "--limit", "1", "--format", "csv", "--lang", "zh"], on: database)
        #expect(journal.stdout.contains(",新增,") || journal.stdout.contains(",修改,") || journal.stdout.contains(",删除,"), "\(journal.stdout)")
    }
}
