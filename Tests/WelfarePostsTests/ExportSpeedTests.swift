import Foundation
import Testing
@testable import WelfarePosts

/// The faster paths of the export by bank profile (issue 17) held to what they replace: the
/// fields written as bytes (`Fen.yuanText`, `String(n)`, `TextValue.spreadsheetSafe`), GBK into
/// a kept buffer, the workbook's own zip, and many files made durable at once.
@Suite("export by profile, fast paths")
struct ExportSpeedTests {
    static func folder() throws -> String {
        let path = NSTemporaryDirectory() + "/wp-export-speed-" + String(UInt64.random(in: 0 ... .max), radix: 16)
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: false)
        return path
    }

    /// Runs a Python script (openpyxl: deploy/install.sh installs it) and returns its stdout.
    static func python(_ script: String) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c", script]
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        return output
    }

    @Test func amountsAndNumbersAsBytesAreTheirText() {
        let values: [Int64] = [0, 1, 9, 10, 99, 100, 101, 110_000, -1, -9, -10, -99, -100, -150, -110_000, 123_456_789,
                               Int64.max, Int64.min + 1, Int64.min]
        for value in values {
            var yuan: [UInt8] = []
            BankFileWriter.appendYuan(value, into: &yuan)
            #expect(String(decoding: yuan, as: UTF8.self) == Fen(value).yuanText, "\(value)")
            var number: [UInt8] = []
            BankFileWriter.appendDecimal(value, into: &number)
            #expect(String(decoding: number, as: UTF8.self) == String(value), "\(value)")
        }
    }

    /// The one test made of every field must catch whatever `spreadsheetSafe` would change.
    @Test func theFormulaTestMissesNothingSpreadsheetSafeChanges() {
        let samples = ["", "a", "=1+1", "+86", "-5", "-5.50", "@x", "\tx", "\rx", "测试", "'=x", " =x", "1", "=", "+", "-", "@", "\u{FF1D}x"]
        for text in samples where TextValue.spreadsheetSafe(text) != text {
            #expect(BankFileWriter.mayBeFormula(text), "\(text.debugDescription)")
        }
        for scalar in (0...0x7F).compactMap(Unicode.Scalar.init) {
            let text = String(scalar) + "x"
            if TextValue.spreadsheetSafe(text) != text { #expect(BankFileWriter.mayBeFormula(text), "\(text.debugDescription)") }
        }
    }

    @Test func gbkIntoAKeptBufferIsTheSame() throws {
        let encoder = try GBKEncoder()
        var kept: [UInt8] = []
        for text in ["序号|姓名|帐号|金额|身份证|\r\n", "1|某某|6228000000000001|1150.00|320301196001010010|\r\n", "", "abc",
                     String(repeating: "测", count: 5000)] {
            #expect(encoder.encode(Array(text.utf8), into: &kept))
            #expect(kept == encoder.encode(Array(text.utf8)))
        }
        // No GBK form: refused, and the next line is unharmed.
        #expect(!encoder.encode(Array("😀".utf8), into: &kept))
        #expect(encoder.encode(Array("某某".utf8), into: &kept) && kept == [0xC4, 0xB3, 0xC4, 0xB3])
    }

    /// Two sheets, each past several of the writer's 64 KiB flushes, with text that must be
    /// escaped: read back whole by the tool's reader and by Python's zipfile (every CRC checked)
    /// and openpyxl.
    @Test func theWorkbooksZipReadsBack() throws {
        let folder = try ExportSpeedTests.folder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let path = folder + "/big.xlsx"
        let writer = try XLSXWriter()
        try writer.beginSheet("第一")
        var expected: [[String]] = [["seq", "name", "amount"]]
        try writer.row([.text("seq"), .text("name"), .text("amount")])
        for index in 1...3000 {
            let name = index % 7 == 0 ? "A & <B> \(index)" : "某某\(index)"
            try writer.row([.integer(Int64(index)), .text(name), .amount(Fen(Int64(index) * 101 - 5000))])
            expected.append([String(index), name, Fen(Int64(index) * 101 - 5000).yuanText])
        }
        // Whitespace kept (`xml:space`), plain text written without it: both read back as typed.
        try writer.row([.text("  lead and trail  "), .text("tab\there"), .text("某某")])
        expected.append(["  lead and trail  ", "tab\there", "某某"])
        try writer.beginSheet("第二")
        for index in 1...3000 { try writer.row([.text("x\(index)")]) }
        let file = try SafeFile(path: path)
        try writer.finish(into: file)
        try file.commit()
        var rows: [[String]] = []
        try CSVFile(path: path).forEachRecord { rows.append($0.fields) }
        #expect(rows == expected)
        let script = """
            import zipfile, openpyxl
            z = zipfile.ZipFile('\(path)')
            print(z.testzip(), len(z.namelist()))
            wb = openpyxl.load_workbook('\(path)')
            print(wb.sheetnames, wb.worksheets[0].max_row, wb.worksheets[1].max_row, wb.worksheets[0]['B8'].value, wb.worksheets[1]['A3000'].value, repr(wb.worksheets[0]['A3002'].value), repr(wb.worksheets[0]['B3002'].value))
            """
        let output = try ExportSpeedTests.python(script)
        #expect(output == "None 7\n['第一', '第二'] 3002 3000 A & <B> 7 x3000 '  lead and trail  ' 'tab\\there'\n", "\(output)")
    }

    /// Every cell names its place (`r`, as banks' readers need): an empty text cell takes its
    /// column, a skipped one none, and a value past column Z lands where it was put — by the
    /// tool's reader and by openpyxl, every value with its type and number format. Also a text
    /// of 200,000 bytes (more than one deflate stream's 60,000 in one piece) and 20,000 rows of
    /// varied text (many restarts of the stream), every CRC checked by zipfile. The same sheet
    /// with its cells' `r` taken out (as other programs write them, ECMA-376 §18.3.1.4) reads
    /// back the same through the tool's reader (a cell after a gap keeps its `r`).
    @Test func cellsReadBackInTheirColumns() throws {
        let folder = try ExportSpeedTests.folder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let path = folder + "/cells.xlsx"
        let writer = try XLSXWriter()
        try writer.beginSheet("cells")
        try writer.row([.text("a"), .text(""), .text("c"), .empty, .integer(-5), .amount(Fen(-150))])
        try writer.row(Array(repeating: XLSXCell.empty, count: 27) + [.text("AB"), .integer(28)])
        let long = String(repeating: "某a&", count: 40_000)
        try writer.row([.text(long)])
        var expected: [[String]] = [["a", "", "c", "", "-5", "-1.50"], Array(repeating: "", count: 27) + ["AB", "28"]]
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        for index in 1...20_000 {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            let text = String(state >> 11, radix: 36)
            try writer.row([.integer(Int64(index)), .text(text), .amount(Fen(Int64(state % 1_000_000)))])
            expected.append([String(index), text, Fen(Int64(state % 1_000_000)).yuanText, "", "", ""])
        }
        expected.insert([], at: 2) // the long text, compared by itself
        let file = try SafeFile(path: path)
        try writer.finish(into: file)
        try file.commit()
        var rows: [[String]] = []
        try CSVFile(path: path).forEachRecord { rows.append($0.fields) }
        #expect(rows.count == expected.count)
        #expect(rows.first == expected.first, "\(rows.first ?? [])")
        #expect(rows.count > 2 && rows[1] == expected[1], "\(rows.count > 1 ? rows[1] : [])")
        #expect(rows.count > 2 && rows[2].first == long && rows[2].dropFirst().allSatisfy(\.isEmpty), "\(rows.count > 2 ? rows[2].map(\.utf8.count) : [])")
        #expect(Array(rows.dropFirst(3)) == Array(expected.dropFirst(3)))
        let bare = folder + "/bare.xlsx"
        let script = """
            import zipfile, openpyxl, re
            z = zipfile.ZipFile('\(path)')
            print(z.testzip())
            sheet = z.read('xl/worksheets/sheet1.xml').decode()
            cells = re.findall(r'<c( r="([A-Z]+)([0-9]+)")?[ >]', sheet)
            print(len(cells), sum(1 for c in cells if not c[0]))
            def column(letters):
                n = 0
                for letter in letters: n = n * 26 + ord(letter) - 64
                return n
            def bare_row(row):
                # A cell right after the one before loses its r; one after a gap keeps it.
                expected = [1]
                def cell(m):
                    place = column(m.group(1))
                    keep = place != expected[0]
                    expected[0] = place + 1
                    return m.group(0) if keep else '<c'
                return re.sub(r'<c r="([A-Z]+)[0-9]+"', cell, row.group(0))
            with zipfile.ZipFile('\(bare)', 'w', zipfile.ZIP_DEFLATED) as out:
                for name in z.namelist():
                    data = z.read(name)
                    if name == 'xl/worksheets/sheet1.xml':
                        data = re.sub(r'<row[^>]*>.*?</row>', bare_row, sheet, flags=re.S).encode()
                    out.writestr(name, data)
            ws = openpyxl.load_workbook('\(path)').worksheets[0]
            for ref in ['A1', 'B1', 'C1', 'D1', 'E1', 'F1', 'AB2', 'AC2']:
                c = ws[ref]
                print(ref, repr(c.value), c.data_type, c.number_format)
            print(len(ws['A3'].value), ws.max_row, ws['B20003'].value, ws['A20003'].value)
            """
        let output = try ExportSpeedTests.python(script)
        #expect(output == """
            None
            \(5 + 2 + 1 + 3 * 20_000) 0
            A1 'a' s @
            B1 '' s @
            C1 'c' s @
            D1 None n General
            E1 -5 n 0
            F1 -1.5 n 0.00
            AB2 'AB' s @
            AC2 28 n 0
            \(long.utf8.count / 5 * 3) 20003 \(expected[20_002][1]) 20000

            """, "\(output)")
        var bareRows: [[String]] = []
        try CSVFile(path: bare).forEachRecord { bareRows.append($0.fields) }
        #expect(bareRows == rows)
    }

    /// Files closed without their own fsync, made durable together, then committed: complete,
    /// owner only, under their names; the folder's one fsync after.
    @Test func manyFilesSyncedTogetherAreCommitted() throws {
        let folder = try ExportSpeedTests.folder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        var files: [SafeFile] = []
        for index in 0..<20 {
            let file = try SafeFile(path: folder + "/.x")
            try file.write(Array("file \(index)\n".utf8))
            try file.finishWriting(durable: false)
            files.append(file)
        }
        try SafeFile.sync(files)
        for (index, file) in files.enumerated() { try file.commit(as: folder + "/f\(index).txt", syncingFolder: false) }
        SafeFile.syncFolder(folder)
        let names = try FileManager.default.contentsOfDirectory(atPath: folder).sorted()
        #expect(names.count == 20 && names.allSatisfy { $0.hasPrefix("f") }, "\(names)")
        #expect(try String(contentsOfFile: folder + "/f7.txt", encoding: .utf8) == "file 7\n")
        var status = stat()
        #expect(lstat(folder + "/f7.txt", &status) == 0 && status.st_mode & 0o777 == 0o600)
    }

    /// Between closing a file and syncing it, its temporary name is made to point elsewhere (a
    /// link, or another file put in its place): the sync refuses — it would vouch for bytes it
    /// did not write — and every file of the group is removed, none committed.
    @Test func aFileReplacedBeforeItsSyncIsRefused() throws {
        for replacement in ["link", "file"] {
            let folder = try ExportSpeedTests.folder()
            defer { try? FileManager.default.removeItem(atPath: folder) }
            let first = try SafeFile(path: folder + "/.x"), second = try SafeFile(path: folder + "/.x")
            for file in [first, second] {
                try file.write(Array("data\n".utf8))
                try file.finishWriting(durable: false)
            }
            let elsewhere = folder + "/elsewhere"
            try Data("not ours\n".utf8).write(to: URL(fileURLWithPath: elsewhere))
            unlink(second.temporaryPath)
            if replacement == "link" {
                #expect(symlink(elsewhere, second.temporaryPath) == 0)
            } else {
                #expect(rename(elsewhere, second.temporaryPath) == 0)
            }
            #expect(throws: AppError.self) { try SafeFile.sync([first, second]) }
            let left = try FileManager.default.contentsOfDirectory(atPath: folder).filter { $0.hasPrefix(".welfare-posts-") }
            #expect(left.isEmpty, "\(left)")
        }
    }
}
