import Foundation
import Postgres
import Testing
import TestSupport
import WelfarePosts

/// Paying through the bank (SPEC §15), through the binary: profiles, export by profile (names,
/// splitting, totals, control sheet, GBK, xlsx), netting and recovery to the fen, the check
/// before paying, failures and their resubmission once, drafts marked.
@Suite("paying through the bank")
struct BankTests {
    static let bankTemplate = "seq:序号,name:姓名,bank_account:帐号,total:金额,id_number:身份证"

    static func folder() throws -> String { try ExcelTests.folder() }

    static func run(_ arguments: [String], _ world: World, expect status: Int32 = 0) throws -> ProcessResult {
        let result = try welfarePosts(arguments, on: world.database)
        #expect(result.status == status, "\(arguments.joined(separator: " ")): \(result.stderr)")
        return result
    }

    static func count(_ world: World, _ table: String) throws -> Int {
        Int(try world.connection.query("SELECT count(*) AS n FROM \(table)")[0]["n"] ?? "") ?? -1
    }

    /// GBK bytes as text, through iconv.
    static func fromGBK(_ path: String) throws -> String {
        let result = try runProcess("/bin/sh", ["-c", "iconv -f GBK -t UTF-8 '\(path)'"])
        guard result.status == 0 else { throw TestSupportError("not GBK: \(result.stderr)") }
        return result.stdout
    }

