/// `ledger report` (SPEC §8 and §16): the post scale month by month (规模总体稳定) — in all, by
/// township, by type and by funding channel — filled and vacant and the monthly subsidy
/// commitment on the report's day, as charts, with the tables beneath. Made from what
/// `ledger scale` and `ledger summary` read (and `Ledger.scaleByGroup`); it reads nothing itself.
public struct LedgerReport: Sendable {
    public let lang: Lang
    public let covers: String
    public let asOf: Day
    public let months: [Month]
    public let scale: [ScaleMonth]
    public let groups: [ScaleGroupMonth]
    public let summary: [LedgerSummaryLine]
    public let vocabulary: Vocabulary

    public init(lang: Lang, covers: String, asOf: Day, months: [Month], scale: [ScaleMonth], groups: [ScaleGroupMonth],
                summary: [LedgerSummaryLine], vocabulary: Vocabulary) {
        self.lang = lang
        self.covers = covers
        self.asOf = asOf
        self.months = months
        self.scale = scale
        self.groups = groups
        self.summary = summary
        self.vocabulary = vocabulary
    }

    /// The line under the title.
    public static func covers(region: String?, regionName: String?, from: Month, to: Month, asOf: Day, lang: Lang) -> String {
        let zh = lang == .zh
        let place = region.map { code in regionName.map { "\($0)（\(code)）" } ?? code } ?? (zh ? "全部区划" : "every region")
        return zh
            ? "区划：\(place) · 月份：\(chinese(from)) 至 \(chinese(to)) · 在岗与补贴截至 \(asOf.iso) · 生成日期：\(Day.today().iso)"
            : "Region: \(place) · months \(from.iso) to \(to.iso) · filled, vacant and commitment as of \(asOf.iso) · made on \(Day.today().iso)"
    }

    /// The months from `from` to `to`.
    public static func months(from: Month, to: Month) -> [Month] {
        var months: [Month] = [], month = from
        while month <= to {
            months.append(month)
            month = month.adding(months: 1)
        }
        return months
    }

    static func chinese(_ month: Month) -> String { "\(month.year)年\(month.month)月" }

