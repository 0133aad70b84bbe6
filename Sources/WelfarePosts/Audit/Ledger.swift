import Postgres

/// 管理台账 (SPEC §8): the number of posts, who created them, the funding channel and the pay
/// standard — per post, summarised, and month by month — all as of any date.
public enum Ledger {
    /// Every post that existed (was proposed) on the day, with its state on that day, its pay
    /// standard in force, its holder, the contract covering the day (or the holder's latest),
    /// and the end of the holder's unbroken insurance cover that includes the day.
    public static func posts(_ connection: Connection, region: String?, asOf: Day) throws -> [LedgerPost] {
        let prefix = try Regions.prefix(connection, region)
        return try Database.mapped {
            try connection.query("""
                WITH \(standards)
                SELECT p.id, p.county_code, t.name AS township, CASE WHEN v.level = 5 THEN v.name END AS village,
                       p.post_type, p.funding_channel, p.developer, s.monthly_fen, s.social_insurance_fen,
                       \(stateOn("p", "$2::date")) AS state,
                       h.id_number, pe.name, c.start_on AS contract_start, c.end_on AS contract_end,
                       (SELECT upper(cover) - 1 FROM unnest(insurance_coverage(h.id_number)) cover WHERE cover @> $2::date) AS insured_to
                FROM post p
                JOIN region v ON v.code = p.region_code
                JOIN region t ON t.code = rpad(left(p.region_code, 9), 12, '0')
                LEFT JOIN standards s ON s.county_code = p.county_code AND s.post_type = p.post_type
                LEFT JOIN placement h ON h.post_id = p.id AND h.start_on <= $2::date AND (h.exit_on IS NULL OR h.exit_on >= $2::date)
                LEFT JOIN person pe ON pe.id_number = h.id_number
                LEFT JOIN LATERAL (SELECT start_on, end_on FROM contract WHERE placement_id = h.id AND start_on <= $2::date
                                   ORDER BY start_on DESC LIMIT 1) c ON true
                WHERE p.region_code ^@ $1 AND p.proposed_on <= $2::date
                ORDER BY p.region_code, p.id
                """, [prefix, asOf.iso]).map(LedgerPost.init(row:))
        }
    }

    /// Posts in force on the day (approved, not closed), filled and vacant, and the monthly
    /// subsidy they commit (post and social-insurance standards of the filled ones), per
    /// township × type × funding channel × developer; then per funding channel, and in all.
    public static func summary(_ connection: Connection, region: String?, asOf: Day) throws -> [LedgerSummaryLine] {
        let prefix = try Regions.prefix(connection, region)
        return try Database.mapped {
            try connection.query("""
                WITH \(standards), posts AS (
                  SELECT p.*, rpad(left(p.region_code, 9), 12, '0') AS township_code,
                         EXISTS (SELECT 1 FROM placement h WHERE h.post_id = p.id AND h.start_on <= $2::date
                                 AND (h.exit_on IS NULL OR h.exit_on >= $2::date)) AS filled,
                         coalesce(s.monthly_fen, 0) + coalesce(s.social_insurance_fen, 0) AS monthly_fen
                  FROM post p LEFT JOIN standards s ON s.county_code = p.county_code AND s.post_type = p.post_type
                  -- Approved and not closed on the day (stateOn(…) = 'approved', written so that the
                  -- planner estimates it from the dates' statistics instead of guessing 0.5%).
                  WHERE p.region_code ^@ $1 AND p.approved_on <= $2::date AND (p.closed_on IS NULL OR p.closed_on > $2::date)
                )
                SELECT CASE WHEN GROUPING(township_code) = 0 THEN 'detail' WHEN GROUPING(funding_channel) = 0 THEN 'funding_channel'
                            ELSE 'total' END AS level,
                       township_code, (SELECT name FROM region WHERE code = township_code) AS township,
                       post_type, funding_channel, developer, count(*) AS posts, count(*) FILTER (WHERE filled) AS filled,
                       count(*) FILTER (WHERE NOT filled) AS vacant, coalesce(sum(monthly_fen) FILTER (WHERE filled), 0) AS commitment_fen
                FROM posts
                GROUP BY GROUPING SETS ((township_code, post_type, funding_channel, developer), (funding_channel), ())
                ORDER BY GROUPING(township_code), GROUPING(funding_channel), township_code, post_type, funding_channel, developer
                """, [prefix, asOf.iso]).map(LedgerSummaryLine.init(row:))
        }
    }

