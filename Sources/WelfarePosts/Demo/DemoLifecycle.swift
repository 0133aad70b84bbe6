import Postgres

/// The demo county's lifecycle in 2026: posts proposed and approved, people insured and hired,
/// one contract renewed, one person exiting, and a refusal of each kind the story can meet.
/// Walked once: a second `demo` finds the posts there and only reports.
public enum DemoLifecycle {
    /// One step of the walk: what was tried and what happened.
    public struct Step: Sendable {
        public let action: Text
        public let outcome: Text
        public let refusal: String?
    }

    static let posts: [(region: String, type: String, funding: String, need: String)] = [
        ("320321001201", "cleaner", "employment-fund", "东关村主干道及公共区域保洁"),
        ("320321001202", "cleaner", "rural-revitalization", "西关村人居环境整治保洁"),
        ("320321101201", "road-keeper", "rural-revitalization", "首羡村农村公路日常养护"),
        ("320321101202", "forest-ranger", "local-fiscal", "李楼村生态林巡护"),
        ("320321102201", "water-keeper", "employment-fund", "顺河村沟渠河道管护"),
        ("320321102202", "security-patrol", "local-fiscal", "陈楼村治安巡防"),
        ("320321103201", "elder-care", "east-west", "常店村留守老人照料"),
        ("320321103202", "cleaner", "employment-fund", "赵庄村保洁"),
    ]