    @Test func exportByProfileSplitsAtTheCapWithTotalsInNamesAndAControlSheet() throws {
        let world = try OutputFileTests.approvedJanuary(people: 5)
        let folder = try BankTests.folder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let added = try BankTests.run(["bank", "profile", "add", "农商行", "--columns", BankTests.bankTemplate, "--encoding", "gbk",
                                       "--file-format", "txt", "--max-rows", "2", "--region", "320321"], world)
        #expect(added.stdout.contains("seq:序号,name:姓名,bank_account:帐号,total:金额,id_number:身份证"), "\(added.stdout)")
        _ = try BankTests.run(["payroll", "export", "2026-01", "--profile", "农商行", "--output", folder], world)
        let names = try OutputFileTests.listing(folder)
        #expect(names == ["农商行_202601_控制表_5笔_5500.00元.txt", "农商行_320321-202601-001_2笔_2200.00元.txt",
                          "农商行_320321-202601-002_2笔_2200.00元.txt", "农商行_320321-202601-003_1笔_1100.00元.txt"], "\(names)")
        for name in names { #expect(OutputFileTests.mode(folder + "/" + name) == 0o600) }
        // The bank's template, in GBK: every field followed by the separator.
        let first = try BankTests.fromGBK(folder + "/农商行_320321-202601-001_2笔_2200.00元.txt")
        let people = try world.connection.query("SELECT name, bank_account, id_number FROM person ORDER BY id_number")
        let lines = first.components(separatedBy: "\r\n").filter { !$0.isEmpty }
        #expect(lines.first == "序号|姓名|帐号|金额|身份证|")
        #expect(lines.count == 3)
        let third = try BankTests.fromGBK(folder + "/农商行_320321-202601-003_1笔_1100.00元.txt").components(separatedBy: "\r\n")
        #expect(third[1].hasPrefix("1|测试"), "\(third)")
        #expect(people.contains { third[1] == "1|\($0["name"]!)|\($0["bank_account"]!)|1100.00|\($0["id_number"]!)|" }, "\(third)")
        let control = try BankTests.fromGBK(folder + "/农商行_202601_控制表_5笔_5500.00元.txt")
        #expect(control.contains("批次号|文件名|笔数|金额|"))
        #expect(control.contains("320321-202601-002|农商行_320321-202601-002_2笔_2200.00元.txt|2|2200.00|"), "\(control)")
        #expect(control.contains("合计|3 个文件|5|5500.00|"), "\(control)")
        #expect(try BankTests.count(world, "bank_batch") == 3)
        // Exported again: the same batches under the same numbers, nothing new recorded.
        let again = try BankTests.folder()
        defer { try? FileManager.default.removeItem(atPath: again) }
        _ = try BankTests.run(["payroll", "export", "2026-01", "--profile", "农商行", "--output", again], world)
        #expect(try OutputFileTests.listing(again) == names)
        #expect(try BankTests.count(world, "bank_batch") == 3)
        // Another profile: the 一卡通 platform's workbook, IDs and accounts as text.
        _ = try BankTests.run(["bank", "profile", "add", "一卡通", "--columns", "batch:批次号,seq:序号,id_number:身份证号码,name:姓名,bank_account:社保卡号,total:发放金额",
                               "--encoding", "utf-8", "--file-format", "xlsx", "--region", "320321"], world)
        let xlsx = try BankTests.folder()
        defer { try? FileManager.default.removeItem(atPath: xlsx) }
        _ = try BankTests.run(["payroll", "export", "2026-01", "--profile", "一卡通", "--output", xlsx], world)
        #expect(try OutputFileTests.listing(xlsx) == ["一卡通_202601_控制表_5笔_5500.00元.xlsx", "一卡通_320321-202601-004_5笔_5500.00元.xlsx"])
        let cells = try ExcelTests.python("""
            import openpyxl
            ws = openpyxl.load_workbook('\(xlsx)/一卡通_320321-202601-004_5笔_5500.00元.xlsx').worksheets[0]
            for row in ws.iter_rows(min_row=2): print(row[0].value, row[1].value, row[2].data_type, len(row[2].value), row[4].data_type, row[5].value, row[5].number_format)
            """)
        #expect(cells.split(separator: "\n").first == "320321-202601-004 1 s 18 s 1100.0 0.00", "\(cells)")
        let listed = try BankTests.run(["bank", "profile", "list", "--format", "csv"], world)
        #expect(listed.stdout.contains("320321,一卡通,") && listed.stdout.contains("320321,农商行,"), "\(listed.stdout)")
    }

    /// A late exit recorded after January was approved and paid: February nets below zero for
    /// that person (no regular line, January's deduction): left out of the bank's file and on
    /// the recovery list to the fen; the audit shows it as PAID_NOT_DUE until settled. A
    /// person whose month nets to zero is left out too.
    @Test func nettingLeavesOutZeroAndRecoversNegatives() throws {
        let world = try World()
        let db = world.connection
        _ = try Policy.setPay(db, region: Fixtures.county, type: "road-keeper", monthly: Fen(0), socialInsurance: Fen(0), from: Month(year: 2020, month: 1)!)
        let leaver = try world.person(born: "1970-01-01"), stayer = try world.person(born: "1971-01-01"), unpaid = try world.person(born: "1972-01-01")
        try world.hire(try world.post(), leaver, "2026-01-01", "2026-12-31")
        try world.hire(try world.post(), stayer, "2026-01-01", "2026-12-31")
        try world.hire(try world.post(type: "road-keeper"), unpaid, "2026-01-01", "2026-12-31")
        _ = try BankTests.run(["payroll", "run", "2026-01"], world)
        _ = try BankTests.run(["payroll", "approve", "2026-01", "--region", "320321"], world)
        let accounts = try db.query("SELECT id_number, bank_account FROM person ORDER BY id_number")
        let account = { (id: ResidentID) in accounts.first { $0["id_number"] == id.value }!["bank_account"]! }
        let bank = try temporaryFile("id_number,bank_account,amount,paid_on,status,reference\n"
            + "\(leaver.value),\(account(leaver)),1100,2026-02-05,paid,J1\n\(stayer.value),\(account(stayer)),1100,2026-02-05,成功,J2\n")
        _ = try BankTests.run(["payroll", "reconcile", "2026-01", bank], world)
        // Found in February: the leaver left on 15 January.
        _ = try Placements.exit(db, person: leaver, on: Day(iso: "2026-01-15")!, reason: "resigned")
        _ = try BankTests.run(["payroll", "run", "2026-02"], world)
        _ = try BankTests.run(["payroll", "approve", "2026-02", "--region", "320321"], world)
        // January was due 15 of 31 days: 38710 + 14516 = 53226 fen; 110000 paid: 56774 to recover.
        let recoveries = try BankTests.run(["recovery", "list", "--format", "csv", "--reveal"], world)
        #expect(recoveries.stdout.contains("2026-02,\(leaver.value),"), "\(recoveries.stdout)")
        #expect(recoveries.stdout.contains(",567.74,open,"), "\(recoveries.stdout)")
        let folder = try BankTests.folder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        _ = try BankTests.run(["bank", "profile", "add", "农商行", "--columns", BankTests.bankTemplate, "--encoding", "utf-8",
                               "--file-format", "csv", "--region", "320321"], world)
        let export = try BankTests.run(["payroll", "export", "2026-02", "--profile", "农商行", "--output", folder], world)
        #expect(export.stdout.contains("1 person-post(s) netting to zero; 1 netting below zero, owing 567.74"), "\(export.stdout)")
        let names = try OutputFileTests.listing(folder)
        #expect(names.contains("农商行_320321-202602-001_1笔_1100.00元.csv"), "\(names)")
        let text = try String(contentsOfFile: folder + "/农商行_320321-202602-001_1笔_1100.00元.csv", encoding: .utf8)
        #expect(text.contains(stayer.value) && !text.contains(leaver.value) && !text.contains(unpaid.value), "\(text)")
        #expect(!text.contains("-"), "a negative amount went to the bank: \(text)")
        // The audit: January's overpayment is counted once, as the open recovery.
        let audit = { try BankTests.run(["audit", "violations", "--rule", "PAID_NOT_DUE", "--as-of", "2026-03-31", "--from", "2026-01",
                                         "--to", "2026-02", "--format", "csv"], world).stdout }
        let before = try audit().split(separator: "\n").dropFirst()
        #expect(before.count == 1, "\(before)")
        #expect(before.first?.contains("567.74") == true && before.first?.contains("recovery") == true, "\(before)")
        let id = try db.query("SELECT id FROM recovery")[0]["id"]!
        let settled = try BankTests.run(["recovery", "settle", id, "--on", "2026-03-10", "--how", "refund", "--note", "退回凭证 001"], world)
        #expect(settled.stdout.contains("refund"), "\(settled.stdout)")
        #expect(try audit().split(separator: "\n").count == 1, "settled, yet still in the audit")
        let twice = try BankTests.run(["recovery", "settle", id, "--on", "2026-03-11", "--how", "waived", "--note", "x"], world, expect: 1)
        #expect(twice.stderr.contains("[RECOVERY_SETTLED]"))
        #expect(try BankTests.run(["recovery", "list", "--format", "csv"], world).stdout.split(separator: "\n").count == 1)
    }

    @Test func checkListsWhatTheBankWouldRejectAndApproveNeedsAccounts() throws {
        let world = try World()
        let db = world.connection
        let (a, b, c, d) = (try world.person(born: "1970-01-01"), try world.person(born: "1971-01-01"),
                            try world.person(born: "1972-01-01"), try world.person(born: "1973-01-01"))
        for person in [a, b, c, d] { try world.hire(try world.post(), person, "2026-01-01", "2026-12-31") }
        try db.command("UPDATE person SET bank_account = NULL WHERE id_number = $1", [a.value])
        try db.command("UPDATE person SET bank_account = (SELECT bank_account FROM person WHERE id_number = $1) WHERE id_number = $2", [b.value, c.value])
        _ = try Persons.setStatus(db, id: d, status: "deceased", from: Day(iso: "2026-01-20")!, to: nil)
        _ = try BankTests.run(["payroll", "run", "2026-01"], world)
        let check = try BankTests.run(["payroll", "check", "2026-01", "--format", "csv", "--reveal"], world)
        let rows = check.stdout.split(separator: "\n").dropFirst().map { $0.split(separator: ",", omittingEmptySubsequences: false) }
        #expect(rows.map { "\($0[0]) \($0[3])" }.sorted() == ["DECEASED \(d.value)", "NO_ACCOUNT \(a.value)", "SHARED_ACCOUNT \(b.value)",
                                                              "SHARED_ACCOUNT \(c.value)"].sorted(), "\(check.stdout)")
        let refused = try BankTests.run(["payroll", "approve", "2026-01", "--region", "320321"], world, expect: 1)
        #expect(refused.stderr.hasPrefix("error: [ACCOUNT_MISSING]"), "\(refused.stderr)")
        #expect(refused.stderr.contains("basis:"), "\(refused.stderr)")
        let zh = try BankTests.run(["payroll", "approve", "2026-01", "--region", "320321", "--lang", "zh"], world, expect: 1)
        #expect(zh.stderr.contains("没有银行账号"), "\(zh.stderr)")
        #expect(try db.query("SELECT state FROM payroll_run")[0]["state"] == "draft")
        try db.command("UPDATE person SET bank_account = '6228480399990123' WHERE id_number = $1", [a.value])
        _ = try BankTests.run(["payroll", "approve", "2026-01", "--region", "320321"], world)
    }

    /// Bank results: a failure is recorded as a failure, reconcile counts paid, failed and
    /// missing; bad results are refused whole; the failure is sent again once, to the
    /// corrected account.
    @Test func failuresAreRecordedAndResubmittedOnceToTheAccountInForce() throws {
        let world = try OutputFileTests.approvedJanuary(people: 3)
        let db = world.connection
        let people = try db.query("SELECT id_number, bank_account FROM person ORDER BY id_number")
        let (a, b) = (people[0], people[1])
        let header = "身份证号,银行账号,金额,发放日期,状态,失败原因,交易流水号\n"
        let good = header + "\(a["id_number"]!),\(a["bank_account"]!),1100.00,2026-02-05,成功,,R1\n"
            + "\(b["id_number"]!),\(b["bank_account"]!),1100.00,2026-02-05,失败,账户已销户,R2\n"
        // Bad results first: each refused with its line, nothing written.
        let bad: [(String, String)] = [
            (header + "\(a["id_number"]!),\(a["bank_account"]!),1100.00,2026-02-05,退回,,R9\n", "line 2, column 5 (状态)"),
            (header + "\(a["id_number"]!),\(a["bank_account"]!),1000.00,2026-02-05,成功,,R9\n", "line 2, column 3 (金额)"),
        ]
        for (text, place) in bad {
            let result = try BankTests.run(["payroll", "reconcile", "2026-01", try temporaryFile(text)], world, expect: 2)
            #expect(result.stderr.contains(place), "\(result.stderr)")
        }
        let reconciled = try BankTests.run(["payroll", "reconcile", "2026-01", try temporaryFile(good), "--format", "json"], world)
        #expect(reconciled.stdout.contains("\"rows\":\"1\",\"paid\":\"1100.00\""), "\(reconciled.stdout)")
        #expect(reconciled.stdout.contains("\"failed\":\"1\",\"failed_amount\":\"1100.00\",\"missing\":\"1\",\"missing_amount\":\"1100.00\""), "\(reconciled.stdout)")
        #expect(try BankTests.count(world, "disbursement") == 1)
        #expect(try BankTests.count(world, "bank_failure") == 1)
        // References seen before, as a payment or as a failure: refused.
        for reference in ["R1", "R2"] {
            let again = try BankTests.run(["payroll", "reconcile", "2026-01", try temporaryFile(
                header + "\(a["id_number"]!),\(a["bank_account"]!),1100.00,2026-02-07,成功,,\(reference)\n")], world, expect: 2)
            #expect(again.stderr.contains("[ALREADY_IMPORTED]") && again.stderr.contains("line 2"), "\(again.stderr)")
        }
        #expect(try BankTests.count(world, "disbursement") == 1)
        // The account is corrected; the failure goes again, to it, once.
        try db.command("UPDATE person SET bank_account = '6217000011112222333' WHERE id_number = $1", [b["id_number"]!])
        let folder = try BankTests.folder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let output = folder + "/resubmit.csv"
        _ = try BankTests.run(["payroll", "resubmit", "2026-01", "--region", "320321", "--output", output], world)
        let text = try String(contentsOfFile: output, encoding: .utf8)
        let lines = text.components(separatedBy: "\r\n").filter { !$0.isEmpty }
        #expect(lines.count == 2, "\(text)")
        #expect(lines[1].hasPrefix("320321-202601-001,1,2026-01,320321,"), "\(text)")
        #expect(lines[1].contains(",\(b["id_number"]!),6217000011112222333,") && lines[1].hasSuffix(",1100.00"), "\(text)")
        let second = try BankTests.run(["payroll", "resubmit", "2026-01", "--region", "320321", "--output", folder + "/again.csv"], world, expect: 2)
        #expect(second.stderr.contains("[NOT_FOUND]") && second.stderr.contains("once"), "\(second.stderr)")
        #expect(try BankTests.count(world, "bank_resubmission") == 1)
        // The resubmitted transfer paid: recorded as the payment, nothing missing but the third.
        let paid = try BankTests.run(["payroll", "reconcile", "2026-01", try temporaryFile(
            header + "\(b["id_number"]!),6217000011112222333,1100.00,2026-02-15,成功,,R3\n"), "--format", "json"], world)
        #expect(paid.stdout.contains("\"failed\":\"0\",\"failed_amount\":\"0.00\",\"missing\":\"1\""), "\(paid.stdout)")
    }

    @Test func draftsSayDraftInTheirNamesAndEveryRow() throws {
        let world = try OutputFileTests.approvedJanuary(people: 2)
        let folder = try BankTests.folder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        _ = try BankTests.run(["bank", "profile", "add", "农商行", "--columns", BankTests.bankTemplate, "--encoding", "utf-8",
                               "--file-format", "csv", "--region", "320321"], world)
        // February is a draft: refused without --draft, marked with it.
        _ = try BankTests.run(["payroll", "export", "2026-02", "--profile", "农商行", "--output", folder], world, expect: 1)
        let draft = try BankTests.run(["payroll", "export", "2026-02", "--profile", "农商行", "--output", folder, "--draft"], world)
        #expect(draft.stdout.contains("草稿 DRAFT"))
        let names = try OutputFileTests.listing(folder)
        #expect(names.count == 2 && names.allSatisfy { $0.contains("草稿DRAFT") }, "\(names)")
        for name in names {
            let rows = try String(contentsOfFile: folder + "/" + name, encoding: .utf8).components(separatedBy: "\r\n").filter { !$0.isEmpty }
            #expect(rows.allSatisfy { $0.contains("草稿DRAFT") }, "\(rows)")
        }
        #expect(try BankTests.count(world, "bank_batch") == 0, "a draft's batches were recorded")
        // The plain export too.
        _ = try BankTests.run(["payroll", "export", "2026-02", "--draft", "--output", folder + "/plain.csv"], world)
        let plain = try String(contentsOfFile: folder + "/plain_草稿DRAFT.csv", encoding: .utf8)
        let rows = plain.split(separator: "\n")
        #expect(rows.count == 3 && rows.allSatisfy { $0.hasSuffix(",草稿DRAFT") }, "\(plain)")
        #expect(!FileManager.default.fileExists(atPath: folder + "/plain.csv"))
    }
}

