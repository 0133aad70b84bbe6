import Postgres

/// Posts (岗位), set up by need: proposed by a township, approved by the county against its pay
/// standard and quota, closed when no longer needed. Every transition has a date, the dates
/// keep their order (proposed ≤ approved or rejected < closed; the constraint
/// `post_dates_in_order` holds it for every writer), and a post's state on a day follows from
/// them through the one SQL function `post_state_on`.
public enum Posts {
    public static func propose(_ connection: Connection, region text: String, type: String, funding: String,
                               developer: String, need: String, on day: Day = .today()) throws -> Post {
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
                // The next serial free: a ledger's imported IDs (`post import`) are skipped.
                let serial = try connection.query("""
                    INSERT INTO post_serial AS s (county_code, last_serial)
                    VALUES ($1, (SELECT n FROM post_free_serials($1, 0, 1, '{}') n))
                    ON CONFLICT (county_code) DO UPDATE SET last_serial = (SELECT n FROM post_free_serials($1, s.last_serial, 1, '{}') n)
                    RETURNING post_id_of(county_code, last_serial) AS id
                    """, [county])[0]
                let id = try serial.decode("id", as: String.self)
                try connection.command("""
                    INSERT INTO post (id, county_code, region_code, post_type, funding_channel, developer, need, proposed_on)
                    VALUES ($1, $2, $3, $4, $5, $6, $7, $8::date)
                    """, [id, county, region.value, type, funding, developer.trimmingWhitespace(), need.trimmingWhitespace(), day])
                return try find(connection, id, on: day)
            }
        }
    }

    /// The post, with its state on `day` (default today); NOT_FOUND when there is none. `lock`
    /// takes it FOR UPDATE.
    public static func find(_ connection: Connection, _ id: String, on day: Day = .today(), lock: Bool = false) throws -> Post {
        let rows = try Database.mapped {
            try connection.query("SELECT \(Post.columns(day: "$2::date")) FROM post p JOIN region r ON r.code = p.region_code WHERE p.id = $1"
                                 + (lock ? " FOR UPDATE OF p" : ""), [id, day])
        }
        guard let row = rows.first else {
            // Row-level security hides posts of other regions: say so rather than "not found".
            if try Database.mapped({ try connection.query("SELECT post_exists($1) AS e", [id])[0]["e"] }) == "t" {
                throw Access.outsideRegion(Text(en: "post \(id)", zh: "岗位 \(id) "))
            }
            throw AppError.notFound(Text(en: "there is no post \(id): `post list` shows the posts", zh: "没有编号为 \(id) 的岗位：可用 `post list` 查看"))
        }
        return try Database.mapped { try Post(row: row) }
    }

    static func wrongState(_ post: Post, _ action: Text) -> AppError {
        let state = post.lastTransition.rawValue
        return AppError(.rule, code: "POST_STATE", Text(
            en: "post \(post.id) is \(state); only a proposed post can be \(action.en)",
            zh: "岗位 \(post.id) 当前为“\(state)”状态；只有待审批的岗位才能\(action.zh)"))
    }

    /// POST_DATES: a transition dated before the one it follows.
    static func outOfOrder(_ post: Post, _ action: Text, _ day: Day, after earlier: Day, _ what: Text) -> AppError {
        AppError(.rule, code: "POST_DATES", Text(
            en: "post \(post.id) was \(what.en) on \(earlier): it cannot be \(action.en) on \(day), before that (a post's dates keep their order)",
            zh: "岗位 \(post.id) 于 \(earlier) \(what.zh)：不能在此之前的 \(day) \(action.zh)（岗位各环节日期须依次排列）"))
    }

    /// Approval needs a pay standard in force for the post's type on the approval date and room
    /// in the county's quota of that year on every day from the approval date to the year's end,
    /// counting the posts in force on each day, whenever they were typed in. Approvals in one
    /// county wait for each other, so two cannot both take the last place.
    public static func approve(_ connection: Connection, _ id: String, on day: Day = .today()) throws -> Post {
        try Database.mapped {
            try connection.transaction {
                let post = try find(connection, id, on: day, lock: true)
                guard post.lastTransition == .proposed else { throw wrongState(post, Text(en: "approved", zh: "审批")) }
                guard day >= post.proposedOn else {
                    throw outOfOrder(post, Text(en: "approved", zh: "审批"), day, after: post.proposedOn, Text(en: "proposed", zh: "申报"))
                }
                let county = post.countyCode
                try connection.query("SELECT pg_advisory_xact_lock(hashtext('quota/' || $1))", [county])
                let facts = try connection.query("""
                    SELECT EXISTS (SELECT 1 FROM pay_standard_on($1, $2, $3::date)) AS paid,
                           (SELECT posts FROM post_quota WHERE county_code = $4 || '000000' AND year = $5) AS quota
                    """, [post.regionCode, post.postType, day, county, day.year])[0]
                guard facts["paid"] == "t" else {
                    throw AppError(rule: .payStandard, Text(
                        en: "no pay standard for \(post.postType) posts is in force on \(day) in county \(county): set one with `policy pay` before approving",
                        zh: "\(day) 县 \(county) 没有 \(post.postType) 岗位的待遇标准：请先用 `policy pay` 设置再审批"))
                }
                if let quota = try facts.decodeIfPresent("quota", as: Int.self) {
                    let busiest = try mostInForce(connection, county: county, from: day, to: Day(year: day.year, month: 12, day: 31)!)
                    if busiest.posts + 1 > quota {
                        throw AppError(rule: .quota, Text(
                            en: "county \(county) has \(busiest.posts) posts in force on \(busiest.day) and its \(day.year) quota is \(quota): an approval on \(day) would exceed it; close a post or raise the quota with `policy quota`",
                            zh: "县 \(county) 于 \(busiest.day) 有 \(busiest.posts) 个在册岗位，\(day.year) 年总量为 \(quota)：\(day) 审批将超出总量；请先撤销岗位或用 `policy quota` 调整总量"))
                    }
                }
                try connection.command("UPDATE post SET state = 'approved', approved_on = $2::date WHERE id = $1", [id, day])
                return try find(connection, id, on: day)
            }
        }
    }

    /// The most posts of a county in force on any one day from `from` to `to` (posts in force
    /// change only on approval and closing dates), and the first day it is reached.
    static func mostInForce(_ connection: Connection, county: String, from: Day, to: Day) throws -> (posts: Int, day: Day) {
        let row = try connection.query("""
            WITH days AS (
              SELECT $2::date AS d
              UNION SELECT approved_on FROM post WHERE county_code = $1 AND approved_on > $2::date AND approved_on <= $3::date
            )
            SELECT d.d AS day, (SELECT count(*) FROM post p WHERE p.county_code = $1
                                  AND post_state_on(p.proposed_on, p.approved_on, p.rejected_on, p.closed_on, d.d) = 'approved') AS posts
            FROM days d ORDER BY posts DESC, d.d LIMIT 1
            """, [county, from, to])[0]
        return (try row.decode("posts"), try row.decode("day"))
    }

    public static func reject(_ connection: Connection, _ id: String, reason: String, on day: Day = .today()) throws -> Post {
        guard !reason.trimmingWhitespace().isEmpty else {
            throw AppError.badInput(Text(en: "--reason must say why", zh: "--reason 需说明原因"))
        }
        return try Database.mapped {
            try connection.transaction {
                let post = try find(connection, id, on: day, lock: true)
                guard post.lastTransition == .proposed else { throw wrongState(post, Text(en: "rejected", zh: "驳回")) }
                guard day >= post.proposedOn else {
                    throw outOfOrder(post, Text(en: "rejected", zh: "驳回"), day, after: post.proposedOn, Text(en: "proposed", zh: "申报"))
                }
                try connection.command("UPDATE post SET state = 'rejected', rejected_on = $2::date, reject_reason = $3 WHERE id = $1",
                                       [id, day, reason])
                return try find(connection, id, on: day)
            }
        }
    }

    /// Closes a post from `day` on (the first day it no longer exists). It must be vacant from
    /// that day; `exitHolder` first ends the holder's placement the day before, as `post-closed`.
    public static func close(_ connection: Connection, _ id: String, on day: Day, reason: String, exitHolder: Bool) throws -> Post {
        guard !reason.trimmingWhitespace().isEmpty else {
            throw AppError.badInput(Text(en: "--reason must say why", zh: "--reason 需说明原因"))
        }
        return try Database.mapped {
            try connection.transaction {
                let post = try find(connection, id, on: day, lock: true)
                guard post.lastTransition == .approved, let approved = post.approvedOn else {
                    throw AppError(.rule, code: "POST_STATE", Text(
                        en: "post \(id) is \(post.lastTransition.rawValue); only an approved post can be closed (reject a proposed one)",
                        zh: "岗位 \(id) 当前为“\(post.lastTransition.rawValue)”；只有在册岗位才能撤销（待审批的请驳回）"))
                }
                guard day > approved else {
                    throw AppError(.rule, code: "POST_DATES", Text(
                        en: "post \(id) was approved on \(approved): --on, the first day it no longer exists, must be after that",
                        zh: "岗位 \(id) 于 \(approved) 审批：--on（撤销后的第一天）须晚于审批日期"))
                }
                let holders = try connection.query("""
                    SELECT pl.id, pl.id_number, pe.name, pl.start_on FROM placement pl LEFT JOIN person pe ON pe.id_number = pl.id_number
                    WHERE pl.post_id = $1 AND (pl.exit_on IS NULL OR pl.exit_on >= $2::date) FOR UPDATE OF pl
                    """, [id, day])
                for holder in holders {
                    let start: Day = try holder.decode("start_on")
                    let who = "\(holder["name"] ?? "") (\((try? ResidentID(holder["id_number"] ?? ""))?.masked ?? ""))"
                    guard exitHolder, start < day else {
                        throw AppError(.rule, code: "POST_OCCUPIED", Text(
                            en: "post \(id) is held by \(who) from \(start) on; exit them first, or give --exit-holder to end their placement on the day before closing",
                            zh: "岗位 \(id) 自 \(start) 起由 \(who) 在岗；请先办理退岗，或加 --exit-holder 在撤销前一日为其退岗"))
                    }
                    try connection.command("UPDATE placement SET exit_on = $2::date, exit_reason = 'post-closed' WHERE id = $1",
                                           [holder["id"], day.adding(days: -1)])
                }
                try connection.command("UPDATE post SET state = 'closed', closed_on = $2::date, close_reason = $3 WHERE id = $1",
                                       [id, day, reason])
                return try find(connection, id, on: day)
            }
        }
    }

    /// Posts under a region as they stood on a day (posts not yet proposed then are left out),
    /// by their state on that day, optionally only those vacant then (in force, nobody in post);
    /// with the holder on that day.
    public static func list(_ connection: Connection, region: String?, state: String?, vacant: Bool, on day: Day) throws -> [PostListing] {
        let prefix = try Regions.prefix(connection, region)
        if let state, PostState(rawValue: state) == nil {
            throw AppError.badInput(Text(en: "--state must be proposed, approved, rejected or closed",
                                         zh: "--state 应为 proposed、approved、rejected 或 closed"))
        }
        return try Database.mapped {
            try connection.query("""
                SELECT * FROM (
                  SELECT \(Post.columns(day: "$3::date")), h.id_number AS holder_id, h.name AS holder_name
                  FROM post p JOIN region r ON r.code = p.region_code
                  LEFT JOIN LATERAL (SELECT pl.id_number, pe.name FROM placement pl LEFT JOIN person pe ON pe.id_number = pl.id_number
                    WHERE pl.post_id = p.id AND pl.start_on <= $3::date AND (pl.exit_on IS NULL OR pl.exit_on >= $3::date)) h ON true
                  WHERE p.region_code LIKE $1 || '%'
                ) p
                WHERE p.state_on IS NOT NULL AND ($2::text IS NULL OR p.state_on = $2)
                  AND (NOT $4 OR (p.state_on = 'approved' AND p.holder_id IS NULL))
                ORDER BY p.id
                """, [prefix, state, day, vacant]).map { row in
                PostListing(post: try Post(row: row), holderID: row["holder_id"], holderName: row["holder_name"])
            }
        }
    }

    /// Everyone who has held the post, oldest first.
    public static func holders(_ connection: Connection, _ id: String) throws -> [Holding] {
        try Database.mapped {
            try connection.query("""
                SELECT pl.id_number, pe.name, pl.start_on, pl.exit_on, pl.exit_reason,
                       (SELECT max(c.end_on) FROM contract c WHERE c.placement_id = pl.id) AS contract_end
                FROM placement pl LEFT JOIN person pe ON pe.id_number = pl.id_number
                WHERE pl.post_id = $1 ORDER BY pl.start_on
                """, [id]).map(Holding.init(row:))
        }
    }
}
