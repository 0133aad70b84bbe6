import Postgres

/// A demo county to try the product on: 丰县 (Feng County, Xuzhou, Jiangsu) with four
/// townships, a dozen villages, its policy and a few dozen persons across categories and
/// households. Loaded through the same imports and policy commands users run, so the demo
/// exercises the real code. Township names are real; village names and all persons are
/// invented, and resident IDs are generated (valid check characters, invented people).
public enum DemoCounty {
    public static let county = "320321000000"

    static let regions: [(String, String)] = [
        ("320000000000", "江苏省"), ("320300000000", "徐州市"), ("320321000000", "丰县"),
        ("320321001000", "凤城街道"), ("320321101000", "首羡镇"), ("320321102000", "顺河镇"), ("320321103000", "常店镇"),
        ("320321001201", "东关村"), ("320321001202", "西关村"), ("320321001203", "南关村"),
        ("320321101201", "首羡村"), ("320321101202", "李楼村"), ("320321101203", "王庄村"),
        ("320321102201", "顺河村"), ("320321102202", "陈楼村"), ("320321102203", "刘集村"),
        ("320321103201", "常店村"), ("320321103202", "赵庄村"), ("320321103203", "孙楼村"),
    ]

    static let surnames = ["王", "李", "张", "刘", "陈", "杨", "赵", "黄", "周", "吴", "徐", "孙"]
    static let givenNames = ["秀英", "桂兰", "建国", "玉兰", "志强", "凤英", "德胜", "春梅", "保山", "金花",
                             "永福", "淑珍", "长林", "翠萍", "广才", "素芳", "海军", "兰英", "明亮", "国庆"]
    static let categories = ["脱贫人口", "监测对象", "农村低收入人口", "poverty-alleviated", "other"]
    static let capacities = ["弱劳力", "半劳力", "full", "weak", "half"]

    /// The persons file, as a township would send it: Chinese headers, labels as values.
    static func personsCSV() -> String {
        var lines = ["身份证号,姓名,户编号,村代码,人员类别,劳动能力,银行账号,联系电话"]
        let villages = regions.map(\.0).filter { RegionCode($0)?.level == .village }
        for index in 0..<36 {
            let village = villages[(index / 3) % villages.count]
            // Two or three people share each household in a third of the cases.
            let household = "FX" + String(index / 3 * 3 + (index % 3 == 2 ? 1 : 0) + 1000)
            let year = 1962 + (index * 7) % 43
            let month = 1 + (index * 5) % 12
            let day = 1 + (index * 11) % 28
            let first17 = "320321" + String(year) + two(month) + two(day) + String(format3(100 + index * 7))
            let id = first17 + String(ResidentID.checkCharacter(for: first17)!)
            let name = surnames[index % surnames.count] + givenNames[(index * 3) % givenNames.count]
            let account = "62284803" + String(1_000_000_000 + index * 7919)
            let phone = "1385216" + String(1000 + index)
            // Every eleventh person cannot work (无劳动能力): the rules must keep them out of posts.
            let capacity = index % 11 == 10 ? "无劳动能力" : capacities[index % capacities.count]
            lines.append([id, name, household, village, categories[index % categories.count],
                          capacity, account, phone].joined(separator: ","))
        }
        return lines.joined(separator: "\n") + "\n"
    }

    static func regionsCSV() -> String {
        (["区划代码,名称"] + regions.map { "\($0.0),\($0.1)" }).joined(separator: "\n") + "\n"
    }

    private static func two(_ value: Int) -> String { value < 10 ? "0\(value)" : String(value) }
    private static func format3(_ value: Int) -> String { String(String(value).suffix(3)) }

    /// What `demo` loaded.
    public struct Loaded: Sendable {
        public let regions: ImportOutcome
        public let persons: ImportOutcome
    }

