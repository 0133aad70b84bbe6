import Postgres

/// Policy values (SPEC §4): pay standards, eligibility and quotas, effective-dated, set at
/// county level or above. Setting a value again for the same region and date replaces it.
public enum Policy {
    /// A policy region must be a province, city or county: never a township or village, so one
    /// post type pays the same across a county.
    static func policyRegion(_ connection: Connection, _ text: String) throws -> RegionCode {
        let region = try Regions.require(connection, text)
        guard region.level <= .county else {
            throw AppError.badInput(Text(
                en: "\(region.value) is a \(region.level): policy is set for a county or a region above it, so every post of one type in a county has the same pay",
                zh: "\(region.value) 是乡镇或村：政策只能在县级及以上设置，以保证同一县内同类岗位待遇统一"), code: "POLICY_REGION")
        }
        return region
    }

    public static func setPay(_ connection: Connection, region text: String, type: String, monthly: Fen,
                              socialInsurance: Fen, from: Month) throws -> Row {
        let region = try policyRegion(connection, text)
        let type = try Vocabulary.load(connection).require(.postType, type)
        return try Database.mapped {
            try connection.query("""
                INSERT INTO pay_standard (region_code, post_type, effective_from, monthly_fen, social_insurance_fen)
                VALUES ($1, $2, $3::date, $4, $5)
                ON CONFLICT (region_code, post_type, effective_from) DO UPDATE
                  SET monthly_fen = EXCLUDED.monthly_fen, social_insurance_fen = EXCLUDED.social_insurance_fen, recorded_at = now()
                RETURNING region_code, post_type, effective_from::text, monthly_fen, social_insurance_fen
                """, [region.value, type, from.firstDay.iso, monthly.value, socialInsurance.value])[0]
        }
    }

    public static func setEligibility(_ connection: Connection, region text: String, from: Day, minAge: Int?,
                                      maxAge: Int?, householdCap: Int?, categories: [String]?, noticeDays: Int? = nil) throws -> Row {
        let region = try policyRegion(connection, text)
        let vocabulary = try Vocabulary.load(connection)
        let codes = try categories.map { try $0.map { try vocabulary.require(.personCategory, $0) } }
        guard minAge != nil || maxAge != nil || householdCap != nil || codes != nil || noticeDays != nil else {
            throw AppError.badInput(Text(en: "give at least one of --min-age, --max-age, --household-cap, --categories, --notice-days",
                                         zh: "请至少给出 --min-age、--max-age、--household-cap、--categories、--notice-days 之一"))
        }
        if let noticeDays, !(0...365).contains(noticeDays) {
            throw AppError.badInput(Text(en: "--notice-days must be 0 to 365 (0: no notice required)", zh: "--notice-days 应为 0 至 365（0 表示无需公示）"))
        }
        return try Database.mapped {
            try connection.transaction {
                let row = try connection.query("""
                    INSERT INTO eligibility_policy AS e (region_code, effective_from, min_age, max_age, household_cap, categories, notice_days)
                    VALUES ($1, $2::date, $3::int, $4::int, $5::int, $6::text[], $7::int)
                    ON CONFLICT (region_code, effective_from) DO UPDATE SET
                      min_age = coalesce(EXCLUDED.min_age, e.min_age), max_age = coalesce(EXCLUDED.max_age, e.max_age),
                      household_cap = coalesce(EXCLUDED.household_cap, e.household_cap),
                      categories = coalesce(EXCLUDED.categories, e.categories),
                      notice_days = coalesce(EXCLUDED.notice_days, e.notice_days), recorded_at = now()
                    RETURNING region_code, effective_from::text, min_age, max_age, household_cap, array_to_string(categories, ',') AS categories,
                              notice_days
                    """, [region.value, from.iso, minAge, maxAge, householdCap, codes, noticeDays])[0]
                // The ages in force must stay a real range wherever the values come from.
                let check = try connection.query("SELECT min_age, max_age FROM eligibility_on($1, $2::date)", [region.value, from.iso])[0]
                if let low = Int(check["min_age"] ?? ""), let high = Int(check["max_age"] ?? ""), low > high {
                    throw AppError.badInput(Text(en: "minimum age \(low) would be above maximum age \(high)",
                                                 zh: "最低年龄 \(low) 将高于最高年龄 \(high)"))
                }
                return row
            }
        }
    }