extension BankTests {
    /// A region of two counties: each county's files apart, by its own profile, in one pass.
    @Test func twoCountiesInOneExport() throws {
        let scene = try AccessTests.Scene()
        _ = try BankTests.run(["payroll", "run", "2026-01"], scene.world)
        _ = try BankTests.run(["payroll", "approve", "2026-01", "--region", "3203"], scene.world)
        for county in ["320321", "320322"] {
            _ = try BankTests.run(["bank", "profile", "add", "农商行", "--columns", BankTests.bankTemplate, "--encoding", "utf-8",
                                   "--file-format", "csv", "--region", county], scene.world)
        }
        let folder = try BankTests.folder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        _ = try BankTests.run(["payroll", "export", "2026-01", "--region", "3203", "--profile", "农商行", "--output", folder], scene.world)
        let names = try OutputFileTests.listing(folder)
        #expect(names == ["农商行_202601_控制表_3笔_2900.00元.csv", "农商行_320321-202601-001_2笔_2200.00元.csv",
                          "农商行_320322-202601-001_1笔_700.00元.csv"], "\(names)")
        #expect(try BankTests.count(scene.world, "bank_batch") == 2)
    }
}

extension BankTests {
    /// A bank that takes a few rows a file makes an export of many files: they are written one
    /// after another, each closed when full, so the export needs few descriptors however many.
    @Test func manyFilesWithFewDescriptors() throws {
        let world = try World()
        for number in 0..<60 {
            let born = String(format: "19%02d-03-%02d", 70 + number / 28, 1 + number % 28)
            try world.hire(try world.post(), try world.person(born: born), "2026-01-01", "2026-12-31")
        }
        _ = try Payroll.run(world.connection, month: Month(iso: "2026-01")!, region: nil)
        _ = try Payroll.approve(world.connection, month: Month(iso: "2026-01")!, region: Fixtures.county)
        _ = try BankTests.run(["bank", "profile", "add", "小行", "--columns", BankTests.bankTemplate, "--encoding", "gbk",
                               "--file-format", "txt", "--max-rows", "1", "--region", "320321"], world)
        let folder = try BankTests.folder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        var environment = ProcessInfo.processInfo.environment
        environment["DATABASE_URL"] = world.database.conninfo
        let result = try runProcess("/bin/bash", ["-c", "ulimit -n 40 && exec '\(welfarePostsBinary)' payroll export 2026-01 --profile 小行 --output '\(folder)'"],
                                    environment: environment)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(try OutputFileTests.listing(folder).count == 61)
    }
}

