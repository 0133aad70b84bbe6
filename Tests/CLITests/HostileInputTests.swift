import Foundation
import Postgres
import Testing
import TestSupport

/// Hostile and broken input through the built binary (SPEC §10, issue 12): every bad file and
/// value is refused with exit 2, `error: [CODE]`, the line and column of each bad cell, and
/// nothing written.
@Suite("hostile input")
struct HostileInputTests {
    static let header = "id_number,name,household_id,village_code,category,labour_capacity,bank_account,phone"
    static let ids = (1...6).map { residentID(born: "1970-03-15", sequence: 700 + $0) }
    static func row(_ index: Int, name: String = "王秀英", household: String = "H1") -> String {
        "\(ids[index]),\(name),\(household),\(Fixtures.villageA1),poverty-alleviated,weak,,"
    }

    /// Every table a refused import could have written to, counted and digested.
    static func fingerprint(_ connection: Connection) throws -> String {
        try connection.query("""
            SELECT concat_ws('/',
              (SELECT count(*) || md5(coalesce(string_agg(p::text, '|' ORDER BY id_number), '')) FROM person p),
              (SELECT count(*) FROM region), (SELECT count(*) FROM insurance_policy), (SELECT count(*) FROM assessment),
              (SELECT count(*) FROM disbursement), (SELECT count(*) FROM disbursement_file), (SELECT count(*) FROM pay_standard),
              (SELECT count(*) FROM post), (SELECT count(*) FROM post_quota), (SELECT count(*) FROM eligibility_policy)) AS f
            """)[0]["f"] ?? ""
    }

    enum Source: Sendable {
        case text(String)
        case bytes([UInt8])
        /// A folder, a FIFO nobody writes to, /dev/zero through a symbolic link named like a CSV file.
        case directory, fifo, devZeroLink
        /// A file of 2 GiB and one byte, sparse (it takes no disk).
        case overTwoGiB

