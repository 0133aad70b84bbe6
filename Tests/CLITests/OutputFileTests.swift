import Foundation
import Postgres
import Testing
import TestSupport
import WelfarePosts

/// Files the tool writes (SPEC §11): readable by their owner only, never written through a
/// link, complete or absent. Through the binary, on the payroll export's `--output`.
@Suite("files the tool writes")
struct OutputFileTests {
    /// A county whose January 2026 payroll is approved, with `people` lines, and a draft
    /// February.
    static func approvedJanuary(people: Int = 1) throws -> World {
        let world = try World()
        for number in 0..<people {
            try world.hire(try world.post(), try world.person(born: "1970-01-\(String(format: "%02d", number + 1))"), "2026-01-01", "2026-12-31")
        }
        _ = try Payroll.run(world.connection, month: Month(iso: "2026-01")!, region: nil)
        _ = try Payroll.approve(world.connection, month: Month(iso: "2026-01")!, region: Fixtures.county)
        _ = try Payroll.run(world.connection, month: Month(iso: "2026-02")!, region: nil)
        return world
    }

    /// A new empty folder.
    static func folder() throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("wp-out-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: false)
        return path
    }

    /// Every name in a folder, hidden ones included.
    static func listing(_ folder: String) throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: folder).sorted()
    }

    static func mode(_ path: String) -> mode_t? {
        var status = stat()
        return lstat(path, &status) == 0 ? status.st_mode & 0o7777 : nil
    }

    static func isLink(_ path: String) -> Bool {
        var status = stat()
        return lstat(path, &status) == 0 && status.st_mode & S_IFMT == S_IFLNK
    }

    @Test func exportIsReadableByItsOwnerOnly() throws {
        let world = try OutputFileTests.approvedJanuary()
        let folder = try OutputFileTests.folder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let output = folder + "/out.csv"
        let first = try welfarePosts(["payroll", "export", "2026-01", "--output", output], on: world.database)
        #expect(first.status == 0, "\(first.stderr)")
        #expect(OutputFileTests.mode(output) == 0o600)
        #expect(try OutputFileTests.listing(folder) == ["out.csv"], "a temporary file was left behind")
        // An older file of the name, readable by all, is replaced by one of the owner's only.
        try FileManager.default.removeItem(atPath: output)
        #expect(FileManager.default.createFile(atPath: output, contents: Data("old".utf8), attributes: [.posixPermissions: 0o644]))
        let second = try welfarePosts(["payroll", "export", "2026-01", "--output", output], on: world.database)
        #expect(second.status == 0, "\(second.stderr)")
        #expect(OutputFileTests.mode(output) == 0o600)
        let text = try String(contentsOfFile: output, encoding: .utf8)
        #expect(text.contains("month,county_code") && text.split(separator: "\n").count == 2, "\(text)")
        #expect(try OutputFileTests.listing(folder) == ["out.csv"])
    }

    /// The old code wrote to the fixed name `<out>.partial`: a link planted there had its
    /// target overwritten with every ID and account of the export.
    @Test func linkAtTheOldTemporaryNameIsNotFollowed() throws {
        let world = try OutputFileTests.approvedJanuary()
        let folder = try OutputFileTests.folder(), elsewhere = try OutputFileTests.folder()
        defer { try? FileManager.default.removeItem(atPath: folder); try? FileManager.default.removeItem(atPath: elsewhere) }
        let victim = elsewhere + "/precious.txt"
        try "precious".write(toFile: victim, atomically: false, encoding: .utf8)
        try FileManager.default.createSymbolicLink(atPath: folder + "/out.csv.partial", withDestinationPath: victim)
        let result = try welfarePosts(["payroll", "export", "2026-01", "--output", folder + "/out.csv"], on: world.database)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(try String(contentsOfFile: victim, encoding: .utf8) == "precious", "the link's target was overwritten")
        #expect(!OutputFileTests.isLink(folder + "/out.csv"), "the output is a link")
        #expect(OutputFileTests.isLink(folder + "/out.csv.partial"), "the planted link was touched")
        #expect(try String(contentsOfFile: folder + "/out.csv", encoding: .utf8).contains("month,county_code"))
        #expect(try OutputFileTests.listing(folder) == ["out.csv", "out.csv.partial"])
    }

    /// A link at the output's own name is refused, not replaced: the user learns of it, and
    /// its target is never written.
    @Test func linkAtTheOutputIsRefused() throws {
        let world = try OutputFileTests.approvedJanuary()
        let folder = try OutputFileTests.folder(), elsewhere = try OutputFileTests.folder()
        defer { try? FileManager.default.removeItem(atPath: folder); try? FileManager.default.removeItem(atPath: elsewhere) }
        let victim = elsewhere + "/precious.txt"
        try "precious".write(toFile: victim, atomically: false, encoding: .utf8)
        // A link to a file, and a link to nowhere (the attacker's file would be created).
        for (name, target) in [("out.csv", victim), ("dangling.csv", elsewhere + "/new.txt")] {
            try FileManager.default.createSymbolicLink(atPath: folder + "/" + name, withDestinationPath: target)
            let result = try welfarePosts(["payroll", "export", "2026-01", "--output", folder + "/" + name], on: world.database)
            #expect(result.status == 2, "\(name): \(result.stderr)")
            #expect(result.stderr.hasPrefix("error: [BAD_OUTPUT]") && result.stderr.contains("symbolic link"), "\(result.stderr)")
            #expect(OutputFileTests.isLink(folder + "/" + name), "\(name): the link was replaced")
        }
        #expect(try String(contentsOfFile: victim, encoding: .utf8) == "precious")
        #expect(try OutputFileTests.listing(elsewhere) == ["precious.txt"])
        #expect(try OutputFileTests.listing(folder) == ["dangling.csv", "out.csv"])
    }

    /// Issue 12: `--output <folder>` and `--output ""` aborted with "double free" and left a
    /// `.partial` file with full IDs and accounts.
    @Test(arguments: ["", "sub", "sub/", "missing/out.csv", "pipe"])
    func outputThatNamesNoFileIsRefused(output: String) throws {
        let world = try OutputFileTests.approvedJanuary()
        let folder = try OutputFileTests.folder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        try FileManager.default.createDirectory(atPath: folder + "/sub", withIntermediateDirectories: false)
        #expect(mkfifo(folder + "/pipe", 0o600) == 0)
        let run = try startWelfarePosts(["payroll", "export", "2026-01", "--output", output], on: world.database,
                                        applicationName: "wp-output", currentDirectory: folder)
        let result = try #require(run.wait(seconds: 60))
        #expect(result.status == 2, "'\(output)': \(result.stderr)")
        #expect(result.stderr.hasPrefix("error: [BAD_OUTPUT]") && result.stderr.split(separator: "\n").count == 1, "'\(output)': \(result.stderr)")
        let expected = [
            "": "--output is empty", "sub": "sub is a folder", "sub/": "sub/ is a folder",
            "missing/out.csv": "the folder missing does not exist", "pipe": "pipe is not an ordinary file",
        ]
        #expect(result.stderr.contains(expected[output]!), "\(result.stderr)")
        #expect(try OutputFileTests.listing(folder) == ["pipe", "sub"], "'\(output)' left a file")
        #expect(try OutputFileTests.listing(folder + "/sub") == [], "'\(output)' left a file")
    }

    /// A refused or failed export leaves nothing in the folder, and an older export of the
    /// same name as it was.
    @Test func failedExportLeavesNothing() throws {
        let world = try OutputFileTests.approvedJanuary(people: 12)
        let folder = try OutputFileTests.folder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let output = folder + "/out.csv"
        let login = "op" + UUID().uuidString.prefix(8).lowercased()
        try world.connection.query("SELECT operator_add($1, 'county-admin', $2)", [login, Fixtures.county])
        let countyAdmin = world.database.conninfo.split(separator: " ")
            .map { $0.hasPrefix("user=") ? "user=\(login)" : String($0) }.joined(separator: " ")
        let refusals: [([String], Int32, String)] = [
            (["2026-13"], 2, "BAD_MONTH"),
            (["2026-02"], 1, "PAYROLL_NOT_APPROVED"),
            (["2025-01"], 2, "NOT_FOUND"),
            (["2026-01", "--database", countyAdmin], 1, "PERMISSION_DENIED"),
        ]
        for (arguments, status, code) in refusals {
            let result = try welfarePosts(["payroll", "export"] + arguments + ["--output", output], on: world.database)
            #expect(result.status == status && result.stderr.hasPrefix("error: [\(code)]"), "\(arguments): \(result.stderr)")
            #expect(try OutputFileTests.listing(folder) == [], "\(arguments) left a file")
        }
        // A write that fails half-way (here the file-size limit, as a full disk would): exit 2,
        // and the unfinished file is removed. The old code was killed by SIGXFSZ and left it.
        let limited = try runProcess("/bin/bash", ["-c", "ulimit -f 1; exec \"$0\" \"$@\"",
                                                   productsFolder.appendingPathComponent("welfare-posts").path,
                                                   "payroll", "export", "2026-01", "--output", output, "--database", world.database.conninfo])
        #expect(limited.status == 2 && limited.stderr.hasPrefix("error: [BAD_OUTPUT] cannot write"), "\(limited.status): \(limited.stderr)")
        #expect(try OutputFileTests.listing(folder) == [], "a failed write left a file")
        // Over an older export: every failure leaves it byte for byte.
        let good = try welfarePosts(["payroll", "export", "2026-01", "--output", output], on: world.database)
        #expect(good.status == 0, "\(good.stderr)")
        let before = try Data(contentsOf: URL(fileURLWithPath: output))
        for (arguments, _, _) in refusals {
            _ = try welfarePosts(["payroll", "export"] + arguments + ["--output", output], on: world.database)
        }
        _ = try runProcess("/bin/bash", ["-c", "ulimit -f 1; exec \"$0\" \"$@\"", productsFolder.appendingPathComponent("welfare-posts").path,
                                         "payroll", "export", "2026-01", "--output", output, "--database", world.database.conninfo])
        #expect(try Data(contentsOf: URL(fileURLWithPath: output)) == before)
        #expect(try OutputFileTests.listing(folder) == ["out.csv"])
    }
}