    /// `policy evidence`: what evidence of work a month's pay needs from `from` on (SPEC §14),
    /// and the paid leave days a month. Either may be left out (inherited, or the default: none, 0).
    public static func setEvidence(_ connection: Connection, region text: String, from: Month, require: String?,
                                   paidLeaveDays: Int?) throws -> Row {
        let region = try policyRegion(connection, text)
        if let require, !["none", "assessment", "attendance"].contains(require) {
            throw AppError.badInput(Text(en: "--require must be none, assessment or attendance", zh: "--require 应为 none、assessment 或 attendance"),
                                    code: "UNKNOWN_CODE")
        }
        if let paidLeaveDays, !(0...31).contains(paidLeaveDays) {
            throw AppError.badInput(Text(en: "--paid-leave-days must be 0 to 31", zh: "--paid-leave-days 应为 0 至 31"))
        }
        guard require != nil || paidLeaveDays != nil else {
            throw AppError.badInput(Text(en: "give --require, --paid-leave-days or both", zh: "请给出 --require 或 --paid-leave-days"))
        }
        return try Database.mapped {
            try connection.query("""
                INSERT INTO evidence_policy AS e (region_code, effective_from, require, paid_leave_days) VALUES ($1, $2::date, $3, $4::int)
                ON CONFLICT (region_code, effective_from) DO UPDATE SET require = coalesce(EXCLUDED.require, e.require),
                  paid_leave_days = coalesce(EXCLUDED.paid_leave_days, e.paid_leave_days), recorded_at = now()
                RETURNING region_code, to_char(effective_from, 'YYYY-MM') AS effective_from, require, paid_leave_days
                """, [region.value, from.firstDay.iso, require, paidLeaveDays])[0]
        }
    }

    /// What `policy quota` did: the quota, and the most posts in force on a day of its year when
    /// that is more (a cut below the posts in force is accepted, and reported by the audit's
    /// OVER_QUOTA).
    public struct QuotaSet: Sendable {
        public let countyCode: String
        public let year: Int
        public let posts: Int
        public let over: (posts: Int, day: Day)?
    }

    public static func setQuota(_ connection: Connection, region text: String, year: Int, posts: Int) throws -> QuotaSet {
        let region = try Regions.require(connection, text)
        guard region.level == .county else {
            throw AppError.badInput(Text(en: "a quota is set per county: \(region.value) is not a county",
                                         zh: "岗位总量按县设置：\(region.value) 不是县级区划"), code: "POLICY_REGION")
        }
        guard posts >= 0 else { throw AppError.badInput(Text(en: "--posts must be 0 or more", zh: "--posts 不能为负数")) }
        guard let first = Day(year: year, month: 1, day: 1), let last = Day(year: year, month: 12, day: 31) else {
            throw AppError.badInput(Text(en: "--year \(year) is not a year", zh: "--year \(year) 不是有效年份"))
        }
        return try Database.mapped {
            try connection.transaction {
                // Approvals in the county wait for this, and this for them (Posts.approve).
                try connection.query("SELECT pg_advisory_xact_lock(hashtext('quota/' || $1))", [region.countyCode!])
                let row = try connection.query("""
                    INSERT INTO post_quota (county_code, year, posts) VALUES ($1, $2, $3)
                    ON CONFLICT (county_code, year) DO UPDATE SET posts = EXCLUDED.posts, recorded_at = now()
                    RETURNING county_code, year, posts
                    """, [region.value, year, posts])[0]
                let most = try Posts.mostInForce(connection, county: region.countyCode!, from: first, to: last)
                return QuotaSet(countyCode: try row.decode("county_code"), year: try row.decode("year"), posts: try row.decode("posts"),
                                over: most.posts > posts ? most : nil)
            }
        }
    }

    /// Everything in force for a region on a day: eligibility, a pay standard per post type
    /// (where one is set) and the county quota of the day's year.
    public struct InForce: Sendable {
        public let region: RegionCode
        public let day: Day
        public let minAge: Int
        public let maxAge: Int
        public let householdCap: Int
        public let categories: [String]
        /// Calendar days of public notice before a hire (0: none required).
        public let noticeDays: Int
        /// Evidence of work a month's pay needs (none, assessment, attendance) and paid leave days.
        public let evidence: String
        public let paidLeaveDays: Int
        public let pay: [Row]
        public let quota: Int?
    }

    public static func show(_ connection: Connection, region text: String, on day: Day) throws -> InForce {
        let region = try Regions.require(connection, text)
        return try Database.mapped {
            let rule = try connection.query("""
                SELECT min_age, max_age, household_cap, array_to_string(categories, ',') AS categories,
                       notice_days_on($1, $2::date) AS notice_days, v.require, v.paid_leave_days
                FROM eligibility_on($1, $2::date) CROSS JOIN evidence_on($1, $2::date) v
                """, [region.value, day.iso])[0]
            let pay = try connection.query("""
                SELECT t.code AS post_type, p.monthly_fen, p.social_insurance_fen, p.set_by, p.effective_from::text
                FROM post_type t CROSS JOIN LATERAL pay_standard_on($1, t.code, $2::date) p ORDER BY t.position
                """, [region.value, day.iso])
            let quota = try region.countyCode.flatMap { county in
                try connection.query("SELECT posts FROM post_quota WHERE county_code = $1 AND year = $2",
                                     [county + "000000", day.year]).first?.decode("posts", as: Int.self)
            }
            return InForce(region: region, day: day, minAge: try rule.decode("min_age"), maxAge: try rule.decode("max_age"),
                           householdCap: try rule.decode("household_cap"),
                           categories: (rule["categories"] ?? "").split(separator: ",").map(String.init),
                           noticeDays: try rule.decode("notice_days"), evidence: rule["require"] ?? "none",
                           paidLeaveDays: try rule.decode("paid_leave_days"), pay: pay, quota: quota)
        }
    }
}
