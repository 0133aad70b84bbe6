import ArgumentParser
import Postgres
import WelfarePosts

struct PolicyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "policy", abstract: "Effective-dated policy: pay standards, eligibility, quotas.",
        subcommands: [Pay.self, Eligibility.self, Quota.self, Evidence.self, Show.self])

    struct Pay: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Set the monthly pay standard of a post type (county level or above).")
        @OptionGroup var global: GlobalOptions
        @Option(help: "County, city or province code.") var region: String
        @Option(help: "Post type code or Chinese label.") var type: String
        @Option(help: "Monthly post subsidy in yuan.") var monthly: String
        @Option(help: "Monthly social-insurance subsidy in yuan (default 0).") var socialInsurance: String = "0"
        @Option(help: "First month in force (YYYY-MM).") var from: String

        func run() throws {
            let month = try Parse.month(from, "--from")
            let monthly = try Parse.yuan(self.monthly, "--monthly")
            let social = try Parse.yuan(socialInsurance, "--social-insurance")
            let connection = try global.connect()
            let row = try Policy.setPay(connection, region: region, type: type, monthly: monthly, socialInsurance: social, from: month)
            let vocabulary = try Vocabulary.load(connection)
            global.output.entity([
                (Column("region", "region", "区划"), row["region_code"]),
                (Column("post_type", "post type", "岗位类型"), row["post_type"].map { vocabulary.label(.postType, $0, global.lang) }),
                (Column("from", "from", "起始日期"), row["effective_from"]),
                (Column("monthly", "monthly subsidy", "月岗位补贴"), yuan(row["monthly_fen"])),
                (Column("social_insurance", "monthly social insurance", "月社保补贴"), yuan(row["social_insurance_fen"])),
            ])
        }
    }

    struct Eligibility: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Set ages, household cap and eligible categories (county level or above).")
        @OptionGroup var global: GlobalOptions
        @Option(help: "County, city or province code.") var region: String
        @Option(help: "First day in force (YYYY-MM-DD).") var from: String
        @Option(help: "Minimum age (default 16).") var minAge: Int?
        @Option(help: "Maximum age (default 65).") var maxAge: Int?
        @Option(help: "Most members of one household in post at once (default 1).") var householdCap: Int?
        @Option(help: "Eligible categories, comma-separated codes or labels.") var categories: String?
        @Option(help: "Calendar days of public notice (公示) before a hire (default 0: none required).") var noticeDays: Int?

        func run() throws {
            let day = try Parse.day(from, "--from")
            let connection = try global.connect()
            let row = try Policy.setEligibility(
                connection, region: region, from: day, minAge: minAge, maxAge: maxAge, householdCap: householdCap,
                categories: categories.map { $0.split(separator: ",").map { String($0).trimmingCharacters(in: .whitespaces) } },
                noticeDays: noticeDays)
            global.output.entity([
                (Column("region", "region", "区划"), row["region_code"]),
                (Column("from", "from", "起始日期"), row["effective_from"]),
                (Column("min_age", "minimum age", "最低年龄"), row["min_age"]),
                (Column("max_age", "maximum age", "最高年龄"), row["max_age"]),
                (Column("household_cap", "household cap", "每户上限"), row["household_cap"]),
                (Column("categories", "categories", "人员类别"), row["categories"]),
                (Column("notice_days", "notice days", "公示天数"), row["notice_days"]),
            ])
        }
    }

    struct Quota: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Set the most posts a county may have approved and open in a year.")
        @OptionGroup var global: GlobalOptions
        @Option(help: "County code.") var region: String
        @Option(help: "Year.") var year: Int
        @Option(help: "Number of posts.") var posts: Int

        func run() throws {
            let connection = try global.connect()
            let row = try Policy.setQuota(connection, region: region, year: year, posts: posts)
            global.output.entity([
                (Column("county", "county", "县区"), row["county_code"]),
                (Column("year", "year", "年度"), row["year"]),
                (Column("posts", "posts", "岗位数"), row["posts"]),
            ])
        }
    }

    struct Evidence: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Set the evidence of work a month's pay needs (none, assessment, attendance) and paid leave days (county level or above).")
        @OptionGroup var global: GlobalOptions
        @Option(help: "County, city or province code.") var region: String
        @Option(help: "First month in force (YYYY-MM).") var from: String
        @Option(help: "none (default), assessment or attendance: a line without it is held.") var require: String?
        @Option(help: "Leave days a month paid like days at work (default 0).") var paidLeaveDays: Int?

        func run() throws {
            let month = try Parse.month(from, "--from")
            let connection = try global.connect()
            let row = try Policy.setEvidence(connection, region: region, from: month, require: require, paidLeaveDays: paidLeaveDays)
            global.output.entity([
                (Column("region", "region", "区划"), row["region_code"]),
                (Column("from", "from", "起始月份"), row["effective_from"]),
                (Column("require", "requires", "佐证要求"), row["require"]),
                (Column("paid_leave_days", "paid leave days", "带薪请假天数"), row["paid_leave_days"]),
            ])
        }
    }

    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show the policy in force for a region on a day.")
        @OptionGroup var global: GlobalOptions
        @Option(help: "Region code.") var region: String
        @Option(help: "Day (YYYY-MM-DD, default today in China).") var on: String?

        func run() throws {
            let day = try on.map { try Parse.day($0, "--on") } ?? .today()
            let connection = try global.connect()
            let policy = try Policy.show(connection, region: region, on: day)
            let vocabulary = try Vocabulary.load(connection)
            let lang = global.lang
            let output = global.output
            let categories = policy.categories.map { vocabulary.label(.personCategory, $0, lang) }.joined(separator: ",")
            var rows: [[String?]] = [
                ["eligibility", "min_age", String(policy.minAge), nil, nil],
                ["eligibility", "max_age", String(policy.maxAge), nil, nil],
                ["eligibility", "household_cap", String(policy.householdCap), nil, nil],
                ["eligibility", "categories", categories, nil, nil],
                ["eligibility", "notice_days", String(policy.noticeDays), nil, nil],
                ["evidence", "require", policy.evidence, nil, nil],
                ["evidence", "paid_leave_days", String(policy.paidLeaveDays), nil, nil],
                ["quota", String(policy.day.year), policy.quota.map(String.init) ?? (lang == .zh ? "未设上限" : "no cap"), nil, nil],
            ]
            for pay in policy.pay {
                let value = "\(yuan(pay["monthly_fen"]) ?? "") + \(yuan(pay["social_insurance_fen"]) ?? "")"
                rows.append(["pay", pay["post_type"].map { vocabulary.label(.postType, $0, lang) }, value, pay["set_by"], pay["effective_from"]])
            }
            output.list([Column("kind", "kind", "类别"), Column("item", "item", "项目"), Column("value", "value", "值"),
                          Column("set_by", "set by", "设定区划"), Column("from", "from", "起始日期")], rows)
        }
    }
}