@Suite("payment notice and timeliness")
struct PaymentReportTests {
    /// The village's notice: names, masked IDs (never in full), days and amounts, printable on
    /// A4 with inline CSS and nothing fetched from a network.
    @Test func noticeOfAVillage() throws {
        let world = try OutputFileTests.approvedJanuary(people: 2)
        let other = try world.person(born: "1980-02-02", village: Fixtures.villageA2)
        try world.hire(try world.post(region: Fixtures.villageA2), other, "2026-01-01", "2026-12-31")
        let folder = try BankTests.folder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let output = folder + "/notice.html"
        _ = try BankTests.run(["payroll", "notice", "2026-01", "--region", Fixtures.villageA1, "--output", output], world)
        #expect(OutputFileTests.mode(output) == 0o600)
        let page = try String(contentsOfFile: output, encoding: .utf8)
        let people = try world.connection.query("SELECT id_number, name FROM person WHERE village_code = $1 ORDER BY id_number", [Fixtures.villageA1])
        #expect(people.count == 2)
        for person in people {
            let id = person["id_number"]!
            #expect(page.contains(person["name"]!) && page.contains(String(id.prefix(6)) + "********" + String(id.suffix(4))))
            #expect(!page.contains(id), "a full resident ID on a public notice")
        }
        #expect(!page.contains(other.value.suffix(8)), "another village's person is on the notice")
        #expect(page.contains("首羡村 2026年1月乡村公益性岗位补贴发放公示"))
        #expect(page.contains("<td class=\"n\">31</td>") && page.contains("<b>2200.00</b>"), "\(page)")
        #expect(page.contains("@page { size: A4"))
        #expect(!page.contains("http://") && !page.contains("https://") && !page.contains("<script"))
        // February is a draft: the notice says so.
        _ = try BankTests.run(["payroll", "notice", "2026-02", "--region", Fixtures.villageA1, "--output", folder + "/draft.html"], world)
        #expect(try String(contentsOfFile: folder + "/draft.html", encoding: .utf8).contains("草稿 DRAFT"))
        // A village, not a township.
        _ = try BankTests.run(["payroll", "notice", "2026-01", "--region", Fixtures.townshipA, "--output", folder + "/t.html"], world, expect: 2)
        // Printable: headless Chromium prints it to a PDF, where one is installed.
        if let chromium = ["/usr/bin/chromium", "/usr/bin/chromium-browser"].first(where: { FileManager.default.isExecutableFile(atPath: $0) }) {
            let pdf = folder + "/notice.pdf"
            _ = try runProcess(chromium, ["--headless", "--no-sandbox", "--disable-gpu", "--print-to-pdf=\(pdf)", "file://\(output)"], timeout: 60)
            #expect(FileManager.default.fileExists(atPath: pdf))
        }
    }

