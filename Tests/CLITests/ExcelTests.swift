import Foundation
import Postgres
import Testing
import TestSupport
import WelfarePosts

/// Excel files (SPEC §10, §15): what the tool writes opens in openpyxl with IDs and accounts as
/// text and amounts as numbers; what Excel (here: openpyxl) saves imports like CSV, and an ID
/// that Excel has turned into a number is refused with the cell and what to do.
@Suite("Excel workbooks")
struct ExcelTests {
    /// Runs a Python script with openpyxl (deploy/install.sh installs it) and returns its stdout.
    static func python(_ script: String) throws -> String {
        let path = try temporaryFile(Array(script.utf8), suffix: ".py")
        let result = try runProcess("/usr/bin/env", ["python3", path])
        guard result.status == 0 else { throw TestSupportError("python failed: \(result.stderr)") }
        return result.stdout
    }

    static func folder() throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("wp-xlsx-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: false)
        return path
    }

    @Test func exportOpensInOpenpyxlWithIDsAsTextAndAmountsAsNumbers() throws {
        let world = try OutputFileTests.approvedJanuary(people: 2)
        let folder = try ExcelTests.folder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let output = folder + "/payroll.xlsx"
        let result = try welfarePosts(["payroll", "export", "2026-01", "--format", "xlsx", "--output", output, "--lang", "zh"], on: world.database)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(OutputFileTests.mode(output) == 0o600)
        #expect(try OutputFileTests.listing(folder) == ["payroll.xlsx"])
        let cells = try ExcelTests.python("""
            import openpyxl
            ws = openpyxl.load_workbook('\(output)').worksheets[0]
            rows = list(ws.iter_rows())
            print('|'.join(str(c.value) for c in rows[0]))
            for row in rows[1:]:
                idc, acc, total = row[8], row[9], row[14]
                print(idc.data_type, idc.value, acc.data_type, acc.value, type(total.value).__name__, total.value, total.number_format, row[10].value)
            """)
        let lines = cells.split(separator: "\n").map(String.init)
        #expect(lines.first == Payroll.exportColumns.map(\.zh).joined(separator: "|"))
        let ids = try world.connection.query("SELECT id_number, bank_account FROM person ORDER BY id_number")
        #expect(lines.count == 3, "\(cells)")
        for (line, person) in zip(lines.dropFirst(), ids) {
            // 800 + 300 a month, 31 days in post.
            #expect(line == "s \(person["id_number"]!) s \(person["bank_account"]!) float 1100.0 0.00 31", "\(line)")
        }
    }

