/// The sheet posted in the village during a notice (公示, SPEC §13): one self-contained HTML page
/// for an A4 sheet — inline CSS, no script, font or image from anywhere — in Chinese, as it is
/// posted, with English beneath the headings for readers of `--lang en`. The resident ID is
/// masked: the sheet hangs in public.
public struct NoticeSheet: Sendable {
    public let number: String
    public let postID: String
    public let county: String
    public let township: String
    public let village: String?
    public let postType: String
    public let funding: String
    public let duties: String
    public let developer: String
    public let monthly: Fen?
    public let socialInsurance: Fen?
    public let name: String
    public let maskedID: String
    public let personVillage: String
    public let category: String
    public let capacity: String
    public let from: Day
    public let to: Day
    public let days: Int
    public let contact: String
    public let publishedOn: String

    public init(number: String, postID: String, county: String, township: String, village: String?, postType: String,
                funding: String, duties: String, developer: String, monthly: Fen?, socialInsurance: Fen?, name: String,
                maskedID: String, personVillage: String, category: String, capacity: String, from: Day, to: Day, days: Int,
                contact: String, publishedOn: String) {
        self.number = number
        self.postID = postID
        self.county = county
        self.township = township
        self.village = village
        self.postType = postType
        self.funding = funding
        self.duties = duties
        self.developer = developer
        self.monthly = monthly
        self.socialInsurance = socialInsurance
        self.name = name
        self.maskedID = maskedID
        self.personVillage = personVillage
        self.category = category
        self.capacity = capacity
        self.from = from
        self.to = to
        self.days = days
        self.contact = contact
        self.publishedOn = publishedOn
    }

    /// `2026年1月5日`
    static func chinese(_ day: Day) -> String { "\(day.year)年\(day.month)月\(day.day)日" }

    /// The page. Every value from the database is escaped.
    public var html: String {
        let escape = Self.escape
        let place = [county, township, village].compactMap { $0 }.filter { !$0.isEmpty }.joined(separator: " ")
        let pay = monthly.map { "每月岗位补贴 \($0.yuanText) 元" + (socialInsurance.map { $0.value > 0 ? "，社保补贴 \($0.yuanText) 元" : "" } ?? "") }
            ?? "以县级待遇标准为准"
        let payEn = monthly.map { "post subsidy \($0.yuanText) yuan a month" + (socialInsurance.map { $0.value > 0 ? ", social-insurance subsidy \($0.yuanText) yuan" : "" } ?? "") }
            ?? "as the county's pay standard sets"
        func row(_ zh: String, _ en: String, _ value: String) -> String {
            "<tr><th>\(zh)<br><small>\(en)</small></th><td>\(value)</td></tr>"
        }
        return """
            <!DOCTYPE html>
            <html lang="zh-CN">
            <head>
            <meta charset="utf-8">
            <title>乡村公益性岗位拟聘人员公示 \(escape(postID))</title>
            <style>
            @page { size: A4; margin: 18mm 16mm; }
            * { box-sizing: border-box; }
            body { margin: 0; font-family: "Noto Serif CJK SC", "Source Han Serif SC", "SimSun", serif; color: #000; font-size: 12pt; line-height: 1.6; }
            .sheet { width: 178mm; margin: 0 auto; }
            h1 { text-align: center; font-size: 20pt; margin: 0 0 2mm; letter-spacing: 0.1em; }
            .en { text-align: center; font-size: 10pt; margin: 0 0 6mm; color: #333; }
            p.lead { text-indent: 2em; margin: 0 0 5mm; }
            table { width: 100%; border-collapse: collapse; margin: 0 0 6mm; }
            th, td { border: 0.3mm solid #000; padding: 2mm 3mm; vertical-align: top; text-align: left; }
            th { width: 38mm; font-weight: bold; background: #f2f2f2; }
            small { font-weight: normal; font-size: 8.5pt; color: #333; }
            .period { font-size: 13pt; font-weight: bold; }
            .foot { margin-top: 10mm; text-align: right; }
            .basis { margin-top: 8mm; font-size: 9pt; color: #333; border-top: 0.2mm solid #999; padding-top: 2mm; }
            </style>
            </head>
            <body>
            <div class="sheet">
            <h1>乡村公益性岗位拟聘人员公示</h1>
            <p class="en">Public notice of the intended holder of a rural public-welfare post · No. \(escape(number))</p>
            <p class="lead">根据乡村公益性岗位“按需设岗、以岗聘任、在岗领补、有序退岗”的管理要求，经个人报名、资格审查，拟聘用以下人员，现予公示。公示期内如有异议，请向下列单位反映。</p>
            <table>
            \(row("岗位编号", "post", escape(postID)))
            \(row("岗位地点", "place", escape(place)))
            \(row("岗位类型", "type", escape(postType)))
            \(row("岗位职责", "duties", escape(duties)))
            \(row("开发主体", "developer", escape(developer)))
            \(row("资金渠道", "funding", escape(funding)))
            \(row("待遇标准", "pay", escape(pay) + "<br><small>" + escape(payEn) + "</small>"))
            \(row("拟聘人员", "name", escape(name)))
            \(row("身份证号", "resident ID", escape(maskedID)))
            \(row("所在村", "village", escape(personVillage)))
            \(row("人员类别", "category", escape(category) + (capacity.isEmpty ? "" : "（" + escape(capacity) + "）")))
            \(row("公示期", "notice period", "<span class=\"period\">\(Self.chinese(from)) 至 \(Self.chinese(to))</span>（\(days) 天）<br><small>\(from.iso) to \(to.iso), \(days) days</small>"))
            \(row("异议受理", "objections to", escape(contact)))
            </table>
            <p class="lead">公示期间，任何单位和个人均可实名反映情况。反映问题应实事求是，受理单位将依规调查核实并予以答复。公示期满无异议或异议不成立的，按程序办理聘用手续。</p>
            <p class="foot">\(escape(developer))<br>\(escape(publishedOn))</p>
            <p class="basis">依据：人社部发〔2021〕26号（十二）健全“按需设岗、以岗聘任、在岗领补、有序退岗”管理机制；公开招聘、公示\(days)天无异议后聘用。</p>
            </div>
            </body>
            </html>

            """
    }

    /// Text for HTML (one escaping for every page the tool writes: `HTML.escape`).
    static func escape(_ text: String) -> String { HTML.escape(text) }
}
