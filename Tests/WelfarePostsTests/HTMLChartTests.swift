import Foundation
import Postgres
import Testing
import TestSupport
@testable import WelfarePosts

/// The pieces of the HTML reports: escaping, the charts' drawing, and the ledger's scale by group.
@Suite("HTML and charts")
struct HTMLChartTests {
    @Test func escapingLeavesNothingToRun() {
        #expect(HTML.escape("<script>alert('x') & \"y\"</script>") == "&lt;script&gt;alert(&#39;x&#39;) &amp; &quot;y&quot;&lt;/script&gt;")
        // A reordering or control character is made visible, not obeyed.
        #expect(HTML.escape("王\u{202E}五") == "王\\u{202E}五")
        #expect(HTML.escape("a\nb") == "a\\nb")
        #expect(HTML.escape("丰县 首羡镇") == "丰县 首羡镇")
        // The notice sheet and the payment notice escape the same way.
        #expect(NoticeSheet.escape("<b>") == "&lt;b&gt;" && PaymentReports.escape("<b>") == "&lt;b&gt;")
    }

    @Test func chartsCarryTheirValuesAndEscapeTheirLabels() {
        let bars = SVGChart.bars([.init(label: "<x>", value: 3, shown: "3"), .init(label: "b", value: 0, shown: "0")])
        #expect(bars.contains("data-value=\"3\"") && bars.contains("data-value=\"0\"") && bars.contains("&lt;x&gt;") && !bars.contains("<x>"))
        let columns = SVGChart.stackedColumns(categories: ["1月\n2026年", "2月"], series: [.init(name: "甲", values: [2, 3]), .init(name: "乙", values: [1, 0])],
                                              otherLabel: "其他")
        // Zero-height parts are not drawn; each part says its series, month and value.
        #expect(columns.components(separatedBy: "<rect ").count - 1 == 3)
        #expect(columns.contains("data-series=\"甲\" data-category=\"2月\" data-value=\"3\""))
        #expect(columns.contains(">2026年</text>"), "the year on a second line")
        let lines = SVGChart.lines(categories: ["a", "b", "c"], series: [.init(name: "n", values: [1, 5, 2])])
        #expect(lines.contains("<polyline") && lines.components(separatedBy: "<circle ").count - 1 == 3)
    }

    /// Ten groups are drawn apart; with more, the nine largest apart and the rest as one.
    @Test func manyGroupsAreDrawnAsTheLargestAndTheRest() {
        let ten = (0..<10).map { SVGChart.Series(name: "g\($0)", values: [$0, 1]) }
        #expect(SVGChart.limited(ten, otherLabel: "others").map(\.name) == ten.map(\.name))
        let twelve = (0..<12).map { SVGChart.Series(name: "g\($0)", values: [$0, 1]) }
        let drawn = SVGChart.limited(twelve, otherLabel: "others")
        #expect(drawn.map(\.name) == (3..<12).map { "g\($0)" } + ["others"])
        #expect(drawn.last?.values == [0 + 1 + 2, 3])
    }

    @Test func axisStepsAreRound() {
        #expect([0, 5, 8, 23, 100, 4_999, 120_000].map(SVGChart.niceStep) == [1, 1, 2, 5, 20, 1_000, 50_000])
    }

    /// Each breakdown of the scale (township, type, funding) adds up to `Ledger.scale`'s posts
    /// in force, and its filled posts to the posts held at the month's end.
    @Test func scaleByGroupAddsUpToTheScale() throws {
        let world = try World()
        let db = world.connection
        _ = try Policy.setPay(db, region: Fixtures.county, type: "road-keeper", monthly: Fen(60_000), socialInsurance: Fen(0),
                              from: Month(year: 2020, month: 1)!)
        let a = try world.post(region: Fixtures.villageA1, approvedOn: "2026-01-01")
        let b = try world.post(type: "road-keeper", region: Fixtures.villageB1, approvedOn: "2026-02-15")
        let c = try Posts.propose(db, region: Fixtures.villageA2, type: "road-keeper", funding: "local-fiscal", developer: "镇政府",
                                  need: "护路", on: Day(iso: "2025-12-01")!).id
        _ = try Posts.approve(db, c, on: Day(iso: "2026-01-10")!)
        _ = try Posts.close(db, c, on: Day(iso: "2026-04-01")!, reason: "撤并", exitHolder: false)
        try world.hire(a, try world.person(born: "1970-01-01"), "2026-01-05", "2026-12-31")
        let person = try world.person(born: "1971-01-01")
        try world.hire(b, person, "2026-03-01", "2026-12-31")
        _ = try Placements.exit(db, person: person, on: Day(iso: "2026-05-31")!, reason: "resigned")

        let from = Month(iso: "2026-01")!, to = Month(iso: "2026-06")!
        let scale = try Ledger.scale(db, region: Fixtures.county, from: from, to: to)
        let groups = try Ledger.scaleByGroup(db, region: Fixtures.county, from: from, to: to)
        #expect(scale.map(\.posts) == [2, 3, 3, 2, 2, 2])
        for dimension in ["township", "post_type", "funding_channel"] {
            for month in scale {
                let ofMonth = groups.filter { $0.dimension == dimension && $0.month == month.month }
                #expect(ofMonth.reduce(0) { $0 + $1.posts } == month.posts, "\(dimension) \(month.month)")
            }
        }
        let filled = Dictionary(grouping: groups.filter { $0.dimension == "township" }, by: \.month).mapValues { $0.reduce(0) { $0 + $1.filled } }
        #expect(LedgerReport.months(from: from, to: to).map { filled[$0.iso] ?? 0 } == [1, 1, 2, 2, 2, 1])
        let types = groups.filter { $0.dimension == "post_type" && $0.month == "2026-03" }.map { "\($0.key)=\($0.posts)" }
        #expect(types.sorted() == ["cleaner=1", "road-keeper=2"], "\(types)")
        let townships = groups.filter { $0.dimension == "township" && $0.month == "2026-06" }
        #expect(townships.allSatisfy { $0.township != nil && $0.key.count == 12 } && townships.count == 2, "\(townships)")
        #expect(throws: AppError.self) { try Ledger.scaleByGroup(db, region: Fixtures.county, from: to, to: from) }
    }
}
