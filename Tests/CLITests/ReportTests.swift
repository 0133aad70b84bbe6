import Foundation
import Postgres
import Testing
import TestSupport
import WelfarePosts

/// `audit report` and `ledger report` (SPEC §16): one self-contained HTML page each, the
/// figures equal to what `audit summary` and `ledger scale` print, checked in the file and —
/// where Debian's chromium is installed (deploy/test.sh installs it) — in a real browser:
/// the DOM it builds, a screenshot that is not blank, and an A4 PDF.
@Suite("HTML reports")
struct ReportTests {
    /// The demo county, loaded once for the suite (the reports only read it).
    static let demo: Result<TestDatabase, Error> = Result {
        let database = try TestDatabase()
        let result = try welfarePosts(["demo"], on: database, timeout: 600)
        guard result.status == 0 else { throw TestSupportError("demo failed: \(result.stderr)") }
        return database
    }

    /// A fresh folder for a test's files.
    static func folder() throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("wp-report-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    /// Runs a report command into `file` and returns the page.
    static func report(_ arguments: [String], _ file: String, on database: TestDatabase, lang: String = "en") throws -> String {
        let result = try welfarePosts(arguments + ["--output", file, "--lang", lang], on: database, timeout: 600)
        #expect(result.status == 0, "\(arguments): \(result.stderr)")
        return try String(contentsOfFile: file, encoding: .utf8)
    }

    /// The rows of the table `id`: each row's `data-key` and its cells' text (tags removed,
    /// entities left as they are).
    static func table(_ html: String, _ id: String) -> [String: [String]] {
        guard let start = html.range(of: "<table id=\"\(id)\">"),
              let end = html.range(of: "</table>", range: start.upperBound..<html.endIndex) else { return [:] }
        let body = String(html[start.upperBound..<end.lowerBound])
        var rows: [String: [String]] = [:]
        let row = try! NSRegularExpression(pattern: #"<tr[^>]*data-key="([^"]*)"[^>]*>(.*?)</tr>"#, options: [.dotMatchesLineSeparators])
        let cell = try! NSRegularExpression(pattern: #"<td[^>]*>(.*?)</td>"#, options: [.dotMatchesLineSeparators])
        let source = body as NSString
        for match in row.matches(in: body, range: NSRange(location: 0, length: source.length)) {
            let inner = source.substring(with: match.range(at: 2)) as NSString
            rows[source.substring(with: match.range(at: 1))] = cell.matches(in: inner as String, range: NSRange(location: 0, length: inner.length))
                .map { inner.substring(with: $0.range(at: 1)) }
        }
        return rows
    }

    static func json(_ text: String) throws -> [[String: String]] {
        (try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [[String: Any]] ?? []).map { $0.compactMapValues { $0 as? String } }
    }

    /// The summary table's rows keyed as `audit summary --format json` prints them.
    static func expectAuditFigures(_ html: String, _ database: TestDatabase, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let summary = try json(try welfarePosts(["audit", "summary", "--region", "320321", "--as-of", "2026-06-30", "--format", "json"],
                                                on: database, timeout: 600).stdout)
        #expect(summary.count >= 10, "\(summary)", sourceLocation: sourceLocation)
        let rows = table(html, "summary")
        #expect(rows.count == summary.count, "\(rows.keys.sorted())", sourceLocation: sourceLocation)
        for line in summary {
            let key = line["rule"] == "total" ? "total" : line["county_code"] == "total" ? "\(line["rule"]!)|" : "\(line["rule"]!)|\(line["county_code"]!)"
            let cells = rows[key] ?? []
            #expect(cells.count == 6 && cells[4] == line["cases"] && cells[5] == line["amount"], "\(key): \(cells) vs \(line)",
                    sourceLocation: sourceLocation)
        }
        let total = summary.first { $0["rule"] == "total" }!
        #expect(html.contains("data-cases=\"\(total["cases"]!)\""), sourceLocation: sourceLocation)
    }

    /// The month-by-month table's rows equal `ledger scale --format json`, and each breakdown
    /// (township, type, funding channel) adds up to the posts in force.
    static func expectLedgerFigures(_ html: String, _ database: TestDatabase, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let scale = try json(try welfarePosts(["ledger", "scale", "--from", "2026-01", "--to", "2026-12", "--region", "320321", "--format", "json"],
                                              on: database).stdout)
        #expect(scale.count == 12, sourceLocation: sourceLocation)
        let rows = table(html, "scale-table")
        for month in scale {
            let cells = rows[month["month"]!] ?? []
            #expect(cells.count == 7 && cells[1] == month["posts"] && cells[2] == month["filled"] && cells[4] == month["people"]
                    && cells[5] == month["hires"] && cells[6] == month["exits"], "\(month): \(cells)", sourceLocation: sourceLocation)
        }
        #expect(scale.contains { $0["posts"] != "0" }, sourceLocation: sourceLocation)
        for dimension in ["by-township", "by-type", "by-funding"] {
            let groups = table(html, "\(dimension)-2026")
            #expect(groups.count >= 2, "\(dimension)", sourceLocation: sourceLocation)
            for (index, month) in scale.enumerated() {
                let sum = groups.filter { $0.key != "total" }.values.reduce(0) { $0 + (Int($1[index + 1]) ?? 0) }
                #expect(String(sum) == month["posts"] && groups["total"]?[index + 1] == month["posts"], "\(dimension) \(month)",
                        sourceLocation: sourceLocation)
            }
        }
    }

