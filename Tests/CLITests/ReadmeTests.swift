import Foundation
import Testing
import TestSupport
import WelfarePosts

/// README.md is a user's first day: its examples must run as written against the demo, every
/// resident ID in it must be valid, and it may point only at files the repository holds.
@Suite("README")
struct ReadmeTests {
    static let readme: String = (try? String(contentsOf: packageRoot.appendingPathComponent("README.md"), encoding: .utf8)) ?? ""

    /// The commands of the `sh` blocks that call welfare-posts, continuation lines joined, in order.
    static func examples(_ markdown: String) -> [String] {
        var commands: [String] = [], inShell = false, pending = ""
        for line in markdown.split(separator: "\n", omittingEmptySubsequences: false).map(String.init) {
            if line.hasPrefix("```") {
                inShell = line == "```sh"
                continue
            }
            guard inShell else { continue }
            if !pending.isEmpty {
                pending += "\n" + line
            } else if line.hasPrefix("welfare-posts ") || line.hasPrefix("source <(welfare-posts ") {
                pending = line
            } else {
                continue
            }
            // A trailing backslash (before any comment) continues the command on the next line.
            let code = pending.split(separator: "\n").last.map { String($0.split(separator: "#", maxSplits: 1)[0]) } ?? ""
            if !code.trimmingCharacters(in: .whitespaces).hasSuffix("\\") {
                commands.append(pending)
                pending = ""
            }
        }
        return commands
    }