    /// 按时足额: days from the month's end to the payment that completed it, the share within 30.
    @Test func timelinessPerCountyAndMonth() throws {
        let world = try OutputFileTests.approvedJanuary(people: 3)
        let people = try world.connection.query("SELECT id_number, bank_account FROM person ORDER BY id_number")
        let header = "身份证号,银行账号,金额,发放日期\n"
        // One paid on 10 February (10 days), one on 5 March (33 days), one not at all.
        let rows = header + "\(people[0]["id_number"]!),\(people[0]["bank_account"]!),1100.00,2026-02-10\n"
            + "\(people[1]["id_number"]!),\(people[1]["bank_account"]!),1100.00,2026-03-05\n"
        _ = try BankTests.run(["payroll", "reconcile", "2026-01", try temporaryFile(rows)], world)
        let report = try BankTests.run(["payroll", "timeliness", "--region", "320321", "--format", "csv"], world)
        let lines = report.stdout.split(separator: "\n")
        #expect(lines.first == "county_code,month,lines,booked,paid_lines,paid,paid_in_full,on_time,on_time_share,median_days,max_days,unpaid")
        #expect(lines.dropFirst().first == "320321,2026-01,3,3300.00,2,2200.00,2,1,33.3,10,33,1", "\(report.stdout)")
    }