    /// 规模总体稳定: month by month, the posts in force at the month's end, how many were filled
    /// then, the people in post on any day of the month, and the hires and exits in it.
    public static func scale(_ connection: Connection, region: String?, from: Month, to: Month) throws -> [ScaleMonth] {
        guard from <= to else {
            throw AppError.toBeforeFrom(from, to)
        }
        let prefix = try Regions.prefix(connection, region)
        return try Database.mapped {
            try connection.query("""
                WITH \(months), posts AS (SELECT * FROM post WHERE region_code ^@ $1 AND approved_on IS NOT NULL),
                placements AS (SELECT pl.* FROM placement pl JOIN posts p ON p.id = pl.post_id)
                SELECT to_char(m.first, 'YYYY-MM') AS month,
                  (SELECT count(*) FROM posts p WHERE \(stateOn("p", "m.last")) = 'approved') AS posts,
                  (SELECT count(DISTINCT pl.post_id) FROM placements pl WHERE pl.start_on <= m.last AND (pl.exit_on IS NULL OR pl.exit_on >= m.last)) AS filled,
                  (SELECT count(DISTINCT pl.id_number) FROM placements pl WHERE pl.start_on <= m.last AND (pl.exit_on IS NULL OR pl.exit_on >= m.first)) AS people,
                  (SELECT count(*) FROM placements pl WHERE pl.start_on BETWEEN m.first AND m.last) AS hires,
                  (SELECT count(*) FROM placements pl WHERE pl.exit_on BETWEEN m.first AND m.last) AS exits
                FROM months m ORDER BY m.first
                """, [prefix, from.firstDay.iso, to.firstDay.iso]).map(ScaleMonth.init(row:))
        }
    }

    /// 规模总体稳定 by group: month by month, the posts in force at the month's end (as `scale`
    /// counts them) and how many of them were filled then, per township, per post type and per
    /// funding channel — the three breakdowns of SPEC §16's ledger report, in one pass.
    public static func scaleByGroup(_ connection: Connection, region: String?, from: Month, to: Month) throws -> [ScaleGroupMonth] {
        guard from <= to else {
            throw AppError.toBeforeFrom(from, to)
        }
        let prefix = try Regions.prefix(connection, region)
        return try Database.mapped {
            try connection.query("""
                WITH \(months), held AS (
                  -- Posts held at each month's end: one hash join below, not a probe per post and month.
                  SELECT DISTINCT m.first, pl.post_id FROM months m
                  JOIN placement pl ON pl.start_on <= m.last AND (pl.exit_on IS NULL OR pl.exit_on >= m.last)
                  WHERE pl.county_code ^@ left($1, 6)
                ), in_force AS (
                  SELECT m.first, rpad(left(p.region_code, 9), 12, '0') AS township_code, p.post_type, p.funding_channel,
                         h.post_id IS NOT NULL AS filled
                  FROM months m JOIN post p ON \(stateOn("p", "m.last")) = 'approved'
                  LEFT JOIN held h ON h.first = m.first AND h.post_id = p.id
                  WHERE p.region_code ^@ $1 AND p.approved_on IS NOT NULL
                )
                SELECT to_char(first, 'YYYY-MM') AS month,
                       CASE WHEN GROUPING(township_code) = 0 THEN 'township' WHEN GROUPING(post_type) = 0 THEN 'post_type'
                            ELSE 'funding_channel' END AS dimension,
                       coalesce(township_code, post_type, funding_channel) AS key,
                       (SELECT name FROM region WHERE code = township_code) AS township,
                       (SELECT name FROM region WHERE code = left(township_code, 6) || '000000') AS county,
                       count(*) AS posts, count(*) FILTER (WHERE filled) AS filled
                FROM in_force
                GROUP BY GROUPING SETS ((first, township_code), (first, post_type), (first, funding_channel))
                ORDER BY dimension, key, first
                """, [prefix, from.firstDay.iso, to.firstDay.iso]).map(ScaleGroupMonth.init(row:))
        }
    }

    /// The months from $2 to $3 (first days), each with its first and last day.
    private static let months = """
        months AS (
          SELECT m::date AS first, (m + interval '1 month' - interval '1 day')::date AS last
          FROM generate_series($2::date, $3::date, interval '1 month') m
        )
        """

