import Postgres

/// Public notices (公示, SPEC §13): the intended holder of a post publicised for the policy's
/// notice days before the hire; objections recorded during the notice and each resolved once.
/// Every change takes the post's row lock, as `hire` does, so an objection and a hire of the
/// same post never pass each other.
public enum Notices {
    /// A notice with its post, person and objections summed up, as every command shows it.
    static let columns = """
        n.id, n.post_id, n.id_number, pe.name, n.from_on::text, n.to_on::text, n.days, n.contact,
        to_char(n.published_at, 'YYYY-MM-DD') AS published_on, p.region_code, r.name AS region_name, p.post_type, p.need, p.developer,
        (SELECT count(*) FROM notice_objection o WHERE o.notice_id = n.id) AS objections,
        (SELECT count(*) FROM notice_objection o WHERE o.notice_id = n.id AND o.finding IS NULL) AS open_objections,
        (SELECT count(*) FROM notice_objection o WHERE o.notice_id = n.id AND o.finding = 'upheld') AS upheld
        """
    static let from = """
        FROM notice n JOIN post p ON p.id = n.post_id JOIN region r ON r.code = p.region_code
        LEFT JOIN person pe ON pe.id_number = n.id_number
        """

    /// Where a notice stands on a day: `scheduled`, `running` or `ended`, and whether it clears
    /// (`upheld` or `objection-open` when it does not).
    public static func state(_ notice: Row, on day: Day) -> String {
        if Int(notice["upheld"] ?? "0") ?? 0 > 0 { return "upheld" }
        if Int(notice["open_objections"] ?? "0") ?? 0 > 0 { return "objection-open" }
        guard let from = notice["from_on"].flatMap(Day.init(iso:)), let to = notice["to_on"].flatMap(Day.init(iso:)) else { return "" }
        return day < from ? "scheduled" : (day <= to ? "running" : "ended")
    }

    /// `notice publish --post P --person ID --from D [--days N] [--contact TEXT]`. The days are the
    /// policy's in force on D in the post's region unless given (never fewer); the person must
    /// have applied for the post, and the post must take applications on D. Two notices of one
    /// post may not run at once unless an objection to the earlier one was upheld.
    public static func publish(_ connection: Connection, post id: String, person: ResidentID, from: Day, days: Int?,
                               contact: String?) throws -> Row {
        if let days, !(1...365).contains(days) {
            throw AppError.badInput(Text(en: "--days must be 1 to 365", zh: "--days 应为 1 至 365"))
        }
        if let contact, contact.trimmingWhitespace().isEmpty {
            throw AppError.badInput(Text(en: "--contact must say where objections go", zh: "--contact 需写明异议受理单位及联系方式"))
        }
        return try Database.mapped {
            try connection.transaction {
                let post = try Posts.find(connection, id, lock: true)
                let person = try Persons.find(connection, person)
                let who = "\(person.name) (\((try? ResidentID(person.idNumber))?.masked ?? ""))"
                let closed = post.closedOn.map { from >= $0 } ?? false
                if post.rejectedOn != nil || closed || from < post.proposedOn {
                    throw Applications.notTakingApplications(post, from)
                }
                let required = Int(try connection.query("SELECT notice_days_on($1, $2::date) AS d", [post.regionCode, from.iso])[0]["d"] ?? "") ?? 0
                guard let days = days ?? (required > 0 ? required : nil) else {
                    throw AppError.badInput(Text(
                        en: "the policy in force on \(from) asks for no notice in this county (notice days 0): give --days N to publicise anyway",
                        zh: "\(from) 本县执行的政策未要求公示（公示天数为0）：如仍需公示，请用 --days 指定天数"), code: "NOTICE_DAYS")
                }
                if days < required {
                    throw AppError.badInput(Text(en: "the policy in force on \(from) requires \(required) days' notice: --days \(days) is too short",
                                                 zh: "\(from) 执行的政策要求公示 \(required) 天：--days \(days) 不足"), code: "NOTICE_DAYS")
                }
                guard try !connection.query("SELECT 1 FROM application WHERE post_id = $1 AND id_number = $2",
                                            [id, person.idNumber]).isEmpty else {
                    throw AppError(.rule, code: "NO_APPLICATION", Text(
                        en: "\(who) has not applied for post \(id): record the application first (`apply --post \(id) --person ID`); a post is filled from its applicants",
                        zh: "\(who) 未报名岗位 \(id)：请先登记报名（`apply --post \(id) --person 身份证号`）；岗位须从报名人员中选聘"))
                }
                let to = from.adding(days: days - 1)
                if let other = try connection.query("""
                    SELECT n.id, pe.name, n.from_on::text, n.to_on::text FROM notice n LEFT JOIN person pe ON pe.id_number = n.id_number
                    WHERE n.post_id = $1 AND n.from_on <= $3::date AND n.to_on >= $2::date
                      AND NOT EXISTS (SELECT 1 FROM notice_objection o WHERE o.notice_id = n.id AND o.finding = 'upheld')
                    ORDER BY n.from_on LIMIT 1
                    """, [id, from.iso, to.iso]).first {
                    throw AppError(.rule, code: "NOTICE_OVERLAP", Text(
                        en: "notice \(other["id"] ?? "") of \(other["name"] ?? "") for post \(id) runs \(other["from_on"] ?? "") to \(other["to_on"] ?? ""): a post has one intended holder at a time; publish after it ends, or once an objection to it is upheld",
                        zh: "岗位 \(id) 的公示 \(other["id"] ?? "")（\(other["name"] ?? "")）期间为 \(other["from_on"] ?? "") 至 \(other["to_on"] ?? "")：同一岗位同一时间只能公示一名拟聘人员；请在其结束后或异议成立后再发布"))
                }
                let notice = try connection.query("""
                    INSERT INTO notice (county_code, post_id, id_number, from_on, days, contact)
                    VALUES ($1, $2, $3, $4::date, $5, $6) RETURNING id
                    """, [post.countyCode, id, person.idNumber, from.iso, days,
                          (contact ?? post.developer).trimmingWhitespace()])[0]
                return try find(connection, notice["id"] ?? "")
            }
        }
    }