    /// The demo pays through two profiles: the 一卡通 workbook and the bank's GBK template.
    @Test func theDemoHasTwoBankProfiles() throws {
        let database = try TestDatabase()
        let demo = try welfarePosts(["demo"], on: database)
        #expect(demo.status == 0, "\(demo.stderr)")
        let profiles = try welfarePosts(["bank", "profile", "list", "--format", "csv"], on: database)
        #expect(profiles.stdout.contains("320321,一卡通,\"batch:批次号,seq:序号,id_number:身份证号码,name:姓名,bank_account:社保卡号,total:发放金额,post_type:项目名称\",utf-8,xlsx"), "\(profiles.stdout)")
        #expect(profiles.stdout.contains("320321,农商行,\"seq:序号,name:姓名,bank_account:帐号,total:金额,id_number:身份证\",gbk,txt,|,1000"), "\(profiles.stdout)")
        let folder = try BankTests.folder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let export = try welfarePosts(["payroll", "export", "2026-03", "--profile", "农商行", "--output", folder], on: database)
        #expect(export.status == 0, "\(export.stderr)")
        // March nets one person below zero (February's late exit): on the recovery list.
        #expect(export.stdout.contains("1 netting below zero"), "\(export.stdout)")
        let recoveries = try welfarePosts(["recovery", "list", "--format", "csv"], on: database)
        #expect(recoveries.stdout.split(separator: "\n").count == 2, "\(recoveries.stdout)")
    }
}

