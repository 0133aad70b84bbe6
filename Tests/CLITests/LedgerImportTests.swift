import Foundation
import Postgres
import Testing
import TestSupport
import WelfarePosts

/// A county brings its existing ledger in (issue 16, SPEC §10 and §16): posts and placements
/// with their past dates, every rule of §5 checked as of those dates, all or nothing.
@Suite("ledger import")
struct LedgerImportTests {
    static let postHeader = "post_id,region_code,post_type,funding_channel,developer,need,proposed_on,approved_on,closed_on,close_reason"
    static let placementHeader = "post_id,id_number,start_on,contract_kind,contract_start,contract_end,exit_on,exit_reason"

    /// A workbook written by the product's own writer: every cell as text.
    static func workbook(_ rows: [[String]]) throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("wp-ledger-\(UUID().uuidString).xlsx").path
        let writer = try XLSXWriter()
        try writer.beginSheet("台账")
        for row in rows { try writer.row(row.map { $0.isEmpty ? .empty : .text($0) }) }
        let file = try SafeFile(path: path)
        try writer.finish(into: file)
        try file.commit()
        return path
    }

    static func count(_ connection: Connection, _ table: String) throws -> String {
        try connection.query("SELECT count(*) AS n FROM \(table)")[0]["n"] ?? ""
    }

    /// Posts (CSV, Chinese headers, one without an ID) and placements (xlsx) of a township's
    /// ledger: imported with their dates, read as history by `post list --on` and the ledger,
    /// journaled; the IDs a ledger gives are kept and the serial skips them; the same files
    /// again are refused and change nothing.
    @Test func aCleanLedgerImportsAndReadsAsHistory() throws {
        let world = try World()
        let a = try world.person(born: "1970-03-15"), b = try world.person(born: "1975-06-01")
        let posts = try temporaryFile("""
            岗位编号,区划代码,岗位类型,资金渠道,开发主体,设岗需求,申报日期,审批日期,撤销日期,撤销原因
            320321-00002,\(Fixtures.villageA1),保洁员,就业补助资金,首羡镇人民政府,村道保洁,2024-12-01,2025-01-01,,
            320321-00107,\(Fixtures.villageA1),cleaner,employment-fund,首羡镇人民政府,村庄绿化管护,2024-12-01,2025-01-01,2025-07-01,岗位合并
            ,\(Fixtures.villageA2),cleaner,employment-fund,首羡镇人民政府,李楼村保洁,2025-02-01,2025-02-10,,

            """)
        let imported = try welfarePosts(["post", "import", posts, "--format", "json"], on: world.database)
        #expect(imported.status == 0, "\(imported.stderr)")
        #expect(jsonObject(imported.stdout)["posts"] == "3", "\(imported.stdout)")
        // The row without an ID has the county's first free serial.
        #expect(imported.stdout.contains("320321-00001"), "\(imported.stdout)")
        let states = try world.connection.query("SELECT id, state, approved_on::text, closed_on::text FROM post ORDER BY id")
        #expect(states.map { "\($0["id"]!) \($0["state"]!) \($0["approved_on"]!) \($0["closed_on"] ?? "-")" } == [
            "320321-00001 approved 2025-02-10 -", "320321-00002 approved 2025-01-01 -", "320321-00107 closed 2025-01-01 2025-07-01",
        ])

        let placements = try Self.workbook([
            ["岗位编号", "身份证号", "上岗日期", "合同类型", "合同起始", "合同终止", "退岗日期", "退岗原因"],
            ["320321-00002", a.value, "2025-01-05", "劳务协议", "2025-01-05", "2025-12-31", "", ""],
            ["320321-00002", a.value, "2025-01-05", "劳务协议", "2026-01-01", "2026-12-31", "", ""],
            ["320321-00107", b.value, "2025-01-10", "service-agreement", "2025-01-10", "2025-12-31", "2025-06-30", "岗位撤销"],
        ])
        let hired = try welfarePosts(["placement", "import", placements, "--format", "json"], on: world.database)
        #expect(hired.status == 0, "\(hired.stderr)")
        let outcome = jsonObject(hired.stdout)
        #expect(outcome["placements"] == "2" && outcome["contracts"] == "3", "\(hired.stdout)")

        // History: the posts and their holders as on past days.
        func listed(_ day: String) throws -> [String] {
            let result = try welfarePosts(["post", "list", "--on", day, "--format", "json"], on: world.database)
            return jsonRows(result.stdout).map { "\($0["id"] ?? "") \($0["state"] ?? "") \($0["holder_id"] ?? "-")" }
        }
        #expect(try listed("2024-12-15") == ["320321-00002 proposed -", "320321-00107 proposed -"])
        #expect(try listed("2025-03-01") == ["320321-00001 approved -", "320321-00002 approved \(a.masked)", "320321-00107 approved \(b.masked)"])
        #expect(try listed("2025-08-01") == ["320321-00001 approved -", "320321-00002 approved \(a.masked)", "320321-00107 closed -"])
        let ledger = try welfarePosts(["ledger", "posts", "--as-of", "2025-03-01", "--format", "csv"], on: world.database)
        #expect(ledger.status == 0 && ledger.stdout.contains("320321-00107"), "\(ledger.stdout) \(ledger.stderr)")
        // Journaled like any other write.
        #expect(try world.connection.query("SELECT count(*) AS n FROM journal WHERE table_name = 'post' AND operation = 'INSERT'")[0]["n"] == "3")
        #expect(try world.connection.query("SELECT count(*) AS n FROM journal WHERE table_name = 'contract' AND operation = 'INSERT'")[0]["n"] == "3")

        // A proposal afterwards skips the ledger's own 320321-00002.
        let proposed = try welfarePosts(["post", "propose", "--region", Fixtures.villageA1, "--type", "cleaner", "--funding", "other",
                                         "--developer", "首羡镇人民政府", "--need", "新增保洁", "--format", "json"], on: world.database)
        #expect(jsonObject(proposed.stdout)["id"] == "320321-00003", "\(proposed.stdout) \(proposed.stderr)")

        // The same files again: refused, each line listed, nothing written.
        let before = try world.fingerprint()
        let again = try welfarePosts(["post", "import", posts], on: world.database)
        #expect(again.status == 2 && again.stderr.contains("[ALREADY_IMPORTED]"), "\(again.stderr)")
        #expect(again.stderr.contains("line 2,") && again.stderr.contains("line 3,") && again.stderr.contains("line 4,"), "\(again.stderr)")
        let hiredAgain = try welfarePosts(["placement", "import", placements], on: world.database)
        #expect(hiredAgain.status == 2 && hiredAgain.stderr.contains("[ALREADY_IMPORTED]"), "\(hiredAgain.stderr)")
        #expect(try world.fingerprint() == before)
    }

    /// Rows that break §5 on their own dates: every line with its rule, exit 1, nothing written.
    @Test func rowsBreakingRulesOnTheirDatesAreEachListed() throws {
        let world = try World()
        let x = try world.post(), y = try world.post()
        let late = try world.post(approvedOn: "2025-06-01")
        let a = try world.person(born: "1970-01-01"), b = try world.person(born: "1971-01-01"), c = try world.person(born: "1972-01-01")
        let d = try world.person(born: "1973-01-01")
        // E was in category `other` until 2025-06-01, eligible only from then on.
        let e = try world.person(born: "1974-01-01", category: "other")
        let change = try welfarePosts(["person", "import", try temporaryFile("""
            id_number,name,household_id,village_code,category,labour_capacity,effective_from
            \(e.value),测试E,HE,\(Fixtures.villageA1),low-income,weak,2025-06-01

            """)], on: world.database)
        #expect(change.status == 0, "\(change.stderr)")
        let before = try world.fingerprint()

        // Two holders of one post on the same days, alone: the rule's own code, both lines.
        let twoHolders = try temporaryFile("""
            \(Self.placementHeader)
            \(x),\(a.value),2025-01-01,service-agreement,2025-01-01,2025-12-31,,
            \(x),\(b.value),2025-06-01,service-agreement,2025-06-01,2026-05-31,,

            """)
        let holders = try welfarePosts(["placement", "import", twoHolders], on: world.database)
        #expect(holders.status == 1, "\(holders.stderr)")
        #expect(holders.stderr.contains("error: [ONE_HOLDER_PER_POST]"), "\(holders.stderr)")
        #expect(holders.stderr.contains("line 2, column 1 (post_id): ONE_HOLDER_PER_POST: line 3"), "\(holders.stderr)")
        #expect(holders.stderr.contains("line 3, column 1 (post_id): ONE_HOLDER_PER_POST: line 2"), "\(holders.stderr)")
        #expect(try world.fingerprint() == before)

        let file = try temporaryFile("""
            \(Self.placementHeader)
            \(x),\(a.value),2025-01-01,service-agreement,2025-01-01,2025-12-31,,
            \(x),\(b.value),2025-06-01,service-agreement,2025-06-01,2026-05-31,,
            \(y),\(c.value),2025-01-01,service-agreement,2025-01-01,2026-01-01,2025-12-31,contract-ended
            \(late),\(d.value),2025-03-01,service-agreement,2025-03-01,2025-12-31,,
            \(y),\(e.value),2026-02-01,service-agreement,2026-02-01,2026-12-31,,
            \(y),\(e.value),2026-02-01,service-agreement,2025-03-01,2025-12-31,,

            """)
        let refused = try welfarePosts(["placement", "import", file], on: world.database)
        #expect(refused.status == 1, "\(refused.stderr)")
        #expect(refused.stderr.contains("error: [LEDGER_RULES]"), "\(refused.stderr)")
        for expected in ["line 2, column 1 (post_id): ONE_HOLDER_PER_POST", "line 3, column 1 (post_id): ONE_HOLDER_PER_POST",
                         "line 4, column 6 (contract_end): CONTRACT_TERM", "line 5, column 3 (start_on): POST_NOT_OPEN",
                         "line 7, column 2 (id_number): CATEGORY", "line 7, column 5 (contract_start): CONTRACT_OVERLAP"] {
            #expect(refused.stderr.contains(expected), "\(expected)\n\(refused.stderr)")
        }
        // E's contract from 2026-02-01 finds the category of then (eligible): line 6 is clean.
        #expect(!refused.stderr.contains("line 6,"), "\(refused.stderr)")
        #expect(try world.fingerprint() == before)
        let zh = try welfarePosts(["placement", "import", file, "--lang", "zh"], on: world.database)
        #expect(zh.stderr.contains("第 4 行") && zh.stderr.contains("每次签订期限不超过1年"), "\(zh.stderr)")
    }

    /// HOUSEHOLD_CAP with households as on each day, counting what is stored and the file.
    @Test func householdCapCountsStoredAndFilePlacements() throws {
        let world = try World()
        let x = try world.post(), y = try world.post()
        let a = try world.person(born: "1970-01-01", household: "H-SAME"), b = try world.person(born: "1971-01-01", household: "H-SAME")
        try world.hire(x, a, "2025-01-01", "2025-12-31")
        let before = try world.fingerprint()
        let file = try temporaryFile("""
            \(Self.placementHeader)
            \(y),\(b.value),2025-03-01,service-agreement,2025-03-01,2025-12-31,2025-12-31,contract-ended

            """)
        let refused = try welfarePosts(["placement", "import", file], on: world.database)
        #expect(refused.status == 1 && refused.stderr.contains("error: [HOUSEHOLD_CAP]"), "\(refused.stderr)")
        #expect(refused.stderr.contains("line 2, column 2 (id_number): HOUSEHOLD_CAP"), "\(refused.stderr)")
        #expect(try world.fingerprint() == before)
    }

    /// INSURANCE for history typed in late: a contract that ended before today imports without
    /// cover (the audit reports those days, UNINSURED); one still running today needs its
    /// policies recorded first.
    @Test func insuranceIsAskedOfContractsStillRunning() throws {
        let world = try World()
        let x = try world.post(), y = try world.post()
        let past = try world.person(born: "1970-01-01", insured: false), current = try world.person(born: "1971-01-01", insured: false)
        let today = Day.today()
        let running = try temporaryFile("""
            \(Self.placementHeader)
            \(y),\(current.value),\(today.adding(days: -30).iso),service-agreement,\(today.adding(days: -30).iso),\(today.adding(days: 300).iso),,

            """)
        let refused = try welfarePosts(["placement", "import", running], on: world.database)
        #expect(refused.status == 1 && refused.stderr.contains("error: [INSURANCE]"), "\(refused.stderr)")
        #expect(refused.stderr.contains("insurance import"), "\(refused.stderr)")

        let ended = try temporaryFile("""
            \(Self.placementHeader)
            \(x),\(past.value),2024-01-01,service-agreement,2024-01-01,2024-12-31,2024-12-31,contract-ended

            """)
        let imported = try welfarePosts(["placement", "import", ended], on: world.database)
        #expect(imported.status == 0, "\(imported.stderr)")
        let audit = try welfarePosts(["audit", "violations", "--as-of", "2024-12-31", "--format", "csv"], on: world.database)
        #expect(audit.stdout.contains("UNINSURED") && audit.stdout.contains(x), "\(audit.stdout) \(audit.stderr)")
    }

    /// Bad cells are bad input (exit 2) with line and column; so are a workbook's merged header
    /// cells and a second header row; a dry run checks everything and writes nothing.
    @Test func badInputIsExitTwoAndDryRunWritesNothing() throws {
        let world = try World()
        let before = try world.fingerprint()
        let badDate = try temporaryFile("""
            \(Self.postHeader)
            ,\(Fixtures.villageA1),cleaner,employment-fund,首羡镇人民政府,村道保洁,2024-12-01,2025-01-01,,
            ,\(Fixtures.villageA1),cleaner,employment-fund,首羡镇人民政府,村道保洁,2024-12-01,2025-13-01,,

            """)
        let bad = try welfarePosts(["post", "import", badDate], on: world.database)
        #expect(bad.status == 2, "\(bad.stderr)")
        #expect(bad.stderr.contains("line 3, column 8 (approved_on): '2025-13-01' is not a date"), "\(bad.stderr)")

        // Dates out of order are a rule (POST_DATES), exit 1.
        let order = try welfarePosts(["post", "import", try temporaryFile("""
            \(Self.postHeader)
            ,\(Fixtures.villageA1),cleaner,employment-fund,首羡镇人民政府,村道保洁,2025-02-01,2025-01-01,,

            """)], on: world.database)
        #expect(order.status == 1 && order.stderr.contains("POST_DATES"), "\(order.stderr)")

        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("wp-ledger-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        _ = try ExcelTests.python("""
            import openpyxl
            wb = openpyxl.Workbook(); ws = wb.active
            ws.append(['丰县公益性岗位台账', None, None, None, None, None, None, None])
            ws.merge_cells('A1:H1')
            ws.append(\(Self.postHeader.split(separator: ",").map { "'\($0)'" }))
            ws.append(['', '\(Fixtures.villageA1)', 'cleaner', 'employment-fund', '首羡镇人民政府', '村道保洁', '2024-12-01', '2025-01-01'])
            wb.save('\(folder)/merged.xlsx')
            wb = openpyxl.Workbook(); ws = wb.active
            ws.append(['岗位编号', '区划代码', '岗位类型', '资金渠道', '开发主体', '设岗需求', '申报日期', '审批日期'])
            ws.append(['post_id', 'region_code', 'post_type', 'funding_channel', 'developer', 'need', 'proposed_on', 'approved_on'])
            ws.append(['', '\(Fixtures.villageA1)', 'cleaner', 'employment-fund', '首羡镇人民政府', '村道保洁', '2024-12-01', '2025-01-01'])
            wb.save('\(folder)/two-headers.xlsx')
            """)
        let merged = try welfarePosts(["post", "import", folder + "/merged.xlsx"], on: world.database)
        #expect(merged.status == 2 && merged.stderr.contains("merged cells") && merged.stderr.contains("A1:H1"), "\(merged.stderr)")
        let two = try welfarePosts(["post", "import", folder + "/two-headers.xlsx"], on: world.database)
        #expect(two.status == 2 && two.stderr.contains("more than one header row") && two.stderr.contains("line 2"), "\(two.stderr)")
        #expect(try world.fingerprint() == before)

        // --dry-run: the whole check, the counts, nothing written (nor a serial taken).
        let good = try temporaryFile("""
            \(Self.postHeader)
            ,\(Fixtures.villageA1),cleaner,employment-fund,首羡镇人民政府,村道保洁,2024-12-01,2025-01-01,,

            """)
        let dry = try welfarePosts(["post", "import", good, "--dry-run", "--format", "json"], on: world.database)
        #expect(dry.status == 0 && dry.stdout.contains("320321-00001"), "\(dry.stdout) \(dry.stderr)")
        #expect(try world.fingerprint() == before)
        #expect(try Self.count(world.connection, "post_serial") == "0")
        let person = try world.person(born: "1970-01-01")
        let post = try world.post()
        let beforePlacement = try world.fingerprint()
        let dryPlacement = try welfarePosts(["placement", "import", try temporaryFile("""
            \(Self.placementHeader)
            \(post),\(person.value),2025-01-01,service-agreement,2025-01-01,2025-12-31,,

            """), "--dry-run", "--format", "json"], on: world.database)
        #expect(dryPlacement.status == 0 && jsonObject(dryPlacement.stdout)["placements"] == "1", "\(dryPlacement.stdout) \(dryPlacement.stderr)")
        #expect(try world.fingerprint() == beforePlacement)
    }

    /// A township administrator imports its own township's ledger, as a real role under row-level
    /// security, and is refused another township's rows, nothing written.
    @Test func aTownshipAdminImportsOnlyItsOwnTownship() throws {
        let scene = try AccessTests.Scene()
        let township = try scene.login("township-admin", Fixtures.townshipA)
        let before = try scene.world.fingerprint()
        let outside = try temporaryFile("""
            \(Self.postHeader)
            ,\(Fixtures.villageA1),cleaner,employment-fund,首羡镇人民政府,村道保洁,2024-12-01,2025-01-01,,
            ,\(Fixtures.villageB1),cleaner,employment-fund,顺河镇人民政府,村道保洁,2024-12-01,2025-01-01,,

            """)
        let refused = try scene.cli(township, ["post", "import", outside])
        #expect(refused.status == 1 && refused.stderr.contains("[OUTSIDE_REGION]"), "\(refused.stderr)")
        #expect(refused.stderr.contains("line 3") && !refused.stderr.contains("line 2"), "\(refused.stderr)")
        #expect(try scene.world.fingerprint() == before)

        let own = try temporaryFile("""
            \(Self.postHeader)
            ,\(Fixtures.villageA1),cleaner,employment-fund,首羡镇人民政府,村道保洁,2024-12-01,2025-01-01,,

            """)
        let imported = try scene.cli(township, ["post", "import", own])
        #expect(imported.status == 0, "\(imported.stderr)")
        #expect(try scene.connection.query("SELECT role FROM journal WHERE table_name = 'post' ORDER BY seq DESC LIMIT 1")[0]["role"]
                == township.split(separator: " ").first { $0.hasPrefix("user=") }.map { String($0.dropFirst(5)) })
    }
}

/// The example ledger of docs/examples (the demo county's 顺河镇, DemoLedger): the workbooks are
/// the product's own XLSXWriter's, of the rows the demo imports (`WP_WRITE_EXAMPLES=1 swift test
/// --filter LedgerExampleTests` writes them again), read back equal; the demo brings them in,
/// and a second demo leaves them be.
@Suite("example ledger")
struct LedgerExampleTests {
    static func path(_ name: String) -> String { packageRoot.appendingPathComponent("docs/examples/" + name).path }

    @Test func theExamplesAreTheDemosLedgerAndTheDemoImportsIt() throws {
        if ProcessInfo.processInfo.environment["WP_WRITE_EXAMPLES"] == "1" {
            for (name, rows) in DemoLedger.files {
                let writer = try XLSXWriter()
                try writer.beginSheet("台账")
                for row in rows { try writer.row(row.map { $0.isEmpty ? .empty : .text($0) }) }
                let file = try SafeFile(path: Self.path(name))
                try writer.finish(into: file)
                try file.commit()
            }
        }
        for (name, rows) in DemoLedger.files {
            var read: [[String]] = []
            try CSVFile(path: Self.path(name)).forEachRecord { read.append($0.fields) }
            #expect(read == rows, "\(name) differs from the rows the demo imports")
        }
        let database = try TestDatabase()
        let demo = try welfarePosts(["demo", "--format", "table"], on: database)
        #expect(demo.status == 0, "\(demo.stderr)")
        #expect(demo.stdout.contains("24 posts, 25 placements, 25 contracts"), "\(demo.stdout)")
        let connection = try database.connect()
        #expect(try connection.query("SELECT count(*) AS n FROM post WHERE id BETWEEN '320321-00201' AND '320321-00224'")[0]["n"] == "24")
        #expect(try connection.query("SELECT count(*) AS n FROM placement WHERE post_id BETWEEN '320321-00201' AND '320321-00224'")[0]["n"] == "25")
        let listed = try welfarePosts(["post", "list", "--region", "320321102000", "--on", "2026-08-01", "--format", "csv"], on: database)
        #expect(listed.stdout.contains("320321-00224") && listed.stdout.contains("closed"), "\(listed.stdout)")
        // The workbooks themselves, again: already imported, refused, nothing written.
        let again = try welfarePosts(["post", "import", Self.path("ledger-posts.xlsx")], on: database)
        #expect(again.status == 2 && again.stderr.contains("[ALREADY_IMPORTED]"), "\(again.stderr)")
        let second = try welfarePosts(["demo"], on: database)
        #expect(second.status == 0, "\(second.stderr)")
        #expect(try connection.query("SELECT count(*) AS n FROM placement WHERE post_id BETWEEN '320321-00201' AND '320321-00224'")[0]["n"] == "25")
    }

    /// Months paid before the county adopted the product are not in it: the audit reports the
    /// adopted placements' months as UNPAID_LATE until the county brings its past payments in
    /// with `disbursement import` (README, *Bringing an existing ledger in*).
    @Test func pastMonthsOfAnAdoptedLedgerAreUnpaidUntilTheirPaymentsAreImported() throws {
        let database = try TestDatabase()
        #expect(try welfarePosts(["demo"], on: database).status == 0)
        func unpaid() throws -> [String] {
            let listed = try welfarePosts(["audit", "violations", "--rule", "UNPAID_LATE", "--as-of", "2026-06-30", "--format", "csv"], on: database)
            return listed.stdout.split(separator: "\n").filter { $0.contains(",320321-002") }.map(String.init)
        }
        let before = try unpaid()
        #expect(before.count == 72, "\(before)")  // 24 posts of 顺河镇, January to March
        #expect(before.contains { $0.contains(",320321-00201,2026-01-01") })
        // What was due to the first holder for January, paid by the bank in February.
        let connection = try database.connect()
        let due = try connection.query("""
            SELECT d.id_number, p.bank_account, to_char((d.post_subsidy_fen + d.social_insurance_fen) / 100.0, 'FM999990.00') AS amount
            FROM payroll_due('2026-01-01', '2026-01-01', '320321') d JOIN person p USING (id_number) WHERE d.post_id = '320321-00201'
            """)[0]
        let payments = try temporaryFile("""
            id_number,month,post_id,bank_account,amount,paid_on
            \(due["id_number"]!),2026-01,320321-00201,\(due["bank_account"]!),\(due["amount"]!),2026-02-10

            """)
        let imported = try welfarePosts(["disbursement", "import", payments], on: database)
        #expect(imported.status == 0, "\(imported.stderr)")
        let after = try unpaid()
        #expect(after.count == 71, "\(after)")
        #expect(!after.contains { $0.contains(",320321-00201,2026-01-01") }, "\(after)")
        #expect(after.contains { $0.contains(",320321-00201,2026-02-01") }, "\(after)")
    }
}