    /// The notice's row (with its post and person); NOT_FOUND when there is none the operator sees.
    public static func find(_ connection: Connection, _ id: String) throws -> Row {
        guard let number = Int64(id), number > 0 else {
            throw AppError.badInput(Text(en: "'\(id)' is not a notice number", zh: "“\(id)”不是公示编号"))
        }
        let rows = try Database.mapped { try connection.query("SELECT \(columns) \(from) WHERE n.id = $1", [number]) }
        guard let row = rows.first else {
            throw AppError.notFound(Text(en: "there is no notice \(id) in your region: `notice list` shows them",
                                         zh: "您的管辖区域内没有编号为 \(id) 的公示：可用 `notice list` 查看"))
        }
        return row
    }

    /// The notice's objections, oldest first.
    public static func objections(_ connection: Connection, _ id: String) throws -> [Row] {
        try Database.mapped {
            try connection.query("""
                SELECT id, raised_on::text, reason, finding, note, resolved_on::text FROM notice_objection
                WHERE notice_id = $1 ORDER BY id
                """, [Int64(id) ?? 0])
        }
    }

    /// `notice object N --reason TEXT [--on D]`: recorded when D lies within the notice.
    public static func object(_ connection: Connection, notice id: String, reason: String, on day: Day) throws -> Row {
        guard !reason.trimmingWhitespace().isEmpty else {
            throw AppError.badInput(Text(en: "--reason must say what the objection is", zh: "--reason 需写明异议内容"))
        }
        return try Database.mapped {
            try connection.transaction {
                let notice = try lockedNotice(connection, id)
                guard let from = notice["from_on"].flatMap(Day.init(iso:)), let to = notice["to_on"].flatMap(Day.init(iso:)),
                      from <= day, day <= to else {
                    throw AppError(.rule, code: "NOTICE_CLOSED", Text(
                        en: "notice \(id) runs \(notice["from_on"] ?? "") to \(notice["to_on"] ?? ""): an objection is raised during it (give --on with the day it was received)",
                        zh: "公示 \(id) 期间为 \(notice["from_on"] ?? "") 至 \(notice["to_on"] ?? "")：异议应在公示期内提出（可用 --on 填写收到异议的日期）"))
                }
                try connection.command("""
                    INSERT INTO notice_objection (county_code, notice_id, raised_on, reason) VALUES ($1, $2, $3::date, $4)
                    """, [notice["county_code"], Int64(id), day.iso, reason.trimmingWhitespace()])
                return try find(connection, id)
            }
        }
    }

