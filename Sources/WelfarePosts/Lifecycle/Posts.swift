import Postgres

/// Posts (岗位), set up by need: proposed by a township, approved by the county against its pay
/// standard and quota, closed when no longer needed.
public enum Posts {
    static let columns = """
        p.id, p.county_code, p.region_code, r.name AS region_name, p.post_type, p.funding_channel, p.developer,
        p.need, p.state, p.proposed_on::text, p.approved_on::text, p.rejected_on::text, p.reject_reason,
        p.closed_on::text, p.close_reason
        """

    public static func propose(_ connection: Connection, region text: String, type: String, funding: String,
                               developer: String, need: String, on day: Day = .today()) throws -> Row {
        let region = try Regions.require(connection, text)
        guard region.level >= .township else {
            throw AppError.badInput(Text(en: "a post is a seat of work in a township or a village; \(region.value) is neither",
                                         zh: "岗位应设在乡镇或村；\(region.value) 不是乡镇或村"), code: "POST_REGION")
        }
        let vocabulary = try Vocabulary.load(connection)
        let type = try vocabulary.require(.postType, type), funding = try vocabulary.require(.fundingChannel, funding)
        for (name, value) in [("--developer", developer), ("--need", need)] where value.trimmingWhitespace().isEmpty {
            throw AppError.badInput(Text(en: "\(name) must say something", zh: "\(name) 不能为空"))
        }
        let county = region.countyCode!
        return try Database.mapped {
            try connection.transaction {
                let serial = try connection.query("""
                    INSERT INTO post_serial AS s (county_code, last_serial) VALUES ($1, 1)
                    ON CONFLICT (county_code) DO UPDATE SET last_serial = s.last_serial + 1 RETURNING last_serial
                    """, [county])[0]
                let number = try serial.decode("last_serial", as: Int.self)
                let id = county + "-" + String(repeating: "0", count: max(0, 5 - String(number).count)) + String(number)
                try connection.command("""
                    INSERT INTO post (id, county_code, region_code, post_type, funding_channel, developer, need, proposed_on)
                    VALUES ($1, $2, $3, $4, $5, $6, $7, $8::date)
                    """, [id, county, region.value, type, funding, developer.trimmingWhitespace(), need.trimmingWhitespace(), day.iso])
                return try find(connection, id)
            }
        }
    }

    /// The post's row; NOT_FOUND when there is none. `lock` takes it FOR UPDATE.
    public static func find(_ connection: Connection, _ id: String, lock: Bool = false) throws -> Row {
        let rows = try Database.mapped {
            try connection.query("SELECT \(columns) FROM post p JOIN region r ON r.code = p.region_code WHERE p.id = $1"
                                 + (lock ? " FOR UPDATE OF p" : ""), [id])
        }
        guard let row = rows.first else {
            // Row-level security hides posts of other regions: say so rather than "not found".
            if try Database.mapped({ try connection.query("SELECT post_exists($1) AS e", [id])[0]["e"] }) == "t" {
                throw Access.outsideRegion(Text(en: "post \(id)", zh: "岗位 \(id) "))
            }
            throw AppError.notFound(Text(en: "there is no post \(id): `post list` shows the posts", zh: "没有编号为 \(id) 的岗位：可用 `post list` 查看"))
        }
        return row
    }

    static func wrongState(_ post: Row, _ action: Text) -> AppError {
        let state = post["state"] ?? ""
        return AppError(.rule, code: "POST_STATE", Text(
            en: "post \(post["id"] ?? "") is \(state); only a proposed post can be \(action.en)",
            zh: "岗位 \(post["id"] ?? "") 当前为“\(state)”状态；只有待审批的岗位才能\(action.zh)"))
    }

    /// Approval needs a pay standard in force for the post's type and room in the county's quota
    /// of the approval year. Approvals in one county wait for each other, so two cannot both
    /// take the last place.
    public static func approve(_ connection: Connection, _ id: String, on day: Day = .today()) throws -> Row {
        try Database.mapped {
            try connection.transaction {
                let post = try find(connection, id, lock: true)
                guard post["state"] == "proposed" else { throw wrongState(post, Text(en: "approved", zh: "审批")) }
                let county = post["county_code"] ?? ""
                try connection.query("SELECT pg_advisory_xact_lock(hashtext('quota/' || $1))", [county])
                let facts = try connection.query("""
                    SELECT EXISTS (SELECT 1 FROM pay_standard_on($1, $2, $3::date)) AS paid,
                           (SELECT posts FROM post_quota WHERE county_code = $4 || '000000' AND year = $5) AS quota,
                           (SELECT count(*) FROM post WHERE county_code = $4 AND state = 'approved') AS open_posts
                    """, [post["region_code"], post["post_type"], day.iso, county, day.year])[0]
                guard facts["paid"] == "t" else {
                    throw AppError(rule: .payStandard, Text(
                        en: "no pay standard for \(post["post_type"] ?? "") posts is in force on \(day) in county \(county): set one with `policy pay` before approving",
                        zh: "\(day) 县 \(county) 没有 \(post["post_type"] ?? "") 岗位的待遇标准：请先用 `policy pay` 设置再审批"))
                }
                if let quota = Int(facts["quota"] ?? ""), let open = Int(facts["open_posts"] ?? ""), open + 1 > quota {
                    throw AppError(rule: .quota, Text(
                        en: "county \(county) already has \(open) approved posts and its \(day.year) quota is \(quota): close a post or raise the quota with `policy quota`",
                        zh: "县 \(county) 已有 \(open) 个在册岗位，\(day.year) 年总量为 \(quota)：请先撤销岗位或用 `policy quota` 调整总量"))
                }
                try connection.command("UPDATE post SET state = 'approved', approved_on = $2::date WHERE id = $1", [id, day.iso])
                return try find(connection, id)
            }
        }
    }

