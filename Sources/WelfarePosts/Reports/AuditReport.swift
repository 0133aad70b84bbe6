import Postgres

/// One case of `audit violations`, typed for the report.
public struct AuditCase: Sendable {
    public let rule: String
    public let countyCode: String?
    public let county: String?
    public let township: String?
    public let village: String?
    public let idNumber: String?
    public let name: String?
    public let postID: String?
    public let from: String?
    public let to: String?
    public let month: String?
    public let amountFen: Int64?
    public let explanation: Text

    public init(row: Row) throws {
        rule = try row.decode("rule")
        countyCode = row["county_code"]
        county = row["county"]
        township = row["township"]
        village = row["village"]
        idNumber = row["id_number"]
        name = row["name"]
        postID = row["post_id"]
        from = row["from_on"]
        to = row["to_on"]
        month = row["month"]
        amountFen = try row.decodeIfPresent("amount_fen")
        explanation = Text(en: row["explanation"] ?? "", zh: row["explanation_zh"] ?? row["explanation"] ?? "")
    }
}

/// One line of `audit summary`: a rule in one county, a rule's total (county empty), or the
/// grand total (rule and county empty).
public struct AuditSummaryLine: Sendable {
    public let rule: String
    public let countyCode: String
    public let county: String?
    public let cases: Int
    public let amountFen: Int64

    public init(row: Row) throws {
        rule = try row.decode("rule")
        countyCode = try row.decode("county_code")
        county = row["county"]
        cases = try row.decode("cases")
        amountFen = try row.decode("amount_fen")
    }
}

/// A rule as the report names it: its code, Chinese title and basis (依据).
public struct AuditRuleTitle: Sendable {
    public let code: String
    public let titleZh: String
    public let basis: String

    public init(code: String, titleZh: String, basis: String) {
        self.code = code
        self.titleZh = titleZh
        self.basis = basis
    }
}

/// `audit report` (SPEC §16): the cases and money at stake by rule and by county as charts,
/// then the summary table, the cases and the rules' basis — one self-contained page. Made from
/// what `audit violations` and `audit summary` read; it reads nothing itself.
public struct AuditReport: Sendable {
    public let lang: Lang
    /// What the report covers, as a line under its title.
    public let covers: String
    public let rules: [AuditRuleTitle]
    public let summary: [AuditSummaryLine]
    public let cases: [AuditCase]
    /// Full resident IDs (the roles allowed `--reveal`), else masked.
    public let reveal: Bool

    public init(lang: Lang, covers: String, rules: [AuditRuleTitle], summary: [AuditSummaryLine], cases: [AuditCase], reveal: Bool) {
        self.lang = lang
        self.covers = covers
        self.rules = rules
        self.summary = summary
        self.cases = cases
        self.reveal = reveal
    }

    /// The line under the title: the region, the as-of date, the payment months and the rule.
    public static func covers(_ filter: Audit.Filter, regionName: String?, lang: Lang) -> String {
        let zh = lang == .zh
        let region = filter.region.map { code in regionName.map { "\($0)（\(code)）" } ?? code } ?? (zh ? "全部区划" : "every region")
        let asOf = (filter.asOf ?? .today()).iso
        let months = zh
            ? "发放类规则月份：\(filter.from?.iso ?? "最早有发放的月份") 至 \(filter.to?.iso ?? "截止日期所在月份")"
            : "payment months \(filter.from?.iso ?? "from the earliest paid") to \(filter.to?.iso ?? "the as-of month")"
        let rule = filter.rule.map { zh ? "规则：\($0)" : "rule \($0)" } ?? (zh ? "全部规则" : "every rule")
        return zh
            ? "区划：\(region) · 截止日期：\(asOf) · \(months) · \(rule) · 生成日期：\(Day.today().iso)"
            : "Region: \(region) · as of \(asOf) · \(months) · \(rule) · made on \(Day.today().iso)"
    }

    func t(_ en: String, _ zh: String) -> String { lang == .zh ? zh : en }

    /// The rules' names in English (SPEC §7's findings, shortened); the database holds the Chinese.
    static let englishTitles = [
        "DECEASED_IN_POST": "deceased, still in post", "INELIGIBLE_IN_POST": "ineligible in post", "OVER_AGE_IN_POST": "over age in post",
        "OVER_QUOTA": "posts over the quota", "HOUSEHOLD_OVER_CAP": "household over its cap", "NO_CONTRACT": "in post without a contract",
        "UNINSURED": "in post uninsured", "PAID_NOT_DUE": "paid but not due", "UNDERPAID": "underpaid", "DUPLICATE_PAYMENT": "paid twice",
        "PAID_TO_OTHER_ACCOUNT": "paid to another account", "UNPAID_LATE": "unpaid, late", "REPEATED_FAILURE": "failed assessments, not exited",
        "VACANT_TOO_LONG": "vacant too long", "PAID_WITHOUT_EVIDENCE": "paid without evidence of work",
    ]

    /// The rule's name as shown: its Chinese title under zh, its English title otherwise (the
    /// code when a rule has none).
    func ruleName(_ code: String) -> String {
        if lang == .zh, let title = rules.first(where: { $0.code == code })?.titleZh, !title.isEmpty { return title }
        return lang == .zh ? code : (Self.englishTitles[code] ?? code)
    }