/// The bank's work as the roles do it (SPEC §11), each a real login through row-level security:
/// finance keeps the profiles, exports, records results and resubmits; the county admin
/// approves (which writes the recoveries); a township admin does none of it; nobody sees
/// another county's profiles, batches or failures.
@Suite("paying through the bank, by role")
struct BankAccessTests {
    @Test func eachRoleDoesItsOwnPart() throws {
        let scene = try AccessTests.Scene()
        let finance = try scene.login("finance", Fixtures.county)
        let county = try scene.login("county-admin", Fixtures.county)
        let township = try scene.login("township-admin", Fixtures.townshipA)
        let otherFinance = try scene.login("finance", AccessTests.Scene.countyY)
        let columns = ["--columns", BankTests.bankTemplate, "--encoding", "gbk", "--file-format", "txt"]
        // Finance's own county by default; a township admin may not keep profiles.
        _ = try scene.expectOK(finance, ["bank", "profile", "add", "农商行"] + columns)
        try scene.expectRefused(township, ["bank", "profile", "add", "农商行", "--region", "320321"] + columns, ["PERMISSION_DENIED"])
        try scene.expectRefused(otherFinance, ["bank", "profile", "add", "农商行", "--region", "320321"] + columns, ["OUTSIDE_REGION"])
        #expect(try scene.expectOK(otherFinance, ["bank", "profile", "list"]) == "[]\n")
        // The county approves; finance exports by profile.
        _ = try scene.expectOK(county, ["payroll", "run", "2026-01", "--region", "320321"])
        _ = try scene.expectOK(county, ["payroll", "approve", "2026-01", "--region", "320321"])
        let folder = try BankTests.folder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let export = try scene.cli(finance, ["payroll", "export", "2026-01", "--profile", "农商行", "--output", folder])
        #expect(export.status == 0, "\(export.stderr)")
        let listed = try OutputFileTests.listing(folder)
        #expect(listed.count == 2, "\(listed)")
        let refused = try scene.cli(county, ["payroll", "export", "2026-01", "--profile", "农商行", "--output", folder])
        #expect(refused.status == 1 && refused.stderr.contains("[PERMISSION_DENIED]"), "\(refused.stderr)")
        // A failure recorded by finance, resubmitted by finance; the other county's finance sees none of it.
        let people = try scene.connection.query("SELECT id_number, bank_account FROM person WHERE county_code = '320321' ORDER BY id_number")
        let paidLine = try scene.connection.query("""
            SELECT l.id_number, p.bank_account, l.total_fen FROM payroll_line l JOIN person p ON p.id_number = l.id_number
            WHERE l.county_code = '320321' ORDER BY l.id_number LIMIT 1
            """)[0]
        _ = people
        let results = "身份证号,银行账号,金额,发放日期,状态,失败原因\n\(paidLine["id_number"]!),\(paidLine["bank_account"]!),\(Fen(Int64(paidLine["total_fen"]!)!).yuanText),2026-02-05,失败,户名不符\n"
        _ = try scene.expectOK(finance, ["payroll", "reconcile", "2026-01", try temporaryFile(results)])
        #expect(try scene.psql(otherFinance, "SELECT count(*) FROM bank_failure").stdout == "0\n")
        #expect(try scene.psql(finance, "SELECT count(*) FROM bank_failure").stdout == "1\n")
        _ = try scene.expectOK(finance, ["payroll", "resubmit", "2026-01", "--output", folder + "/resubmit.csv"])
        #expect(try scene.psql(otherFinance, "SELECT count(*) FROM bank_batch").stdout == "0\n")
        try scene.expectRefused(township, ["payroll", "resubmit", "2026-01", "--region", "320321", "--output", folder + "/r2.csv"],
                                ["PERMISSION_DENIED", "NOT_FOUND"])
    }
}