    public static func reject(_ connection: Connection, _ id: String, reason: String, on day: Day = .today()) throws -> Row {
        guard !reason.trimmingWhitespace().isEmpty else {
            throw AppError.badInput(Text(en: "--reason must say why", zh: "--reason 需说明原因"))
        }
        return try Database.mapped {
            try connection.transaction {
                let post = try find(connection, id, lock: true)
                guard post["state"] == "proposed" else { throw wrongState(post, Text(en: "rejected", zh: "驳回")) }
                try connection.command("UPDATE post SET state = 'rejected', rejected_on = $2::date, reject_reason = $3 WHERE id = $1",
                                       [id, day.iso, reason])
                return try find(connection, id)
            }
        }
    }

    /// Closes a post from `day` on (the first day it no longer exists). It must be vacant from
    /// that day; `exitHolder` first ends the holder's placement the day before, as `post-closed`.
    public static func close(_ connection: Connection, _ id: String, on day: Day, reason: String, exitHolder: Bool) throws -> Row {
        guard !reason.trimmingWhitespace().isEmpty else {
            throw AppError.badInput(Text(en: "--reason must say why", zh: "--reason 需说明原因"))
        }
        return try Database.mapped {
            try connection.transaction {
                let post = try find(connection, id, lock: true)
                guard post["state"] == "approved" else {
                    throw AppError(.rule, code: "POST_STATE", Text(
                        en: "post \(id) is \(post["state"] ?? ""); only an approved post can be closed (reject a proposed one)",
                        zh: "岗位 \(id) 当前为“\(post["state"] ?? "")”；只有在册岗位才能撤销（待审批的请驳回）"))
                }
                if let approved = post["approved_on"].flatMap(Day.init(iso:)), day <= approved {
                    throw AppError.badInput(Text(en: "--on must be after the approval date \(approved)", zh: "--on 须晚于审批日期 \(approved)"))
                }
                let holders = try connection.query("""
                    SELECT pl.id, pl.id_number, pe.name, pl.start_on::text FROM placement pl LEFT JOIN person pe ON pe.id_number = pl.id_number
                    WHERE pl.post_id = $1 AND (pl.exit_on IS NULL OR pl.exit_on >= $2::date) FOR UPDATE OF pl
                    """, [id, day.iso])
                for holder in holders {
                    let who = "\(holder["name"] ?? "") (\((try? ResidentID(holder["id_number"] ?? ""))?.masked ?? ""))"
                    guard exitHolder, let start = holder["start_on"].flatMap(Day.init(iso:)), start < day else {
                        throw AppError(.rule, code: "POST_OCCUPIED", Text(
                            en: "post \(id) is held by \(who) from \(holder["start_on"] ?? "") on; exit them first, or give --exit-holder to end their placement on the day before closing",
                            zh: "岗位 \(id) 自 \(holder["start_on"] ?? "") 起由 \(who) 在岗；请先办理退岗，或加 --exit-holder 在撤销前一日为其退岗"))
                    }
                    try connection.command("UPDATE placement SET exit_on = $2::date, exit_reason = 'post-closed' WHERE id = $1",
                                           [holder["id"], day.adding(days: -1).iso])
                }
                try connection.command("UPDATE post SET state = 'closed', closed_on = $2::date, close_reason = $3 WHERE id = $1",
                                       [id, day.iso, reason])
                return try find(connection, id)
            }
        }
    }

    /// Posts under a region, by state, optionally only those vacant on a day; with the holder on
    /// that day.
    public static func list(_ connection: Connection, region: String?, state: String?, vacantOn: Day?, on day: Day) throws -> [Row] {
        let prefix = try Regions.prefix(connection, region)
        if let state, !["proposed", "approved", "rejected", "closed"].contains(state) {
            throw AppError.badInput(Text(en: "--state must be proposed, approved, rejected or closed",
                                         zh: "--state 应为 proposed、approved、rejected 或 closed"))
        }
        return try Database.mapped {
            try connection.query("""
                SELECT \(columns), h.id_number AS holder_id, h.name AS holder_name
                FROM post p JOIN region r ON r.code = p.region_code
                LEFT JOIN LATERAL (SELECT pl.id_number, pe.name FROM placement pl LEFT JOIN person pe ON pe.id_number = pl.id_number
                  WHERE pl.post_id = p.id AND pl.start_on <= $3::date AND (pl.exit_on IS NULL OR pl.exit_on >= $3::date)) h ON true
                WHERE p.region_code LIKE $1 || '%' AND ($2::text IS NULL OR p.state = $2)
                  AND (NOT $4 OR (p.state = 'approved' AND h.id_number IS NULL))
                ORDER BY p.id
                """, [prefix, state, (vacantOn ?? day).iso, vacantOn != nil])
        }
    }

    /// Everyone who has held the post, oldest first.
    public static func holders(_ connection: Connection, _ id: String) throws -> [Row] {
        try Database.mapped {
            try connection.query("""
                SELECT pl.id_number, pe.name, pl.start_on::text, pl.exit_on::text, pl.exit_reason,
                       (SELECT max(c.end_on)::text FROM contract c WHERE c.placement_id = pl.id) AS contract_end
                FROM placement pl LEFT JOIN person pe ON pe.id_number = pl.id_number
                WHERE pl.post_id = $1 ORDER BY pl.start_on
                """, [id])
        }
    }
}