    /// What every page must be: one file that needs nothing else, with charts, for A4.
    static func expectSelfContained(_ html: String, sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(html.hasPrefix("<!DOCTYPE html>"), sourceLocation: sourceLocation)
        #expect(!html.lowercased().contains("http"), "a link or resource from the network", sourceLocation: sourceLocation)
        #expect(!html.lowercased().contains("<script"), sourceLocation: sourceLocation)
        #expect(!html.contains("src=") && !html.contains("<link"), sourceLocation: sourceLocation)
        #expect(html.contains("@page { size: A4"), sourceLocation: sourceLocation)
        // Printed: header rows repeated on every page, no row or chart split across two.
        #expect(html.contains("thead { display: table-header-group; }") && html.contains("tr { break-inside: avoid;")
                && html.contains("figure { margin: 2mm 0 5mm; break-inside: avoid;"), sourceLocation: sourceLocation)
        #expect(html.components(separatedBy: "<svg ").count >= 3, "charts", sourceLocation: sourceLocation)
        #expect(html.contains("<rect ") || html.contains("<circle "), sourceLocation: sourceLocation)
    }

    @Test func auditReportShowsTheSummaryFiguresInEnglishAndChinese() throws {
        let database = try Self.demo.get()
        let folder = try Self.folder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let english = try Self.report(["audit", "report", "--region", "320321", "--as-of", "2026-06-30"], folder + "/audit.html", on: database)
        Self.expectSelfContained(english)
        try Self.expectAuditFigures(english, database)
        let mode = try FileManager.default.attributesOfItem(atPath: folder + "/audit.html")[.posixPermissions] as? Int
        #expect(mode == 0o600, "the report names persons: readable by its owner only")
        #expect(english.contains("<html lang=\"en\">") && english.contains("Cases by rule") && english.contains("deceased, still in post"))
        #expect(english.contains("Money at stake by county (yuan)"))
        // Masked: no resident ID of the demo in full.
        let fullID = try NSRegularExpression(pattern: #"[0-9]{17}[0-9X]"#)
        #expect(fullID.firstMatch(in: english, range: NSRange(location: 0, length: (english as NSString).length)) == nil)
        #expect(english.contains("320321********"))

        let chinese = try Self.report(["audit", "report", "--region", "320321", "--as-of", "2026-06-30"], folder + "/audit-zh.html",
                                      on: database, lang: "zh")
        Self.expectSelfContained(chinese)
        try Self.expectAuditFigures(chinese, database)
        for text in ["<html lang=\"zh-CN\">", "乡村公益性岗位查处报告", "按规则统计的问题数", "按县区统计的涉及金额（元）", "死亡人员仍在岗", "问题清单", "依据", "合计"] {
            #expect(chinese.contains(text), "\(text)")
        }
        #expect(!chinese.contains("Cases by rule"))

        // --reveal, for the roles allowed it (the test's database owner is).
        let revealed = try Self.report(["audit", "report", "--region", "320321", "--as-of", "2026-06-30", "--reveal"], folder + "/revealed.html",
                                       on: database)
        #expect(fullID.firstMatch(in: revealed, range: NSRange(location: 0, length: (revealed as NSString).length)) != nil)
        // One rule only.
        let one = try Self.report(["audit", "report", "--region", "320321", "--as-of", "2026-06-30", "--rule", "uninsured"], folder + "/one.html",
                                  on: database)
        #expect(Self.table(one, "summary")["total"]?[4] == "1" && !one.contains("PAID_NOT_DUE"), "\(Self.table(one, "summary"))")
    }

    @Test func ledgerReportShowsTheScaleMonthByMonthInEnglishAndChinese() throws {
        let database = try Self.demo.get()
        let folder = try Self.folder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let arguments = ["ledger", "report", "--from", "2026-01", "--to", "2026-12", "--region", "320321"]
        let english = try Self.report(arguments, folder + "/ledger.html", on: database)
        Self.expectSelfContained(english)
        try Self.expectLedgerFigures(english, database)
        #expect(english.contains("by township") && english.contains("by funding channel") && english.contains("Monthly subsidy commitment"))
        // The summary is as of the last day of --to, and its total is `ledger summary`'s.
        let summary = try Self.json(try welfarePosts(["ledger", "summary", "--region", "320321", "--as-of", "2026-12-31", "--format", "json"],
                                                     on: database).stdout)
        let total = summary.first { $0["level"] == "total" }
        let footer = Self.table(english, "summary")["total"] ?? []
        #expect(footer.count == 8 && footer[4] == total?["posts"] && footer[5] == total?["filled"] && footer[6] == total?["vacant"]
                && footer[7] == total?["commitment"], "\(footer) vs \(String(describing: total))")

        let chinese = try Self.report(arguments, folder + "/ledger-zh.html", on: database, lang: "zh")
        Self.expectSelfContained(chinese)
        try Self.expectLedgerFigures(chinese, database)
        for text in ["乡村公益性岗位管理台账报告", "规模总体稳定", "按乡镇", "按岗位类型", "按资金渠道", "2026年1月", "2026年12月", "3月", "在岗", "空缺", "月补贴支出"] {
            #expect(chinese.contains(text), "\(text)")
        }
        #expect(!chinese.contains("by township"))
    }

    /// Names, developers and region names are user input: a page shows them, never runs them.
    @Test func userTextIsEscaped() throws {
        let world = try World()
        let person = try world.person(born: "1968-08-08")
        try world.connection.command("UPDATE person SET name = $2 WHERE id_number = $1", [person.value, "<script>alert(1)</script>"])
        let post = try Posts.propose(world.connection, region: Fixtures.villageA1, type: "cleaner", funding: "employment-fund",
                                     developer: "<img src=x onerror=alert(2)> & \"co\"", need: "村庄保洁", on: Day(iso: "2025-12-01")!).id
        _ = try Posts.approve(world.connection, post, on: Day(iso: "2026-01-01")!)
        try world.hire(post, person, "2026-01-01", "2026-12-31")
        _ = try Persons.setStatus(world.connection, id: person, status: "deceased", from: Day(iso: "2026-05-10")!, to: nil)
        let folder = try Self.folder()
        defer { try? FileManager.default.removeItem(atPath: folder) }

        let audit = try Self.report(["audit", "report", "--as-of", "2026-06-30"], folder + "/audit.html", on: world.database)
        #expect(audit.contains("&lt;script&gt;alert(1)&lt;/script&gt;"), "the name is shown, escaped")
        #expect(!audit.contains("<script"))
        let ledger = try Self.report(["ledger", "report", "--from", "2026-01", "--to", "2026-06"], folder + "/ledger.html", on: world.database)
        #expect(ledger.contains("&lt;img src=x onerror=alert(2)&gt; &amp; &quot;co&quot;"), "the developer is shown, escaped")
        #expect(!ledger.contains("<img"))
        #expect(Self.table(ledger, "scale-table")["2026-06"]?[1] == "1")
    }

    /// Over more than one county the scale is shown by county; within one, by township.
    @Test func overSeveralCountiesTheScaleIsByCounty() throws {
        let scene = try AccessTests.Scene()
        let folder = try Self.folder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let all = try Self.report(["ledger", "report", "--from", "2026-01", "--to", "2026-03"], folder + "/all.html", on: scene.database)
        let counties = Self.table(all, "by-county-2026")
        #expect(counties["320321"]?.first == "丰县" && counties["320322"]?.first == "沛县", "\(counties)")
        #expect(counties["320321"]?[1] == "3" && counties["320322"]?[1] == "1" && counties["total"]?[1] == "4", "\(counties)")
        #expect(all.contains("by county") && !all.contains("id=\"by-township-2026\""))
        let one = try Self.report(["ledger", "report", "--from", "2026-01", "--to", "2026-03", "--region", "320321"], folder + "/one.html",
                                  on: scene.database)
        let townships = Self.table(one, "by-township-2026")
        #expect(townships.count == 3 && townships["total"]?[1] == "3", "\(townships)")
        #expect(!one.contains("by county"))
    }

    /// A careless user: no file, a file that promises CSV, months backwards or too many. Exit 2
    /// and nothing written.
    @Test func badRequestsAreRefusedAndWriteNothing() throws {
        let database = try Self.demo.get()
        let folder = try Self.folder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let cases: [([String], String)] = [
            (["audit", "report", "--region", "320321"], "BAD_OUTPUT"),
            (["audit", "report", "--output", folder + "/audit.csv"], "BAD_OUTPUT"),
            (["audit", "report", "--output", folder + "/a.html", "--from", "2026-05", "--to", "2026-01"], "BAD_INPUT"),
            (["ledger", "report", "--from", "2026-01", "--to", "2026-12"], "BAD_OUTPUT"),
            (["ledger", "report", "--from", "2026-01", "--to", "2026-12", "--output", folder + "/ledger.xlsx"], "BAD_OUTPUT"),
            (["ledger", "report", "--from", "2026-12", "--to", "2026-01", "--output", folder + "/l.html"], "BAD_INPUT"),
            (["ledger", "report", "--from", "2000-01", "--to", "2026-12", "--output", folder + "/l.html"], "BAD_MONTH"),
            (["ledger", "report", "--from", "2026-01", "--to", "2026-12", "--as-of", "2026-13-01", "--output", folder + "/l.html"], "BAD_DATE"),
            (["ledger", "report", "--from", "2026-01", "--to", "2026-12", "--region", "999999", "--output", folder + "/l.html"], "NOT_FOUND"),
        ]
        for (arguments, code) in cases {
            let result = try welfarePosts(arguments, on: database)
            #expect(result.status == 2 && result.stderr.hasPrefix("error: [\(code)]"), "\(arguments): \(result.stderr)")
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder).isEmpty)
        // A role that may not see full IDs may not ask for them in a report either.
        let scene = try AccessTests.Scene()
        let finance = try scene.login("finance", Fixtures.county)
        try scene.expectRefused(finance, ["audit", "report", "--reveal", "--output", folder + "/r.html"], ["REVEAL_NOT_ALLOWED"])
        #expect(!FileManager.default.fileExists(atPath: folder + "/r.html"))
    }

    // MARK: In a real browser

    /// Debian's chromium, where installed (deploy/test.sh installs it).
    static let chromium: String? = ["/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"]
        .first { FileManager.default.isExecutableFile(atPath: $0) }

    /// Runs headless chromium on a page with a throw-away profile; it may be slow to start on a
    /// loaded machine, so the time allowed is generous.
    static func browse(_ page: String, _ arguments: [String]) throws -> ProcessResult {
        let profile = try folder()
        defer { try? FileManager.default.removeItem(atPath: profile) }
        let result = try runProcess(chromium!, ["--headless", "--no-sandbox", "--disable-gpu", "--user-data-dir=\(profile)",
                                                "--no-first-run", "--no-default-browser-check"] + arguments + ["file://\(page)"],
                                    timeout: 300)
        #expect(result.status == 0, "chromium \(arguments): \(result.stderr)")
        return result
    }

    /// Decodes a PNG (8-bit RGB or RGBA, as chromium writes them) with python3's zlib and
    /// counts its pixels: not white, and coloured (a chart's, not text's black or grey).
    static func pixels(_ png: String) throws -> [String: Int] {
        let script = """
            import sys, zlib, struct, json
            data = open(sys.argv[1], 'rb').read()
            assert data[:8] == b'\\x89PNG\\r\\n\\x1a\\n', 'not a PNG'
            pos, idat = 8, b''
            while pos < len(data):
                n, = struct.unpack('>I', data[pos:pos+4]); kind = data[pos+4:pos+8]; chunk = data[pos+8:pos+8+n]; pos += 12 + n
                if kind == b'IHDR': w, h, depth, ctype, _, _, interlace = struct.unpack('>IIBBBBB', chunk)
                elif kind == b'IDAT': idat += chunk
            assert depth == 8 and ctype in (2, 6) and interlace == 0, (depth, ctype, interlace)
            raw = zlib.decompress(idat); bpp = 3 if ctype == 2 else 4; stride = w * bpp
            prev = bytearray(stride); i = 0; nonwhite = coloured = 0; colours = set()
            for y in range(h):
                f = raw[i]; line = bytearray(raw[i+1:i+1+stride]); i += 1 + stride
                for x in range(stride):
                    a = line[x-bpp] if x >= bpp else 0; b = prev[x]; c = prev[x-bpp] if x >= bpp else 0
                    if f == 1: line[x] = (line[x] + a) & 255
                    elif f == 2: line[x] = (line[x] + b) & 255
                    elif f == 3: line[x] = (line[x] + (a + b) // 2) & 255
                    elif f == 4:
                        p = a + b - c; pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                        line[x] = (line[x] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
                for x in range(0, stride, bpp):
                    r, g, bl = line[x], line[x+1], line[x+2]
                    if r < 240 or g < 240 or bl < 240: nonwhite += 1
                    if max(r, g, bl) - min(r, g, bl) > 80: coloured += 1
                    colours.add((r, g, bl))
                prev = line
            print(json.dumps({'width': w, 'height': h, 'nonwhite': nonwhite, 'coloured': coloured, 'colours': len(colours)}))
            """
        let result = try runProcess("/usr/bin/env", ["python3", "-c", script, png], timeout: 300)
        #expect(result.status == 0, "\(result.stderr)")
        return (try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Int]) ?? [:]
    }

    /// The PDF's page sizes (MediaBox, points) and number of pages.
    static func pdfPages(_ pdf: String) throws -> (boxes: [(Double, Double)], pages: Int) {
        let text = String(decoding: try Data(contentsOf: URL(fileURLWithPath: pdf)), as: UTF8.self)
        #expect(text.hasPrefix("%PDF-"))
        let box = try NSRegularExpression(pattern: #"/MediaBox\s*\[\s*0\s+0\s+([0-9.]+)\s+([0-9.]+)\s*\]"#)
        let page = try NSRegularExpression(pattern: #"/Type\s*/Page(?![s\w])"#)
        let source = text as NSString
        let boxes = box.matches(in: text, range: NSRange(location: 0, length: source.length)).map {
            (Double(source.substring(with: $0.range(at: 1))) ?? 0, Double(source.substring(with: $0.range(at: 2))) ?? 0)
        }
        return (boxes, page.numberOfMatches(in: text, range: NSRange(location: 0, length: source.length)))
    }

    /// Both reports in chromium: the DOM it builds shows the figures `audit summary` and
    /// `ledger scale` print, the screenshot has the charts' colours, and the PDF is A4.
    @Test(.enabled(if: chromium != nil, "chromium is not installed (deploy/test.sh installs it: apt-get install chromium)"))
    func reportsRenderInABrowserAndPrintOnA4() throws {
        let database = try Self.demo.get()
        let folder = try Self.folder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        _ = try Self.report(["audit", "report", "--region", "320321", "--as-of", "2026-06-30"], folder + "/audit.html", on: database, lang: "zh")
        _ = try Self.report(["ledger", "report", "--from", "2026-01", "--to", "2026-12", "--region", "320321"], folder + "/ledger.html",
                            on: database, lang: "zh")

        let auditDOM = try Self.browse(folder + "/audit.html", ["--dump-dom"]).stdout
        #expect(auditDOM.contains("乡村公益性岗位查处报告"))
        try Self.expectAuditFigures(auditDOM, database)
        let ledgerDOM = try Self.browse(folder + "/ledger.html", ["--dump-dom"]).stdout
        #expect(ledgerDOM.contains("乡村公益性岗位管理台账报告"))
        try Self.expectLedgerFigures(ledgerDOM, database)

        for name in ["audit", "ledger"] {
            let png = folder + "/\(name).png", pdf = folder + "/\(name).pdf"
            _ = try Self.browse(folder + "/\(name).html", ["--window-size=800,1000", "--hide-scrollbars", "--screenshot=\(png)"])
            let counted = try Self.pixels(png)
            #expect(counted["width"] == 800 && counted["height"] == 1000, "\(counted)")
            // The charts' bars and lines in their colours, and plenty drawn besides white.
            #expect((counted["coloured"] ?? 0) > 5_000 && (counted["nonwhite"] ?? 0) > 20_000 && (counted["colours"] ?? 0) > 20, "\(name): \(counted)")

            _ = try Self.browse(folder + "/\(name).html", ["--no-pdf-header-footer", "--print-to-pdf=\(pdf)"])
            let (boxes, pages) = try Self.pdfPages(pdf)
            #expect(!boxes.isEmpty && boxes.allSatisfy { abs($0.0 - 595) < 2 && abs($0.1 - 842) < 2 }, "\(name): \(boxes)")
            #expect((2...12).contains(pages), "\(name): \(pages) pages")
        }
    }
}
