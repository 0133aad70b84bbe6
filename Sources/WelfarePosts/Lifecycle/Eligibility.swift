import Postgres

/// The rules that need context (SPEC §5): checked for a person, a post and a contract period,
/// against the policy in force on the contract's start in the post's region. Callers hold the
/// locks that keep the answer true until they commit (the post row, the household's lock).
enum Eligibility {
    struct Contract {
        let id: ResidentID
        let postRegion: String
        let postType: String
        let start: Day
        let end: Day
        /// Whether the household cap applies (a new placement; not a renewal).
        let newPlacement: Bool
    }

    /// Throws the first rule the contract would break, in the order a township administrator
    /// would fix them: the person, then the household, then the paperwork.
    static func check(_ connection: Connection, _ contract: Contract) throws {
        let facts = try connection.query("""
            SELECT p.name, f.labour_capacity, f.category, e.min_age, e.max_age, e.household_cap,
                   array_to_string(e.categories, ',') AS categories,
                   age_on(resident_birth_date(p.id_number), $2::date) AS age,
                   f.category = ANY (e.categories) AS category_ok,
                   (SELECT string_agg(s.status, ',' ORDER BY s.status) FROM person_status s
                     WHERE s.id_number = p.id_number AND s.valid_from <= $2::date
                       AND (s.valid_to IS NULL OR s.valid_to >= $2::date)) AS statuses,
                   -- Whole households as they were on the start, whatever the operator's region
                   -- hides (sql/0013, 0017b): whether a member is a village cadre, and the names
                   -- of those the operator may see.
                   household_has_cadre(p.id_number, $2::date) AS cadre_in_household,
                   (SELECT string_agg(pe.name, ',' ORDER BY pe.name) FROM person_version m JOIN person pe ON pe.id_number = m.id_number
                     JOIN person_status s ON s.id_number = m.id_number
                     WHERE m.county_code = f.county_code AND m.household_id = f.household_id AND m.id_number <> p.id_number
                       AND m.valid @> $2::date AND s.status = 'village-cadre' AND s.valid_from <= $2::date
                       AND (s.valid_to IS NULL OR s.valid_to >= $2::date)) AS visible_cadres,
                   insurance_coverage(p.id_number) @> daterange($2::date, $3::date, '[]') AS insured,
                   (SELECT min(d)::date::text FROM generate_series($2::date, $3::date, interval '1 day') d
                     WHERE NOT insurance_coverage(p.id_number) @> d::date) AS first_uncovered,
                   EXISTS (SELECT 1 FROM pay_standard_on($4, $5, $2::date)) AS paid,
                   household_in_post(p.id_number, $2::date) AS household_in_post
            FROM person p CROSS JOIN LATERAL person_facts_on(p.id_number, $2::date) f CROSS JOIN eligibility_on($4, $2::date) e
            WHERE p.id_number = $1
            """, [contract.id.value, contract.start.iso, contract.end.iso, contract.postRegion, contract.postType])
        guard let f = facts.first else { throw Persons.notRegistered(contract.id) }
        let who = "\(f["name"] ?? "") (\(contract.id.masked))"
        let on = contract.start.iso
        if f["labour_capacity"] == "none" {
            throw AppError(rule: .labourCapacity, Text(
                en: "\(who) is recorded as having no capacity to work (无劳动能力) and cannot be hired; if that has changed, correct the person's record first",
                zh: "\(who) 登记为无劳动能力，不能聘用；如情况有变，请先更正人员信息"))
        }
        if f["category_ok"] != "t" {
            throw AppError(rule: .category, Text(
                en: "\(who) is in category \(f["category"] ?? "") but on \(on) the policy admits only \(f["categories"] ?? "")",
                zh: "\(who) 的人员类别为 \(f["category"] ?? "")，而 \(on) 执行的政策只安置 \(f["categories"] ?? "")"))
        }
        let age = Int(f["age"] ?? "") ?? 0, low = Int(f["min_age"] ?? "") ?? 0, high = Int(f["max_age"] ?? "") ?? 0
        if age < low || age > high {
            throw AppError(rule: .age, Text(
                en: "\(who) is \(age) on \(on); the policy admits ages \(low) to \(high)",
                zh: "\(who) 在 \(on) 时 \(age) 岁；政策规定年龄为 \(low) 至 \(high) 岁"))
        }
        if let statuses = f["statuses"] {
            throw AppError(rule: .excludedStatus, Text(
                en: "\(who) has status \(statuses) in force on \(on) and cannot be placed; if the record is out of date, end that status first",
                zh: "\(who) 在 \(on) 有“\(statuses)”状态，不能安置；如记录已过时，请先为该状态填写终止日期"))
        }
        if f["cadre_in_household"] == "t" {
            // A cadre living in another township is not named to this one.
            let cadres = f["visible_cadres"].map { " (\($0))" } ?? ""
            throw AppError(rule: .excludedStatus, Text(
                en: "\(who)'s household has a village cadre\(cadres) on \(on): 村干部及其家庭成员不列入",
                zh: "\(who) 的家庭成员\(cadres)在 \(on) 为村干部：村干部及其家庭成员不列入安置范围"))
        }
        let inPost = Int(f["household_in_post"] ?? "") ?? 0, cap = Int(f["household_cap"] ?? "") ?? 1
        if contract.newPlacement && inPost + 1 > cap {
            throw AppError(rule: .householdCap, Text(
                en: "\(inPost) member(s) of \(who)'s household are already in post from \(on) on; the policy allows \(cap) per household",
                zh: "\(who) 的家庭自 \(on) 起已有 \(inPost) 人在岗；政策规定每户最多 \(cap) 人"))
        }
        if f["insured"] != "t" {
            let day = f["first_uncovered"] ?? on
            throw AppError(rule: .insurance, Text(
                en: "\(who) has no accident insurance on \(day): buy or record a policy covering \(on) to \(contract.end) first",
                zh: "\(who) 在 \(day) 没有意外伤害保险：请先购买或登记覆盖 \(on) 至 \(contract.end) 的保单"))
        }
        if f["paid"] != "t" {
            throw AppError(rule: .payStandard, Text(
                en: "no pay standard for post type \(contract.postType) is in force on \(on) in this county: set one with `policy pay` first",
                zh: "\(on) 本县没有 \(contract.postType) 岗位的待遇标准：请先用 `policy pay` 设置"))
        }
    }
}