    static let englishMonths = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]

    func t(_ en: String, _ zh: String) -> String { lang == .zh ? zh : en }

    /// A month's label in a table: `2026-01`, or `2026年1月` under zh.
    func label(_ month: Month) -> String { lang == .zh ? Self.chinese(month) : month.iso }

    /// A month's label under a chart's column: the month, with the year beneath on the first
    /// month and each January.
    func axisLabel(_ month: Month, first: Bool) -> String {
        let name = lang == .zh ? "\(month.month)月" : Self.englishMonths[month.month - 1]
        return first || month.month == 1 ? name + "\n" + (lang == .zh ? "\(month.year)年" : "\(month.year)") : name
    }

    /// A group's name: the township's name, or the type's or channel's code (its Chinese label under zh).
    func groupName(_ group: ScaleGroupMonth) -> String {
        switch group.dimension {
        case "township": group.township ?? group.key
        case "post_type": vocabulary.label(.postType, group.key, lang)
        default: vocabulary.label(.fundingChannel, group.key, lang)
        }
    }

    public var html: String {
        let axis = months.enumerated().map { axisLabel($1, first: $0 == 0) }
        let byMonth = Dictionary(scale.map { ($0.month, $0) }, uniquingKeysWith: { first, _ in first })
        let rows = months.map { byMonth[$0.iso] }
        var body = ""

        body += HTML.heading(t("Post scale month by month (规模总体稳定)", "岗位规模逐月情况（规模总体稳定）"))
        body += HTML.figure(id: "scale", caption: t("Posts in force and filled at each month's end; people in post in the month",
                                                    "月末在册岗位数、在岗岗位数，当月在岗人数"),
                            SVGChart.lines(categories: axis, series: [
                                .init(name: t("posts in force", "在册岗位"), values: rows.map { $0?.posts ?? 0 }),
                                .init(name: t("filled", "在岗岗位"), values: rows.map { $0?.filled ?? 0 }),
                                .init(name: t("people in post", "在岗人数"), values: rows.map { $0?.people ?? 0 }),
                            ]))
        // Over more than one county, townships are too many to tell apart: their counties are shown.
        let byCounty = Set(groups.filter { $0.dimension == "township" }.map { $0.key.prefix(6) }).count > 1
        let dimensions: [(key: String, caption: String, id: String)] = [
            byCounty ? ("township", t("Posts in force at each month's end, by county", "月末在册岗位数（按县区）"), "by-county")
                : ("township", t("Posts in force at each month's end, by township", "月末在册岗位数（按乡镇）"), "by-township"),
            ("post_type", t("Posts in force at each month's end, by post type", "月末在册岗位数（按岗位类型）"), "by-type"),
            ("funding_channel", t("Posts in force at each month's end, by funding channel", "月末在册岗位数（按资金渠道）"), "by-funding"),
        ]
        var tables = ""
        for dimension in dimensions {
            let ofDimension = groups.filter { $0.dimension == dimension.key }
            var keys: [String] = [], names: [String: String] = [:]
            var counts: [String: [String: Int]] = [:]
            for group in ofDimension {
                let key = byCounty && dimension.key == "township" ? String(group.key.prefix(6)) : group.key
                if names[key] == nil {
                    keys.append(key)
                    names[key] = byCounty && dimension.key == "township" ? (group.county ?? key) : groupName(group)
                }
                counts[key, default: [:]][group.month, default: 0] += group.posts
            }
            keys.sort()
            let series = keys.map { key in SVGChart.Series(name: names[key] ?? key, values: months.map { counts[key]?[$0.iso] ?? 0 }) }
            body += HTML.figure(id: dimension.id, caption: dimension.caption,
                                SVGChart.stackedColumns(categories: axis, series: series, otherLabel: t("others", "其他")))
            // The table: one row per group, one column per month, a table per calendar year.
            for year in Array(Set(months.map(\.year))).sorted() {
                let ofYear = months.filter { $0.year == year }
                tables += HTML.table(
                    id: "\(dimension.id)-\(year)", caption: "\(dimension.caption) · \(t(String(year), "\(year)年"))",
                    headers: [""] + ofYear.map { lang == .zh ? "\($0.month)月" : Self.englishMonths[$0.month - 1] },
                    rows: keys.map { key in [HTML.Cell(names[key])] + ofYear.map { .number(counts[key]?[$0.iso] ?? 0) } },
                    rowKeys: keys,
                    footer: [HTML.Cell(t("total", "合计"))] + ofYear.map { .number(byMonth[$0.iso]?.posts ?? 0) })
            }
        }

        let detail = summary.filter { $0.level == "detail" }
        let channels = summary.filter { $0.level == "funding_channel" }
        let total = summary.first { $0.level == "total" }
        body += HTML.heading(t("Filled, vacant and the monthly subsidy commitment on \(asOf.iso)", "\(asOf.iso) 在岗、空岗与每月补贴支出"))
        var townships: [String] = [], townshipNames: [String: String] = [:], filled: [String: Int] = [:], vacant: [String: Int] = [:]
        let countyNames = Dictionary(groups.filter { $0.dimension == "township" }.map { (String($0.key.prefix(6)), $0.county ?? "") },
                                     uniquingKeysWith: { first, _ in first })
        for line in detail {
            let code = byCounty ? String((line.townshipCode ?? "").prefix(6)) : line.townshipCode ?? ""
            if townshipNames[code] == nil {
                townships.append(code)
                townshipNames[code] = byCounty ? (countyNames[code].flatMap { $0.isEmpty ? nil : $0 } ?? code) : line.township ?? code
            }
            filled[code, default: 0] += line.filled
            vacant[code, default: 0] += line.vacant
        }
        if detail.isEmpty {
            body += HTML.none(t("No post in force on \(asOf.iso).", "\(asOf.iso) 没有在册岗位。"))
        } else {
            body += HTML.figure(id: "filled-vacant", caption: byCounty ? t("Posts in force by county: filled and vacant", "各县区在册岗位：在岗与空缺")
                                    : t("Posts in force by township: filled and vacant", "各乡镇在册岗位：在岗与空缺"),
                                SVGChart.stackedColumns(categories: townships.map { townshipNames[$0] ?? $0 }, series: [
                                    .init(name: t("filled", "在岗"), values: townships.map { filled[$0] ?? 0 }),
                                    .init(name: t("vacant", "空缺"), values: townships.map { vacant[$0] ?? 0 }),
                                ], otherLabel: t("others", "其他")))
            body += HTML.figure(id: "commitment", caption: t("Monthly subsidy commitment by funding channel (yuan)", "按资金渠道的每月补贴支出（元）"),
                                SVGChart.bars(channels.map { line in
                                    .init(label: vocabulary.label(.fundingChannel, line.fundingChannel ?? "", lang), value: line.commitmentFen,
                                          shown: Fen(line.commitmentFen).yuanText + t(" yuan", " 元"))
                                }, color: SVGChart.palette[5]))
        }

        body += HTML.heading(t("Tables", "统计表"))
        body += HTML.table(
            id: "scale-table", caption: t("Post scale month by month", "岗位规模逐月统计"),
            headers: [t("month", "月份"), t("posts in force", "在册岗位"), t("filled", "在岗岗位"), t("vacant", "空缺岗位"),
                      t("people in post", "在岗人数"), t("hires", "新聘"), t("exits", "退岗")],
            rows: zip(months, rows).map { month, row in
                [HTML.Cell(label(month)), .number(row?.posts ?? 0), .number(row?.filled ?? 0), .number((row?.posts ?? 0) - (row?.filled ?? 0)),
                 .number(row?.people ?? 0), .number(row?.hires ?? 0), .number(row?.exits ?? 0)]
            },
            rowKeys: months.map(\.iso))
        body += tables
        let totalWord = t("total", "合计")
        body += HTML.table(
            id: "summary", caption: t("Posts in force on \(asOf.iso) (ledger summary)", "\(asOf.iso) 在册岗位汇总（台账汇总）"),
            headers: [t("township", "乡镇"), t("type", "岗位类型"), t("funding", "资金渠道"), t("developer", "开发主体"),
                      t("posts", "岗位数"), t("filled", "在岗"), t("vacant", "空缺"), t("monthly commitment (yuan)", "月补贴支出（元）")],
            rows: (detail + channels).map { line in
                [HTML.Cell(line.level == "detail" ? line.township : t("by funding", "按资金渠道")),
                 HTML.Cell(line.postType.map { vocabulary.label(.postType, $0, lang) }),
                 HTML.Cell(line.fundingChannel.map { vocabulary.label(.fundingChannel, $0, lang) }), HTML.Cell(line.developer),
                 .number(line.posts), .number(line.filled), .number(line.vacant), .yuan(line.commitmentFen)]
            },
            rowKeys: (detail + channels).map { [$0.level, $0.townshipCode ?? "", $0.postType ?? "", $0.fundingChannel ?? "", $0.developer ?? ""].joined(separator: "|") },
            footer: [HTML.Cell(totalWord), HTML.Cell(""), HTML.Cell(""), HTML.Cell(""), .number(total?.posts ?? 0),
                     .number(total?.filled ?? 0), .number(total?.vacant ?? 0), .yuan(total?.commitmentFen ?? 0)])
        return HTML.page(lang: lang, title: t("Ledger report: rural public-welfare posts", "乡村公益性岗位管理台账报告"), subtitle: covers, body: body)
    }
}