    /// `notice resolve N --upheld|--dismissed --note TEXT [--objection K] [--on D]`: the finding on
    /// every unresolved objection of the notice (or on objection K only).
    public static func resolve(_ connection: Connection, notice id: String, upheld: Bool, note: String, objection: Int64?,
                               on day: Day) throws -> Row {
        guard !note.trimmingWhitespace().isEmpty else {
            throw AppError.badInput(Text(en: "--note must record the finding", zh: "--note 需写明处理意见"))
        }
        return try Database.mapped {
            try connection.transaction {
                _ = try lockedNotice(connection, id)
                let open = try connection.query("""
                    SELECT id, raised_on::text FROM notice_objection WHERE notice_id = $1 AND finding IS NULL AND ($2::bigint IS NULL OR id = $2)
                    ORDER BY id FOR UPDATE
                    """, [Int64(id), objection])
                guard !open.isEmpty else {
                    throw AppError(.rule, code: "NO_OPEN_OBJECTION", Text(
                        en: objection.map { "objection \($0) of notice \(id) is not open: `notice list` shows the notice's objections" }
                            ?? "notice \(id) has no unresolved objection",
                        zh: objection.map { "公示 \(id) 没有待处理的异议 \($0)" } ?? "公示 \(id) 没有待处理的异议"))
                }
                if let late = open.compactMap({ $0["raised_on"].flatMap(Day.init(iso:)) }).max(), day < late {
                    throw AppError.badInput(Text(en: "--on \(day) is before the objection was raised (\(late))",
                                                 zh: "--on \(day) 早于异议提出日期（\(late)）"))
                }
                try connection.command("""
                    UPDATE notice_objection SET finding = $3, note = $4, resolved_on = $5::date
                    WHERE notice_id = $1 AND finding IS NULL AND ($2::bigint IS NULL OR id = $2)
                    """, [Int64(id), objection, upheld ? "upheld" : "dismissed", note.trimmingWhitespace(), day.iso])
                return try find(connection, id)
            }
        }
    }

    /// The notice, its post's row locked first (the lock order `hire` keeps).
    static func lockedNotice(_ connection: Connection, _ id: String) throws -> Row {
        let notice = try find(connection, id)
        _ = try Posts.find(connection, notice["post_id"] ?? "", lock: true)
        return try connection.query("SELECT n.id, n.county_code, n.from_on::text, n.to_on::text FROM notice n WHERE n.id = $1 FOR UPDATE",
                                    [Int64(id)])[0]
    }

    /// `notice list [--post P] [--region C]`: newest first.
    public static func list(_ connection: Connection, post: String?, region: String?) throws -> [Row] {
        let prefix = try Regions.prefix(connection, region)
        return try Database.mapped {
            try connection.query("""
                SELECT \(columns) \(from)
                WHERE p.region_code LIKE $1 || '%' AND ($2::text IS NULL OR n.post_id = $2)
                ORDER BY n.from_on DESC, n.id DESC
                """, [prefix, post])
        }
    }

    /// What the printed sheet shows: the notice, the post's place, type and pay in force on the
    /// notice's first day, the person's village and category.
    public static func sheet(_ connection: Connection, _ id: String) throws -> NoticeSheet {
        let notice = try find(connection, id)
        let facts = try Database.mapped {
            try connection.query("""
                SELECT t.name AS township, CASE WHEN r.level = 5 THEN r.name END AS village, pt.label_zh AS post_type_zh,
                       fc.label_zh AS funding_zh, s.monthly_fen, s.social_insurance_fen,
                       v.name AS person_village, pc.label_zh AS category_zh, lc.label_zh AS capacity_zh, c.name AS county
                FROM notice n JOIN post p ON p.id = n.post_id JOIN region r ON r.code = p.region_code
                JOIN region t ON t.code = rpad(left(p.region_code, 9), 12, '0')
                LEFT JOIN region c ON c.code = p.county_code || '000000'
                JOIN post_type pt ON pt.code = p.post_type JOIN funding_channel fc ON fc.code = p.funding_channel
                LEFT JOIN person pe ON pe.id_number = n.id_number
                LEFT JOIN region v ON v.code = pe.village_code
                LEFT JOIN person_category pc ON pc.code = pe.category
                LEFT JOIN labour_capacity lc ON lc.code = pe.labour_capacity
                LEFT JOIN LATERAL pay_standard_on(p.region_code, p.post_type, n.from_on) s ON true
                WHERE n.id = $1
                """, [Int64(id)])[0]
        }
        return NoticeSheet(
            number: notice["id"] ?? "", postID: notice["post_id"] ?? "", county: facts["county"] ?? "",
            township: facts["township"] ?? "", village: facts["village"], postType: facts["post_type_zh"] ?? "",
            funding: facts["funding_zh"] ?? "", duties: notice["need"] ?? "", developer: notice["developer"] ?? "",
            monthly: facts["monthly_fen"].flatMap { Int64($0) }.map(Fen.init),
            socialInsurance: facts["social_insurance_fen"].flatMap { Int64($0) }.map(Fen.init),
            name: notice["name"] ?? "", maskedID: notice["id_number"].flatMap { try? ResidentID($0) }?.masked ?? "",
            personVillage: facts["person_village"] ?? "", category: facts["category_zh"] ?? "", capacity: facts["capacity_zh"] ?? "",
            from: Day(iso: notice["from_on"] ?? "")!, to: Day(iso: notice["to_on"] ?? "")!, days: Int(notice["days"] ?? "") ?? 0,
            contact: notice["contact"] ?? "", publishedOn: notice["published_on"] ?? "")
    }
}