extension BankTests {
    /// The export's query sends NULL for a column no profile writes (issue 17); a profile that
    /// names every column gets each as the plain finance export has it — month, township,
    /// village, labels, name — none left empty.
    @Test func aProfileOfEveryColumnWritesWhatThePlainExportHas() throws {
        let world = try OutputFileTests.approvedJanuary(people: 3)
        let columns = Payroll.exportColumns.map { "\($0.key):\($0.zh)" }.joined(separator: ",")
        _ = try BankTests.run(["bank", "profile", "add", "全列", "--columns", columns, "--encoding", "utf-8", "--file-format", "csv",
                               "--region", "320321"], world)
        let folder = try BankTests.folder(), plain = try BankTests.folder()
        defer { try? FileManager.default.removeItem(atPath: folder); try? FileManager.default.removeItem(atPath: plain) }
        _ = try BankTests.run(["payroll", "export", "2026-01", "--profile", "全列", "--output", folder], world)
        _ = try BankTests.run(["payroll", "export", "2026-01", "--output", plain + "/plain.csv"], world)
        let name = try #require(try OutputFileTests.listing(folder).first { !$0.contains("控制表") })
        let lines = { (path: String) throws -> [String] in
            try String(contentsOfFile: path, encoding: .utf8).components(separatedBy: CharacterSet.newlines).filter { !$0.isEmpty }.dropFirst().map { $0 }
        }
        let byProfile = try lines(folder + "/" + name), finance = try lines(plain + "/plain.csv")
        #expect(byProfile.count == 3 && byProfile == finance, "\(byProfile)\n\(finance)")
        #expect(byProfile.allSatisfy { !$0.contains(",,") }, "\(byProfile)")
    }
}

extension BankTests {
    /// A profile's account prefixes: only the rows of accounts with one of them are its files'
    /// (looked up per row only when some profile has prefixes, issue 17).
    @Test func aProfilesAccountPrefixesChooseItsRows() throws {
        let world = try World()
        var people: [ResidentID] = []
        for number in 0..<3 {
            let person = try world.person(born: "1970-02-0\(number + 1)")
            try world.hire(try world.post(), person, "2026-01-01", "2026-12-31")
            people.append(person)
        }
        try world.connection.command("UPDATE person SET bank_account = '6217000000000001' WHERE id_number = $1", [people[1].value])
        _ = try Payroll.run(world.connection, month: Month(iso: "2026-01")!, region: nil)
        _ = try Payroll.approve(world.connection, month: Month(iso: "2026-01")!, region: Fixtures.county)
        _ = try BankTests.run(["bank", "profile", "add", "农行", "--columns", BankTests.bankTemplate, "--encoding", "utf-8",
                               "--file-format", "csv", "--account-prefix", "6228", "--region", "320321"], world)
        _ = try BankTests.run(["bank", "profile", "add", "建行", "--columns", BankTests.bankTemplate, "--encoding", "utf-8",
                               "--file-format", "csv", "--account-prefix", "6217,6666", "--region", "320321"], world)
        for (profile, rows) in [("农行", [people[0], people[2]]), ("建行", [people[1]])] {
            let folder = try BankTests.folder()
            defer { try? FileManager.default.removeItem(atPath: folder) }
            _ = try BankTests.run(["payroll", "export", "2026-01", "--profile", profile, "--output", folder], world)
            let name = try #require(try OutputFileTests.listing(folder).first { !$0.contains("控制表") })
            #expect(name.contains("_\(rows.count)笔_"), "\(name)")
            let text = try String(contentsOfFile: folder + "/" + name, encoding: .utf8)
            for person in people { #expect(text.contains(person.value) == rows.contains(person), "\(profile): \(text)") }
        }
    }
}