    public static func walk(_ connection: Connection) throws -> [Step] {
        let existing = try connection.query("SELECT count(*) AS n FROM post WHERE county_code = '320321'")[0]
        guard existing["n"] == "0" else {
            return [Step(action: Text(en: "walk the lifecycle", zh: "演示岗位全流程"),
                         outcome: Text(en: "already walked in this database: the posts and placements below are from the first run",
                                       zh: "本数据库中已演示过：以下岗位和聘用记录来自第一次运行"), refusal: nil)]
        }
        var steps: [Step] = []
        func step(_ action: Text, _ body: () throws -> Text) throws {
            do {
                steps.append(Step(action: action, outcome: try body(), refusal: nil))
            } catch let error as AppError where error.category == .rule {
                steps.append(Step(action: action, outcome: error.message, refusal: error.code))
            }
        }
        let day = { (text: String) in Day(iso: text)! }

        // 按需设岗: proposals in December, approval on New Year's Day.
        var ids: [String] = []
        for post in posts {
            let row = try Posts.propose(connection, region: post.region, type: post.type, funding: post.funding,
                                        developer: "丰县\(post.region.hasPrefix("320321001") ? "凤城街道办事处" : "人民政府")",
                                        need: post.need, on: day("2025-12-15"))
            ids.append(row.id)
        }
        for id in ids { _ = try Posts.approve(connection, id, on: day("2026-01-01")) }
        steps.append(Step(action: Text(en: "propose and approve \(ids.count) posts", zh: "申报并审批 \(ids.count) 个岗位"),
                          outcome: Text(en: "\(ids.first!) … \(ids.last!) approved on 2026-01-01", zh: "\(ids.first!) … \(ids.last!) 于 2026-01-01 审批通过"), refusal: nil))

        // Who can be placed on 2026-01-01: eligible category, able to work, of age, no status,
        // one per household.
        let candidates = try connection.query("""
            SELECT DISTINCT ON (p.household_id) p.id_number, p.name FROM person p
            CROSS JOIN LATERAL eligibility_on(p.village_code, '2026-01-01') e
            WHERE p.county_code = '320321' AND p.category = ANY (e.categories) AND p.labour_capacity <> 'none'
              AND age_on(resident_birth_date(p.id_number), '2026-01-01') BETWEEN e.min_age AND e.max_age
              AND NOT EXISTS (SELECT 1 FROM person_status s JOIN person m ON m.id_number = s.id_number
                              WHERE m.county_code = p.county_code AND m.household_id = p.household_id)
            ORDER BY p.household_id, p.id_number
            """)
        let hired = Array(candidates.prefix(ids.count - 1))
        for person in hired {
            _ = try Insurance.add(connection, person: try ResidentID(person["id_number"]!), insurer: "中国人民财产保险丰县支公司",
                                  policy: "PICC-FX-2026-\(person["id_number"]!.suffix(6))", from: day("2026-01-01"), to: day("2026-12-31"),
                                  premium: Fen(6_000))
        }
        steps.append(Step(action: Text(en: "insure \(hired.count) people for 2026", zh: "为 \(hired.count) 人购买 2026 年意外伤害保险"),
                          outcome: Text(en: "group policy 2026-01-01 to 2026-12-31, premium 60.00 each", zh: "团体保单 2026-01-01 至 2026-12-31，每人保费 60.00 元"), refusal: nil))
        // 公开招聘、公示: applications in December, the intended holders publicised for the
        // county's five days, objections heard. The county's own applicants also include people
        // the policy does not admit; the ranking shows why they are passed over.
        steps += try DemoSelection.walk(connection, posts: ids, intended: hired.map { $0["id_number"]! },
                                        spare: candidates.dropFirst(hired.count).first?["id_number"])
        // 以岗聘任: the first on a three-month agreement, renewed later; the others for the year.
        for (index, person) in hired.enumerated() {
            let end = index == 0 ? "2026-03-31" : "2026-12-31"
            _ = try Placements.hire(connection, post: ids[index], person: try ResidentID(person["id_number"]!),
                                    start: day("2026-01-01"), end: day(end), kind: nil)
        }
        steps.append(Step(action: Text(en: "hire \(hired.count) people from 2026-01-01", zh: "自 2026-01-01 聘用 \(hired.count) 人"),
                          outcome: Text(en: "\(hired.map { $0["name"]! }.joined(separator: ", ")); \(ids.last!) stays vacant",
                                        zh: "\(hired.map { $0["name"]! }.joined(separator: "、"))；\(ids.last!) 暂时空缺"), refusal: nil))
        let first = try ResidentID(hired[0]["id_number"]!)
        try step(Text(en: "renew \(hired[0]["name"]!)'s agreement after 2026-03-31", zh: "为 \(hired[0]["name"]!) 续签协议（原协议至 2026-03-31）")) {
            let row = try Placements.renew(connection, person: first, start: nil, end: day("2026-12-31"), kind: "service-agreement")
            return Text(en: "renewed \(row.contractStart!) to \(row.contractEnd!)", zh: "续签 \(row.contractStart!) 至 \(row.contractEnd!)")
        }
        // 有序退岗: one person found a steady job.
        let leaver = try ResidentID(hired[1]["id_number"]!)
        try step(Text(en: "\(hired[1]["name"]!) leaves for a steady job", zh: "\(hired[1]["name"]!) 实现稳定就业退岗")) {
            let row = try Placements.exit(connection, person: leaver, on: day("2026-05-31"), reason: "employed-elsewhere")
            return Text(en: "exit recorded: last day in post \(row.exitOn!)", zh: "已办理退岗：最后在岗日 \(row.exitOn!)")
        }

        // The rules at work: each of these is refused, and nothing changes.
        let vacant = ids.last!
        let everyone = try connection.query("""
            SELECT p.id_number, p.name, p.household_id, p.category, p.labour_capacity,
                   age_on(resident_birth_date(p.id_number), '2026-06-01') AS age,
                   EXISTS (SELECT 1 FROM person_status s WHERE s.id_number = p.id_number) AS has_status,
                   EXISTS (SELECT 1 FROM placement pl WHERE pl.id_number = p.id_number) AS placed
            FROM person p WHERE p.county_code = '320321' ORDER BY p.id_number
            """)
        let placedHouseholds = Set(everyone.filter { $0["placed"] == "t" }.map { $0["household_id"]! })
        func attempt(_ label: Text, _ pick: (Row) -> Bool, start: String = "2026-06-01", end: String = "2027-05-31",
                     post: String? = nil, insure: Bool = true) throws {
            guard let person = everyone.first(where: pick) else { return }
            let id = try ResidentID(person["id_number"]!)
            if insure, try Insurance.policies(connection, person: id.value).isEmpty {
                _ = try Insurance.add(connection, person: id, insurer: "中国人民财产保险丰县支公司", policy: "PICC-FX-DEMO-\(id.value.suffix(6))",
                                      from: day("2026-01-01"), to: day("2027-12-31"), premium: Fen(6_000))
            }
            try step(Text(en: "\(label.en): hire \(person["name"]!) into \(post ?? vacant)", zh: "\(label.zh)：聘用 \(person["name"]!) 到 \(post ?? vacant)")) {
                _ = try Placements.hire(connection, post: post ?? vacant, person: id, start: day(start), end: day(end), kind: nil)
                return Text(en: "hired (unexpected)", zh: "已聘用（不应发生）")
            }
        }
        let fresh: (Row) -> Bool = { $0["placed"] == "f" && $0["has_status"] == "f" && !placedHouseholds.contains($0["household_id"]!) }
        // Two people who could be hired but for the contract or the insurance.
        let able = everyone.filter { fresh($0) && $0["labour_capacity"] != "none" && $0["category"] != "other" && Int($0["age"]!)! <= 60 }
        let (longContract, uninsured) = (able.first?["id_number"], able.dropFirst().first?["id_number"])
        let eligibleButForHousehold: (Row) -> Bool = {
            $0["placed"] == "f" && $0["has_status"] == "f" && placedHouseholds.contains($0["household_id"]!)
                && $0["labour_capacity"] != "none" && $0["category"] != "other" && Int($0["age"]!)! <= 60
        }
        try attempt(Text(en: "a contract longer than a year", zh: "合同超过一年"), { $0["id_number"] == longContract }, end: "2027-06-01")
        try attempt(Text(en: "over the county's maximum age of 60", zh: "超过本县最高年龄60岁"), { fresh($0) && Int($0["age"]!)! > 60 })
        try attempt(Text(en: "a household already has a member in post", zh: "同户已有成员在岗"), eligibleButForHousehold)
        try attempt(Text(en: "a category the policy does not admit", zh: "人员类别不在安置范围"), { fresh($0) && $0["category"] == "other" })
        try attempt(Text(en: "no capacity to work", zh: "无劳动能力"), { fresh($0) && $0["labour_capacity"] == "none" })
        try attempt(Text(en: "a status that excludes (employed, cadre, pensioner)", zh: "有不得安置的状态（已就业、村干部、领取养老金）"), { $0["has_status"] == "t" })
        try attempt(Text(en: "no accident insurance", zh: "未购买意外伤害保险"), { $0["id_number"] == uninsured }, insure: false)
        // Someone who passes every rule of §5 (an eligible household's first member nobody
        // publicised): only the missing notice stops them.
        let unnoticed = candidates.dropFirst(hired.count + 1).first?["id_number"]
        try attempt(Text(en: "no public notice (公示) of the hire", zh: "未经公示"), { $0["id_number"] == unnoticed })
        try attempt(Text(en: "the post is occupied", zh: "岗位已有人在岗"), { $0["id_number"] == longContract }, post: ids[2])
        try attempt(Text(en: "already in another post", zh: "已在其他岗位"), { $0["id_number"] == hired[2]["id_number"] })
        let facility = try Posts.propose(connection, region: "320321102203", type: "facility-keeper", funding: "local-fiscal",
                                         developer: "顺河镇人民政府", need: "刘集村公共设施管护", on: day("2025-12-20")).id
        try step(Text(en: "approve a facility keeper's post, a type with no pay standard", zh: "审批设施管护员岗位（该类岗位未定待遇标准）")) {
            _ = try Posts.approve(connection, facility, on: day("2026-06-01"))
            return Text(en: "approved (unexpected)", zh: "已审批（不应发生）")
        }
        _ = try Policy.setQuota(connection, region: DemoCounty.county, year: 2025, posts: 0)
        try step(Text(en: "approve it in 2025, when the county's quota was 0", zh: "按 2025 年审批（当年岗位总量为0）")) {
            _ = try Policy.setPay(connection, region: DemoCounty.county, type: "facility-keeper", monthly: Fen(80_000),
                                  socialInsurance: Fen(30_000), from: Month(year: 2025, month: 1)!)
            _ = try Posts.approve(connection, facility, on: day("2025-12-31"))
            return Text(en: "approved (unexpected)", zh: "已审批（不应发生）")
        }
        return steps
    }
}