    @Test func listingsTakeFormatXlsx() throws {
        let world = try World()
        try world.person(born: "1970-05-06")
        let folder = try ExcelTests.folder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let output = folder + "/regions.xlsx"
        let result = try welfarePosts(["region", "list", "--format", "xlsx", "--output", output], on: world.database)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.isEmpty)
        let text = try ExcelTests.python("""
            import openpyxl
            ws = openpyxl.load_workbook('\(output)').worksheets[0]
            for row in ws.iter_rows(values_only=True): print(row[0], type(row[0]).__name__, row[1])
            """)
        #expect(text.contains("code str name"), "\(text)")
        #expect(text.contains("320321000000 str 丰县"), "the 12-digit code is text: \(text)")
        // Without --output there is nowhere to put a workbook: refused before anything is done.
        let refused = try welfarePosts(["region", "list", "--format", "xlsx"], on: world.database)
        #expect(refused.status == 2)
        #expect(refused.stderr.contains("[BAD_OUTPUT]") && refused.stderr.contains("--output"), "\(refused.stderr)")
        // And the file is not written when the command fails.
        let failed = try welfarePosts(["post", "list", "--region", "999999", "--format", "xlsx", "--output", folder + "/posts.xlsx"], on: world.database)
        #expect(failed.status != 0)
        #expect(try OutputFileTests.listing(folder) == ["regions.xlsx"])
    }

    /// A persons file saved from Excel: text, numbers in several formats, an account typed as a
    /// number of 15 digits, an empty optional cell, cells skipped at the end of a row.
    @Test func importReadsAWorkbookAsTheCellsShow() throws {
        let world = try World()
        let folder = try ExcelTests.folder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let id1 = residentID(born: "1970-03-15", sequence: 12), id2 = residentID(born: "1985-11-02", sequence: 31)
        let path = folder + "/persons.xlsx"
        _ = try ExcelTests.python("""
            import openpyxl
            wb = openpyxl.Workbook(); ws = wb.active
            ws.append(['身份证号', '姓名', '户编号', '村代码', '人员类别', '劳动能力', '银行账号', '联系电话'])
            ws.append(['\(id1)', '王秀英', 'H001', '\(Fixtures.villageA1)', '脱贫人口', 'weak', 622848031234567, 13852160001])
            ws.append(['\(id2)', '李建国', 'H002', \(Fixtures.villageA2), 'monitored', 'half'])
            ws['G2'].number_format = '0'
            wb.save('\(path)')
            """)
        let result = try welfarePosts(["person", "import", path], on: world.database)
        #expect(result.status == 0, "\(result.stderr)")
        let rows = try world.connection.query("SELECT id_number, village_code, bank_account, phone FROM person ORDER BY id_number")
        #expect(rows.map { "\($0["id_number"]!) \($0["village_code"]!) \($0["bank_account"] ?? "-") \($0["phone"] ?? "-")" }.sorted() == [
            "\(id1) \(Fixtures.villageA1) 622848031234567 13852160001", "\(id2) \(Fixtures.villageA2) - -",
        ].sorted())
    }

    /// Excel keeps 15 digits of a number: an 18-digit ID typed into a General cell is already
    /// wrong (3.20321197003151E+17). Refused, naming the cell, with what to do.
    @Test func anIDTypedAsANumberIsRefusedWithTheCell() throws {
        let world = try World()
        let folder = try ExcelTests.folder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let path = folder + "/persons.xlsx"
        _ = try ExcelTests.python("""
            import openpyxl
            wb = openpyxl.Workbook(); ws = wb.active
            ws.append(['id_number', 'name', 'household_id', 'village_code', 'category', 'labour_capacity'])
            ws.append(['\(residentID(born: "1970-03-15", sequence: 12))', '王秀英', 'H001', '\(Fixtures.villageA1)', 'low-income', 'weak'])
            ws.append([3.20321197003151E+17, '李建国', 'H002', '\(Fixtures.villageA1)', 'low-income', 'half'])
            wb.save('\(path)')
            """)
        let before = try Fixtures.fingerprint(world.connection)
        let result = try welfarePosts(["person", "import", path], on: world.database)
        #expect(result.status == 2)
        #expect(result.stderr.contains("line 3, column 1"), "\(result.stderr)")
        #expect(result.stderr.contains("Format the column as text"), "\(result.stderr)")
        #expect(try Fixtures.fingerprint(world.connection) == before)
        let zh = try welfarePosts(["person", "import", path, "--lang", "zh"], on: world.database)
        #expect(zh.stderr.contains("设置为文本格式"), "\(zh.stderr)")
    }

    /// The same cell checks as CSV: a formula's text, a line break inside a name.
    @Test func cellsAreHeldToTheirKindAsInCSV() throws {
        let world = try World()
        let folder = try ExcelTests.folder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let path = folder + "/persons.xlsx"
        _ = try ExcelTests.python("""
            import openpyxl
            wb = openpyxl.Workbook(); ws = wb.active
            ws.append(['id_number', 'name', 'household_id', 'village_code', 'category', 'labour_capacity'])
            ws.append(['\(residentID(born: "1970-03-15", sequence: 12))', '王\\n秀英', 'H001', '\(Fixtures.villageA1)', 'low-income', 'weak'])
            ws.append(['\(residentID(born: "1971-03-15", sequence: 13))', '@SUM(A1)', 'H002', '\(Fixtures.villageA1)', 'low-income', 'weak', 'extra'])
            wb.save('\(path)')
            """)
        let result = try welfarePosts(["person", "import", path], on: world.database)
        #expect(result.status == 2)
        #expect(result.stderr.contains("line 2, column 2"), "\(result.stderr)")
        #expect(result.stderr.contains("line 3, column 7"), "\(result.stderr)")
    }

    /// Dates and months typed as Excel dates read as they show; amounts in a 0.00 cell too.
    @Test func datesAndAmountsReadAsShown() throws {
        let folder = try ExcelTests.folder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let path = folder + "/dates.xlsx"
        _ = try ExcelTests.python("""
            import openpyxl, datetime
            wb = openpyxl.Workbook(); ws = wb.active
            ws.append(['paid_on', 'month', 'amount', 'plain'])
            ws.append([datetime.date(2026, 2, 10), datetime.date(2026, 1, 1), 800.5, 0.1])
            ws['B2'].number_format = 'yyyy-mm'
            ws['C2'].number_format = '0.00'
            wb.save('\(path)')
            """)
        var rows: [[String]] = []
        try CSVFile(path: path).forEachRecord { rows.append($0.fields) }
        #expect(rows == [["paid_on", "month", "amount", "plain"], ["2026-02-10", "2026-01", "800.50", "0.1"]])
    }

    /// What the writer writes, the reader reads back the same (a million rows are not kept in
    /// memory: each row is written out as it comes).
    @Test func writerAndReaderAgree() throws {
        let folder = try ExcelTests.folder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let path = folder + "/round.xlsx"
        let writer = try XLSXWriter()
        try writer.beginSheet("名单")
        try writer.row([.text("id_number"), .text("name"), .text("amount"), .text("days")])
        try writer.row([.text("320321197003150128"), .text("A & <B>"), .amount(Fen(80_050)), .integer(31)])
        try writer.row([.text("0012"), .empty, .amount(Fen(-40_000)), .integer(0)])
        let file = try SafeFile(path: path)
        try writer.finish(into: file)
        try file.commit()
        var rows: [[String]] = []
        try CSVFile(path: path).forEachRecord { rows.append($0.fields) }
        #expect(rows == [["id_number", "name", "amount", "days"], ["320321197003150128", "A & <B>", "800.50", "31"],
                         ["0012", "", "-400.00", "0"]])
    }
}