    /// Loads the county: regions, policy, persons and a few status facts. Safe to run again.
    public static func load(_ connection: Connection) throws -> Loaded {
        let regions = try RegionImport.run(connection, file: try CSVFile(data: Array(regionsCSV().utf8)), dryRun: false)
        // Jiangsu sets the social-insurance subsidy province-wide; the county sets post pay.
        for (type, monthly, social) in [("cleaner", 80_000, 30_000), ("road-keeper", 90_000, 30_000),
                                        ("forest-ranger", 100_000, 30_000), ("water-keeper", 90_000, 30_000),
                                        ("security-patrol", 95_000, 30_000), ("elder-care", 110_000, 30_000)] {
            _ = try Policy.setPay(connection, region: county, type: type, monthly: Fen(Int64(monthly)),
                                  socialInsurance: Fen(Int64(social)), from: Month(year: 2026, month: 1)!)
        }
        _ = try Policy.setEligibility(connection, region: "320000000000", from: Day(year: 2021, month: 1, day: 1)!,
                                      minAge: 16, maxAge: 65, householdCap: 1, categories: nil)
        _ = try Policy.setEligibility(connection, region: county, from: Day(year: 2026, month: 1, day: 1)!,
                                      minAge: nil, maxAge: 60, householdCap: nil, categories: nil)
        // 公示5天: the county publicises every hire for five days from December 2025.
        _ = try Policy.setEligibility(connection, region: county, from: Day(year: 2025, month: 12, day: 1)!,
                                      minAge: nil, maxAge: nil, householdCap: nil, categories: nil, noticeDays: 5)
        _ = try Policy.setQuota(connection, region: county, year: 2026, posts: 120)
        _ = try Policy.setQuota(connection, region: county, year: 2027, posts: 120)
        // The county pays through two: the province's 一卡通 platform (onto the social-security
        // card, a workbook) and the rural commercial bank's batch template (GBK text, `|` after
        // every field, at most 1,000 rows a file).
        _ = try BankProfile.add(connection, county: county, name: "一卡通", columns: [
            ("batch", "批次号"), ("seq", "序号"), ("id_number", "身份证号码"), ("name", "姓名"), ("bank_account", "社保卡号"),
            ("total", "发放金额"), ("post_type", "项目名称")], encoding: "utf-8", format: "xlsx", separator: nil, maxRows: 5_000, accountPrefixes: [])
        _ = try BankProfile.add(connection, county: county, name: "农商行", columns: [
            ("seq", "序号"), ("name", "姓名"), ("bank_account", "帐号"), ("total", "金额"), ("id_number", "身份证")],
                                encoding: "gbk", format: "txt", separator: "|", maxRows: 1_000, accountPrefixes: [])
        let persons = try PersonImport.run(connection, file: try CSVFile(data: Array(personsCSV().utf8)), dryRun: false)
        // A village cadre, a pensioner and someone who found a steady job: the rules must see them.
        // Given to people who are otherwise eligible, so the status alone keeps them out.
        let ids = try connection.query("""
            SELECT id_number FROM person WHERE county_code = '320321' AND labour_capacity <> 'none'
              AND category IN ('poverty-alleviated', 'monitored', 'low-income')
              AND age_on(resident_birth_date(id_number), '2026-01-01') BETWEEN 16 AND 60
            ORDER BY id_number DESC LIMIT 3
            """).compactMap { $0["id_number"] }
        for (id, status) in zip(ids, ["village-cadre", "pensioner", "employed"]) {
            _ = try Persons.setStatus(connection, id: try ResidentID(id), status: status,
                                      from: Day(year: 2025, month: 6, day: 1)!, to: nil)
        }
        return Loaded(regions: regions, persons: persons)
    }

    /// Counts for the closing summary: persons by township and category.
    public static func summary(_ connection: Connection) throws -> [Row] {
        try Database.mapped {
            try connection.query("""
                SELECT t.name AS township, p.category, count(*) AS persons, count(DISTINCT p.household_id) AS households
                FROM person p JOIN region v ON v.code = p.village_code JOIN region t ON t.code = v.parent_code
                WHERE p.county_code = '320321'
                GROUP BY t.code, t.name, p.category ORDER BY t.code, p.category
                """)
        }
    }
}