    @Test func examplesRunAsWrittenAgainstTheDemo() throws {
        let commands = Self.examples(Self.readme)
        #expect(commands.count >= 50, "\(commands.count) commands found")
        #expect(commands.first == "welfare-posts db migrate                  # apply pending migrations (each in its own transaction)")
        #expect(commands.contains { $0.hasPrefix("welfare-posts demo") })
        #expect(!commands.contains { $0.contains(" [--") }, "a synopsis with optional parts in a sh block")

        // An empty database, welfare-posts on the PATH, the repository's docs/ beside the
        // working folder, and bash running each command as the reader would.
        let database = try TestDatabase(migrated: false)
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("wp-readme-\(UUID().uuidString)")
        let bin = folder.appendingPathComponent("bin")
        try FileManager.default.createDirectory(at: bin, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        try FileManager.default.createSymbolicLink(atPath: bin.appendingPathComponent("welfare-posts").path,
                                                   withDestinationPath: welfarePostsBinary)
        try FileManager.default.createSymbolicLink(atPath: folder.appendingPathComponent("docs").path,
                                                   withDestinationPath: packageRoot.appendingPathComponent("docs").path)
        var environment = ProcessInfo.processInfo.environment
        environment["DATABASE_URL"] = database.conninfo
        environment["PATH"] = bin.path + ":" + (environment["PATH"] ?? "/usr/bin:/bin")
        environment["LANG"] = "C.UTF-8"
        environment["LC_ALL"] = nil
        for command in commands {
            let result = try runProcess("/bin/bash", ["-c", "cd '\(folder.path)' && \(command)"], environment: environment)
            #expect(result.status == 0, "README: \(command)\n\(result.stderr)")
            if result.status != 0 { break }
        }
        // What the story says happened did happen (the exit as corrected by `exit --correct`).
        let connection = try database.connect()
        let hired = try connection.query("""
            SELECT post_id, exit_on::text FROM placement WHERE id_number = '320321197804123028'
            """)
        #expect(hired.first?["post_id"] == "320321-00005" && hired.first?["exit_on"] == "2027-03-15", "\(hired)")
        let posts = try connection.query("SELECT id, state FROM post WHERE id IN ('320321-00010', '320321-00011') ORDER BY id")
        #expect(posts.map { $0["state"] ?? "" } == ["approved", "rejected"], "\(posts)")
        #expect(FileManager.default.fileExists(atPath: folder.appendingPathComponent("payroll-2026-07.csv").path))
    }

    @Test func everyResidentIDIsValid() throws {
        let pattern = try NSRegularExpression(pattern: #"(?<![0-9*])[0-9]{17}[0-9Xx](?![0-9])"#)
        let files = [Self.readme] + (try FileManager.default.contentsOfDirectory(
            at: packageRoot.appendingPathComponent("docs/examples"), includingPropertiesForKeys: nil)
            .map { url -> String in
                // Workbooks (the example ledger) are read as the imports read them.
                guard url.pathExtension == "xlsx" else { return try String(contentsOf: url, encoding: .utf8) }
                var text = ""
                try CSVFile(path: url.path).forEachRecord { text += $0.fields.joined(separator: ",") + "\n" }
                return text
            })
        var found = 0
        for text in files {
            let source = text as NSString
            for match in pattern.matches(in: text, range: NSRange(location: 0, length: source.length)) {
                let id = source.substring(with: match.range)
                // 18-digit bank accounts exist too; a resident ID starts with a region and a birth year.
                guard RegionCode(String(id.prefix(6))) != nil, ["19", "20"].contains(String(id.dropFirst(6).prefix(2))) else { continue }
                found += 1
                #expect(throws: Never.self, "\(id) in README or docs/examples") { try ResidentID(id) }
            }
        }
        #expect(found >= 10)
        // The ID the README once used, with a wrong check character, is gone.
        #expect(!Self.readme.contains("320321197003150128"))
    }

    @Test func pointsOnlyAtFilesOfTheRepository() throws {
        #expect(!Self.readme.contains("../"), "README points outside the repository")
        let pattern = try NSRegularExpression(pattern: #"`((?:docs|deploy|sql|bench|Sources|Tests)/[^`\s…*]*)`"#)
        let source = Self.readme as NSString
        var checked = 0
        for match in pattern.matches(in: Self.readme, range: NSRange(location: 0, length: source.length)) {
            let path = source.substring(with: match.range(at: 1))
            guard path != "bench/data/" else { continue }  // made by the benchmarks, never committed
            checked += 1
            let url = packageRoot.appendingPathComponent(path)
            // `sql/0013` names the migration sql/0013_….sql.
            let migration = (try? FileManager.default.contentsOfDirectory(atPath: url.deletingLastPathComponent().path))?
                .contains { $0.hasPrefix(url.lastPathComponent + "_") } ?? false
            #expect(FileManager.default.fileExists(atPath: url.path) || migration, "README names \(path)")
        }
        #expect(checked >= 10)
        for document in ["docs/SPEC.md", "docs/DESIGN.md", "docs/policy/national-rsbf-2021-26.txt"] {
            #expect(FileManager.default.fileExists(atPath: packageRoot.appendingPathComponent(document).path))
        }
        // --help points there too.
        let help = try welfarePosts(["--help"], on: nil)
        #expect(help.stdout.contains("docs/SPEC.md") && !help.stdout.contains("../"), "\(help.stdout)")
    }

    /// `deploy/link-binary.sh` puts welfare-posts on the PATH (README: set-up).
    @Test func linkScriptPutsTheBinaryOnThePath() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("wp-bin-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: folder) }
        var environment = ProcessInfo.processInfo.environment
        environment["WELFARE_POSTS_BIN_DIR"] = folder.path
        environment["PATH"] = "/usr/local/bin:/usr/bin:/bin"
        let linked = try runProcess("/bin/bash", [packageRoot.appendingPathComponent("deploy/link-binary.sh").path, welfarePostsBinary],
                                    environment: environment)
        #expect(linked.status == 0, "\(linked.stderr)")
        #expect(linked.stderr.contains("export PATH=\"\(folder.path):$PATH\""), "\(linked.stderr)")
        environment["PATH"] = folder.path + ":/usr/bin:/bin"
        let version = try runProcess("/bin/bash", ["-c", "welfare-posts --version"], environment: environment)
        #expect(version.status == 0 && version.stdout.hasPrefix("welfare-posts \(ProductVersion.number)"), "\(version)")
        // Run again (a rebuild): the link is replaced, not refused.
        #expect(try runProcess("/bin/bash", [packageRoot.appendingPathComponent("deploy/link-binary.sh").path, welfarePostsBinary],
                               environment: environment).status == 0)
    }
}