        func path() throws -> String {
            switch self {
            case .text(let text): return try temporaryFile(text)
            case .bytes(let bytes): return try temporaryFile(bytes)
            case .directory:
                let path = FileManager.default.temporaryDirectory.appendingPathComponent("wp-dir-\(UUID().uuidString)").path
                try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: false)
                return path
            case .fifo:
                let path = FileManager.default.temporaryDirectory.appendingPathComponent("wp-fifo-\(UUID().uuidString).csv").path
                guard mkfifo(path, 0o600) == 0 else { throw TestSupportError("mkfifo failed") }
                return path
            case .overTwoGiB:
                let path = try temporaryFile([])
                guard truncate(path, off_t(2 << 30) + 1) == 0 else { throw TestSupportError("truncate failed") }
                return path
            case .devZeroLink:
                let path = FileManager.default.temporaryDirectory.appendingPathComponent("wp-zero-\(UUID().uuidString).csv").path
                try FileManager.default.createSymbolicLink(atPath: path, withDestinationPath: "/dev/zero")
                return path
            }
        }
    }

    struct HostileFile: CustomTestStringConvertible, Sendable {
        let name: String
        let command: [String]
        let source: Source
        let code: String
        /// What stderr must name: `line N, column C (header)` for each bad cell.
        let places: [String]
        var testDescription: String { name }
    }

    static let hostileFiles: [HostileFile] = {
        let person = ["person", "import"]
        func persons(_ rows: [String]) -> Source { .text(([header] + rows).joined(separator: "\n") + "\n") }
        var mixed = Array((header + "\n" + row(0) + "\n").utf8)
        mixed += (try? gbk(row(1, name: "人保财险") + "\n")) ?? []
        mixed += Array((row(2, name: "李建国") + "\n").utf8)
        let insuranceHeader = "id_number,insurer,policy_number,from,to,premium"
        return [
            HostileFile(name: "one GBK row among UTF-8 rows", command: person, source: .bytes(mixed), code: "MIXED_ENCODING",
                        places: ["line 3, column 2 (name)"]),
            HostileFile(name: "a row with fewer cells than the header", command: person,
                        source: persons([row(0), "\(ids[1]),李四,H2,\(Fixtures.villageA1),poverty-alleviated,weak"]), code: "BAD_FILE",
                        places: ["line 3, column 7 (bank_account)"]),
            HostileFile(name: "a row with more cells than the header", command: person,
                        source: persons([row(0) + ",extra"]), code: "BAD_FILE", places: ["line 2, column 9"]),
            HostileFile(name: "formulas in names", command: person,
                        source: persons([row(0, name: "\"=HYPERLINK(\"\"http://x\"\",\"\"点击\"\")\""), row(1, name: "@SUM(A1)"),
                                         row(2, name: "+cmd|' /C calc'!A0"), row(3, name: "-2+3")]), code: "BAD_FILE",
                        places: ["line 2, column 2 (name)", "line 3, column 2 (name)", "line 4, column 2 (name)", "line 5, column 2 (name)"]),
            HostileFile(name: "a control character", command: person, source: persons([row(0), row(1, name: "王\u{07}芳")]),
                        code: "BAD_FILE", places: ["line 3, column 2 (name)"]),
            HostileFile(name: "a terminal escape sequence", command: person, source: persons([row(0, household: "H\u{1B}[2J")]),
                        code: "BAD_FILE", places: ["line 2, column 3 (household_id)"]),
            HostileFile(name: "a NUL byte", command: person, source: persons([row(0), row(1, name: "王\u{0}芳")]),
                        code: "BAD_FILE", places: ["line 3, column 2 (name)"]),
            HostileFile(name: "a line break inside a quoted name", command: person, source: persons([row(0, name: "\"王\n芳\""), row(1)]),
                        code: "BAD_FILE", places: ["line 2, column 2 (name)"]),
            HostileFile(name: "a right-to-left override", command: person, source: persons([row(0, name: "王\u{202E}芳")]),
                        code: "BAD_FILE", places: ["line 2, column 2 (name)"]),
            HostileFile(name: "a name of 51 characters", command: person,
                        source: persons([row(0, name: String(repeating: "名", count: 51))]), code: "BAD_FILE",
                        places: ["line 2, column 2 (name)"]),
            HostileFile(name: "a 10 MB household ID", command: person,
                        source: persons([row(0), row(1, household: String(repeating: "H", count: 10 << 20))]), code: "BAD_FILE",
                        places: ["line 3, column 3 (household_id)"]),
            HostileFile(name: "a huge premium", command: ["insurance", "import"],
                        source: .text("\(insuranceHeader)\n\(ids[0]),人保财险,P1,2026-01-01,2026-12-31,92233720368547758.00\n"),
                        code: "BAD_FILE", places: ["line 2, column 6 (premium)"]),
            HostileFile(name: "a huge and a negative payment", command: ["disbursement", "import"],
                        source: .text("id_number,month,bank_account,amount,paid_on\n\(ids[0]),2026-01,6228480312345678,92233720368547758.00,2026-02-05\n\(ids[0]),2026-02,6228480312345678,-1100,2026-03-05\n"),
                        code: "BAD_FILE", places: ["line 2, column 4 (amount)", "line 3, column 4 (amount)"]),
            HostileFile(name: "a folder", command: person, source: .directory, code: "BAD_FILE", places: ["is a folder, not a file"]),
            HostileFile(name: "a FIFO nobody writes to", command: person, source: .fifo, code: "BAD_FILE", places: ["is a pipe (FIFO), not a file"]),
            HostileFile(name: "/dev/zero through a link", command: person, source: .devZeroLink, code: "BAD_FILE", places: ["is a device, not a file"]),
            HostileFile(name: "a file over 2 GiB", command: person, source: .overTwoGiB, code: "BAD_FILE", places: ["is larger than 2 GiB"]),
        ]
    }()

    /// A database with the fixture regions and the first person registered.
    func prepared() throws -> (TestDatabase, Connection) {
        let database = try TestDatabase()
        let connection = try database.connect()
        try Fixtures.regions(connection)
        let result = try welfarePosts(["person", "import", try temporaryFile("\(Self.header)\n\(Self.row(0))\n")], on: database)
        #expect(result.status == 0, "\(result.stderr)")
        return (database, connection)
    }

    @Test(arguments: hostileFiles)
    func hostileFileIsRefusedWhole(_ hostile: HostileFile) throws {
        let (database, connection) = try prepared()
        let before = try Self.fingerprint(connection)
        let path = try hostile.source.path()
        defer { try? FileManager.default.removeItem(atPath: path) }
        for lang in ["en", "zh"] {
            let result = try welfarePosts(hostile.command + [path, "--lang", lang], on: database, timeout: 60)
            #expect(result.status == 2, "exit \(result.status): \(result.stderr.prefix(500))")
            #expect(result.stderr.hasPrefix("error: [\(hostile.code)]"), "\(result.stderr.prefix(500))")
            // Nothing the file held reaches the terminal raw.
            #expect(!result.stderr.unicodeScalars.contains { $0 == "\u{1B}" || $0 == "\u{0}" || $0 == "\u{202E}" })
            #expect(result.stderr.utf8.count < 10_000, "stderr of \(result.stderr.utf8.count) bytes")
            if lang == "en" {
                for place in hostile.places {
                    #expect(result.stderr.contains(place), "expected \(place) in:\n\(result.stderr.prefix(2000))")
                }
            } else {
                for place in hostile.places where place.hasPrefix("line ") {
                    let zh = place.replacingOccurrences(of: "line ", with: "第 ").replacingOccurrences(of: ", column ", with: " 行，第 ")
                    let numbers = zh.split(separator: " (").first.map(String.init) ?? zh
                    #expect(result.stderr.contains(numbers), "expected \(numbers) in:\n\(result.stderr.prefix(2000))")
                }
            }
        }
        #expect(try Self.fingerprint(connection) == before)
    }

    /// A GBK file (what Excel in China saves) with one UTF-8 row pasted in: the UTF-8 row is the
    /// one named. A file that says it is UTF-8 (byte-order mark) with a GBK row: the GBK row.
    @Test func theLineThatDiffersIsNamed() throws {
        let (database, connection) = try prepared()
        let before = try Self.fingerprint(connection)
        let chinese = "身份证号,姓名,户编号,村代码,人员类别,劳动能力"
        let gbkFile = try gbk("\(chinese)\n\(Self.ids[1]),孙桂兰,H5,\(Fixtures.villageA1),脱贫人口,弱劳力\n")
            + Array("\(Self.ids[2]),周德胜,H6,\(Fixtures.villageA1),脱贫人口,弱劳力\n".utf8)
            + (try gbk("\(Self.ids[3]),李建国,H7,\(Fixtures.villageA1),监测对象,半劳力\n"))
        let mostlyGBK = try welfarePosts(["person", "import", try temporaryFile(gbkFile)], on: database)
        #expect(mostlyGBK.status == 2)
        #expect(mostlyGBK.stderr.hasPrefix("error: [MIXED_ENCODING]"), "\(mostlyGBK.stderr)")
        #expect(mostlyGBK.stderr.contains("line 3, column 2 (姓名): this line is UTF-8 while the rest of the file is GBK"), "\(mostlyGBK.stderr)")
        #expect(!mostlyGBK.stderr.contains("line 2") && !mostlyGBK.stderr.contains("line 4"))

        let marked = [0xEF, 0xBB, 0xBF] + Array("\(Self.header)\n\(Self.row(1))\n".utf8) + (try gbk(Self.row(2, name: "孙桂兰") + "\n"))
        let bom = try welfarePosts(["person", "import", try temporaryFile(marked)], on: database)
        #expect(bom.status == 2)
        #expect(bom.stderr.hasPrefix("error: [MIXED_ENCODING]"), "\(bom.stderr)")
        #expect(bom.stderr.contains("line 3, column 2 (name)"), "\(bom.stderr)")
        #expect(try Self.fingerprint(connection) == before)

        // The same file wholly in GBK imports, every name as written.
        let whole = try gbk("\(chinese)\n\(Self.ids[1]),孙桂兰,H5,\(Fixtures.villageA1),脱贫人口,弱劳力\n\(Self.ids[2]),周德胜,H6,\(Fixtures.villageA1),脱贫人口,弱劳力\n")
        let ok = try welfarePosts(["person", "import", try temporaryFile(whole)], on: database)
        #expect(ok.status == 0, "\(ok.stderr)")
        #expect(try connection.query("SELECT name FROM person WHERE id_number = $1", [Self.ids[2]]).first?["name"] == "周德胜")
    }

    /// A tab is allowed inside the quotes of free text only (SPEC §10: "other than tab in CSV
    /// quoting"); never in a name or a code, never outside quotes.
    @Test func tabsOnlyInsideQuotedFreeText() throws {
        let (database, connection) = try prepared()
        let before = try Self.fingerprint(connection)
        let result = try welfarePosts(["person", "import", try temporaryFile("\(Self.header)\n\(Self.row(1, name: "\"王\t芳\""))\n\(Self.row(2, household: "H\t9"))\n")], on: database)
        #expect(result.status == 2)
        #expect(result.stderr.contains("line 2, column 2 (name)"), "\(result.stderr)")
        #expect(result.stderr.contains("line 3, column 3 (household_id)"), "\(result.stderr)")
        #expect(try Self.fingerprint(connection) == before)
    }

    struct HostileOption: CustomTestStringConvertible, Sendable {
        let arguments: [String]
        let code: String
        var testDescription: String { String(arguments.joined(separator: " ").prefix(120)) }
    }

    static let hostileOptions: [HostileOption] = [
        HostileOption(arguments: ["due", "--within", "9223372036854775807"], code: "BAD_NUMBER"),
        HostileOption(arguments: ["due", "--within=-1"], code: "BAD_NUMBER"),
        HostileOption(arguments: ["due", "--within", "99999999999999999999999"], code: "USAGE"),
        HostileOption(arguments: ["policy", "pay", "--region", "320321", "--type", "cleaner", "--monthly", "10000000000", "--from", "2026-01"], code: "BAD_AMOUNT"),
        HostileOption(arguments: ["policy", "pay", "--region", "320321", "--type", "cleaner", "--monthly", "100000.01", "--from", "2026-01"], code: "BAD_AMOUNT"),
        HostileOption(arguments: ["policy", "pay", "--region", "320321", "--type", "cleaner", "--monthly", "800", "--social-insurance", "99999999999999999999999", "--from", "2026-01"], code: "BAD_AMOUNT"),
        HostileOption(arguments: ["policy", "pay", "--region", "320321", "--type", "cleaner", "--monthly=-800", "--from", "2026-01"], code: "BAD_AMOUNT"),
        HostileOption(arguments: ["policy", "eligibility", "--region", "320321", "--from", "2026-01-01", "--max-age", "9223372036854775807"], code: "BAD_NUMBER"),
        HostileOption(arguments: ["policy", "eligibility", "--region", "320321", "--from", "2026-01-01", "--household-cap=-9223372036854775808"], code: "BAD_NUMBER"),
        HostileOption(arguments: ["policy", "quota", "--region", "320321", "--year", "2026", "--posts", "9223372036854775807"], code: "BAD_NUMBER"),
        HostileOption(arguments: ["policy", "quota", "--region", "320321", "--year", "9223372036854775807", "--posts", "10"], code: "BAD_NUMBER"),
        HostileOption(arguments: ["journal", "show", "--limit", "9223372036854775807"], code: "BAD_NUMBER"),
        HostileOption(arguments: ["assess", "--person", ids[0], "--month", "2026-01", "--result", "pass", "--absent-days", "9223372036854775807"], code: "BAD_NUMBER"),
        HostileOption(arguments: ["insurance", "add", "--person", ids[0], "--insurer", "人保财险", "--policy", "P1", "--from", "2026-01-01", "--to", "2026-12-31", "--premium", "92233720368547758.00"], code: "BAD_AMOUNT"),
        HostileOption(arguments: ["insurance", "add", "--person", ids[0], "--insurer", "=cmd|' /C calc'!A0", "--policy", "P1", "--from", "2026-01-01", "--to", "2026-12-31"], code: "BAD_TEXT"),
        HostileOption(arguments: ["post", "propose", "--region", Fixtures.villageA1, "--type", "cleaner", "--funding", "employment-fund", "--developer", "镇政府\u{1B}[2J", "--need", "保洁"], code: "BAD_TEXT"),
        HostileOption(arguments: ["post", "propose", "--region", Fixtures.villageA1, "--type", "cleaner", "--funding", "employment-fund", "--developer", "镇政府", "--need", "@SUM(A1)"], code: "BAD_TEXT"),
        HostileOption(arguments: ["post", "propose", "--region", Fixtures.villageA1, "--type", "cleaner", "--funding", "employment-fund", "--developer", "镇政府", "--need", String(repeating: "需", count: 201)], code: "BAD_TEXT"),
        HostileOption(arguments: ["person", "show", "\u{1B}[2J" + String(repeating: "9", count: 100_000)], code: "BAD_ID"),
    ]

    @Test(arguments: hostileOptions)
    func hostileOptionIsRefused(_ hostile: HostileOption) throws {
        let (database, connection) = try prepared()
        _ = try welfarePosts(["policy", "pay", "--region", "320321", "--type", "cleaner", "--monthly", "800", "--from", "2020-01"], on: database)
        let before = try Self.fingerprint(connection)
        for lang in ["en", "zh"] {
            let result = try welfarePosts(hostile.arguments + ["--lang", lang], on: database, timeout: 60)
            #expect(result.status == 2, "exit \(result.status): \(result.stderr.prefix(500))")
            #expect(result.stderr.hasPrefix("error: [\(hostile.code)]"), "\(result.stderr.prefix(500))")
            #expect(!result.stderr.unicodeScalars.contains("\u{1B}"))
            #expect(result.stderr.utf8.count < 10_000, "stderr of \(result.stderr.utf8.count) bytes")
        }
        #expect(try Self.fingerprint(connection) == before)
    }

    /// The bounds are inclusive (100,000 yuan a month is a standard, 3,660 days a window), and
    /// the largest standards go through payroll, export and audit without overflowing.
    @Test func valuesAtTheBoundsAreAccepted() throws {
        let world = try World()
        let database = world.database
        let pay = try welfarePosts(["policy", "pay", "--region", "320321", "--type", "cleaner", "--monthly", "100000.00",
                                    "--social-insurance", "100000", "--from", "2026-01"], on: database)
        #expect(pay.status == 0, "\(pay.stderr)")
        let person = try world.person(born: "1970-01-01")
        try world.hire(try world.post(), person, "2026-01-01", "2026-12-31")
        for arguments in [["due", "--within", "3660"], ["payroll", "run", "2026-01"], ["payroll", "approve", "2026-01", "--region", "320321"],
                          ["payroll", "export", "2026-01"], ["audit", "violations", "--as-of", "2026-12-31"], ["audit", "summary", "--as-of", "2026-12-31"]] {
            let result = try welfarePosts(arguments, on: database)
            #expect(result.status == 0, "\(arguments): \(result.stderr)")
            #expect(!result.stdout.contains("#"), "\(arguments): \(result.stdout)")
        }
        let export = try welfarePosts(["payroll", "export", "2026-01"], on: database)
        #expect(export.stdout.contains(",100000.00,100000.00,0.00,200000.00"), "\(export.stdout)")
    }

    /// What psql can still write (before the bounds of sql/0015) never reaches the screen raw.
    @Test func storedControlCharactersAreShownEscaped() throws {
        let (database, connection) = try prepared()
        let hostile = "王\u{1B}[2J\u{1B}]0;pwned\u{07}\n芳\u{202E}"
        try connection.command("UPDATE person SET name = $1, phone = $2 WHERE id_number = $3", [hostile, "\u{1B}[31m", Self.ids[0]])
        for format in ["table", "csv", "json"] {
            let result = try welfarePosts(["person", "show", Self.ids[0], "--format", format], on: database)
            #expect(result.status == 0, "\(result.stderr)")
            #expect(!result.stdout.unicodeScalars.contains { $0 == "\u{1B}" || $0 == "\u{07}" || $0 == "\u{202E}" }, "\(format): \(result.stdout)")
            if format != "json" { #expect(result.stdout.contains("王\\e[2J"), "\(format): \(result.stdout)") }
            else { #expect(result.stdout.contains("王\\u001b[2J"), "\(result.stdout)") }
        }
    }

    /// Every input of the fuzzing corpus (and every crash the fuzzer found, once added to it)
    /// replayed through the reader and the value parsers, without the fuzzer (deploy/fuzz.sh).
    @Test func fuzzingCorpusReplays() throws {
        let corpus = packageRoot.appendingPathComponent("Tests/fuzz-corpus").path
        let result = try runProcess(productsFolder.appendingPathComponent("fuzz-values").path, [corpus], timeout: 120)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("no promise broken"), "\(result.stdout)")
    }
}