    /// The pay standard in force on day $2 for each county and type of the posts under region
    /// prefix $1: standards are set at county level or above, so one lookup per county and type.
    /// MATERIALIZED: looked up once. Inlined, an operator's policies made the planner expect a
    /// few posts and join them to the lookups in a nested loop, calling `pay_standard_on` again
    /// for every post (bench/rls.sh: a township admin's `ledger summary` 0.89 s against the
    /// owner's 0.14 s; 1.8 s of its 1.83 s were those calls).
    private static let standards = """
        standards AS MATERIALIZED (
          SELECT k.county_code, k.post_type, s.monthly_fen, s.social_insurance_fen
          FROM (SELECT DISTINCT county_code, post_type FROM post WHERE region_code ^@ $1) k
          CROSS JOIN LATERAL pay_standard_on(k.county_code || '000000', k.post_type, $2::date) s
        )
        """

    /// A post's state on a day, from its dates: the one definition, `post_state_on` (sql/0017),
    /// that listings, rules and reports all read.
    private static func stateOn(_ post: String, _ day: String) -> String {
        "post_state_on(\(post).proposed_on, \(post).approved_on, \(post).rejected_on, \(post).closed_on, \(day))"
    }
}

/// A post as the ledger shows it on a day: its fields, the pay standard, its state and holder then.
public struct LedgerPost: Sendable {
    public let id: String
    public let countyCode: String
    public let township: String
    public let village: String?
    public let postType: String
    public let fundingChannel: String
    public let developer: String
    public let monthlyFen: Int64?
    public let socialInsuranceFen: Int64?
    /// The state on the ledger's day, from `post_state_on`.
    public let state: PostState
    public let holderID: String?
    public let holderName: String?
    public let contractStart: Day?
    public let contractEnd: Day?
    public let insuredTo: Day?

    init(row: Row) throws {
        id = try row.decode("id")
        countyCode = try row.decode("county_code")
        township = try row.decode("township")
        village = try row.decodeIfPresent("village")
        postType = try row.decode("post_type")
        fundingChannel = try row.decode("funding_channel")
        developer = try row.decode("developer")
        monthlyFen = try row.decodeIfPresent("monthly_fen")
        socialInsuranceFen = try row.decodeIfPresent("social_insurance_fen")
        state = try row.decode("state", as: String.self).postState()
        holderID = try row.decodeIfPresent("id_number")
        holderName = try row.decodeIfPresent("name")
        contractStart = try row.decodeIfPresent("contract_start")
        contractEnd = try row.decodeIfPresent("contract_end")
        insuredTo = try row.decodeIfPresent("insured_to")
    }
}

/// One line of the ledger's summary: a group (`detail`: township × type × funding × developer;
/// `funding_channel`; `total`), its posts in force, filled and vacant, and the monthly commitment.
public struct LedgerSummaryLine: Sendable {
    public let level: String
    public let townshipCode: String?
    public let township: String?
    public let postType: String?
    public let fundingChannel: String?
    public let developer: String?
    public let posts: Int
    public let filled: Int
    public let vacant: Int
    public let commitmentFen: Int64

    init(row: Row) throws {
        level = try row.decode("level")
        townshipCode = try row.decodeIfPresent("township_code")
        township = try row.decodeIfPresent("township")
        postType = try row.decodeIfPresent("post_type")
        fundingChannel = try row.decodeIfPresent("funding_channel")
        developer = try row.decodeIfPresent("developer")
        posts = try row.decode("posts")
        filled = try row.decode("filled")
        vacant = try row.decode("vacant")
        commitmentFen = try row.decode("commitment_fen")
    }
}

/// The post scale of one month (规模总体稳定).
public struct ScaleMonth: Sendable {
    public let month: String
    public let posts: Int
    public let filled: Int
    public let people: Int
    public let hires: Int
    public let exits: Int

    init(row: Row) throws {
        month = try row.decode("month")
        posts = try row.decode("posts")
        filled = try row.decode("filled")
        people = try row.decode("people")
        hires = try row.decode("hires")
        exits = try row.decode("exits")
    }
}

/// The posts in force at a month's end in one group — a township, a post type or a funding
/// channel (`dimension`) — and how many were filled. Months with none in the group are absent.
public struct ScaleGroupMonth: Sendable {
    /// `township`, `post_type` or `funding_channel`.
    public let dimension: String
    /// The township's region code, the post type's or the funding channel's code.
    public let key: String
    /// The township's name and its county's (nil for the other dimensions).
    public let township: String?
    public let county: String?
    public let month: String
    public let posts: Int
    public let filled: Int

    init(row: Row) throws {
        dimension = try row.decode("dimension")
        key = try row.decode("key")
        township = try row.decodeIfPresent("township")
        county = try row.decodeIfPresent("county")
        month = try row.decode("month")
        posts = try row.decode("posts")
        filled = try row.decode("filled")
    }
}