    public var html: String {
        let byRule = summary.filter { !$0.rule.isEmpty && $0.countyCode.isEmpty }
        let total = summary.first { $0.rule.isEmpty }
        let totalCases = total?.cases ?? 0, totalFen = total?.amountFen ?? 0
        // Per county over every rule, from the summary's county lines, in code order.
        var counties: [String: (name: String, cases: Int, fen: Int64)] = [:]
        for line in summary where !line.rule.isEmpty && !line.countyCode.isEmpty {
            let old = counties[line.countyCode] ?? (line.county ?? line.countyCode, 0, 0)
            counties[line.countyCode] = (old.name, old.cases + line.cases, old.fen + line.amountFen)
        }
        let countyCodes = counties.keys.sorted()
        let yuan = t(" yuan", " 元")

        var body = ""
        body += "<p id=\"totals\" data-cases=\"\(totalCases)\" data-amount-fen=\"\(totalFen)\">"
            + HTML.escape(t("\(totalCases) cases; money at stake \(Fen(totalFen).yuanText) yuan.",
                            "共 \(totalCases) 个问题，涉及金额 \(Fen(totalFen).yuanText) 元。")) + "</p>\n"
        body += HTML.heading(t("Cases and money at stake", "问题数与涉及金额"))
        if byRule.isEmpty {
            body += HTML.none(t("No case found.", "未发现问题。"))
        } else {
            body += HTML.figure(id: "cases-by-rule", caption: t("Cases by rule", "按规则统计的问题数"),
                                SVGChart.bars(byRule.map { .init(label: ruleName($0.rule), value: Int64($0.cases), shown: String($0.cases)) }))
            body += HTML.figure(id: "money-by-rule", caption: t("Money at stake by rule (yuan)", "按规则统计的涉及金额（元）"),
                                SVGChart.bars(byRule.map { .init(label: ruleName($0.rule), value: $0.amountFen, shown: Fen($0.amountFen).yuanText + yuan) },
                                              color: SVGChart.palette[5]))
            body += HTML.figure(id: "cases-by-county", caption: t("Cases by county", "按县区统计的问题数"),
                                SVGChart.bars(countyCodes.map { .init(label: counties[$0]!.name, value: Int64(counties[$0]!.cases), shown: String(counties[$0]!.cases)) },
                                              color: SVGChart.palette[2]))
            body += HTML.figure(id: "money-by-county", caption: t("Money at stake by county (yuan)", "按县区统计的涉及金额（元）"),
                                SVGChart.bars(countyCodes.map { .init(label: counties[$0]!.name, value: counties[$0]!.fen, shown: Fen(counties[$0]!.fen).yuanText + yuan) },
                                              color: SVGChart.palette[3]))
        }

        body += HTML.heading(t("Summary", "汇总"))
        let totalWord = t("total", "合计")
        let lines = summary.filter { !$0.rule.isEmpty }
        body += HTML.table(
            id: "summary",
            headers: [t("rule", "规则"), t("code", "规则代码"), t("county code", "县区代码"), t("county", "县区"), t("cases", "问题数"), t("money at stake (yuan)", "涉及金额（元）")],
            rows: lines.map { line in
                [HTML.Cell(ruleName(line.rule)), HTML.Cell(line.rule), HTML.Cell(line.countyCode.isEmpty ? totalWord : line.countyCode),
                 HTML.Cell(line.county), .number(line.cases), .yuan(line.amountFen)]
            },
            rowKeys: lines.map { "\($0.rule)|\($0.countyCode)" },
            footer: [HTML.Cell(totalWord), HTML.Cell(""), HTML.Cell(""), HTML.Cell(""), .number(totalCases), .yuan(totalFen)])

        body += HTML.heading(t("Cases", "问题清单"))
        if cases.isEmpty {
            body += HTML.none(t("No case found.", "未发现问题。"))
        } else {
            body += HTML.table(
                id: "cases",
                headers: [t("rule", "规则"), t("place", "地点"), t("resident ID", "身份证号"), t("name", "姓名"), t("post", "岗位编号"),
                          t("days or month", "日期或月份"), t("money at stake (yuan)", "涉及金额（元）"), t("explanation", "说明")],
                rows: cases.map { one in
                    let days = [one.from, one.to].compactMap { $0 }.joined(separator: t(" to ", " 至 "))
                    return [HTML.Cell(ruleName(one.rule)),
                            HTML.Cell([one.county, one.township, one.village].compactMap { $0 }.joined(separator: " "), wrap: .atSpaces),
                            HTML.Cell(one.idNumber.map { reveal ? $0 : ((try? ResidentID($0))?.masked ?? $0) }, wrap: .never),
                            HTML.Cell(one.name, wrap: .never), HTML.Cell(one.postID, wrap: .never), HTML.Cell(one.month ?? days), HTML.Cell(one.amountFen.map { Fen($0).yuanText }, numeric: true),
                            HTML.Cell(one.explanation(lang))]
                },
                rowKeys: cases.map(\.rule))
        }

        let found = Set(cases.map(\.rule))
        let cited = rules.filter { found.contains($0.code) }
        if !cited.isEmpty {
            body += HTML.heading(t("Basis (依据)", "依据"))
            body += HTML.table(id: "basis", headers: [t("rule", "规则"), t("code", "规则代码"), t("basis", "依据")],
                               rows: cited.map { [HTML.Cell($0.titleZh), HTML.Cell($0.code), HTML.Cell($0.basis)] })
        }
        return HTML.page(lang: lang, title: t("Audit report: rural public-welfare posts", "乡村公益性岗位查处报告"), subtitle: covers, body: body)
    }
}
