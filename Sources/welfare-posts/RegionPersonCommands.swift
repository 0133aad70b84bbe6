import ArgumentParser
import Postgres
import WelfarePosts

/// What an import did: counts as an entity, so `--format json` gives an object.
func printImport(_ outcome: ImportOutcome, _ output: Output) {
    if outcome.dryRun {
        output.say(Text(en: "dry run: the file is valid; nothing was written", zh: "试运行：文件无误，未写入任何数据"))
    }
    output.entity([
        (Column("rows", "rows", "行数"), String(outcome.rows)),
        (Column("inserted", outcome.dryRun ? "would insert" : "inserted", outcome.dryRun ? "将新增" : "新增"), String(outcome.inserted)),
        (Column("updated", outcome.dryRun ? "would update" : "updated", outcome.dryRun ? "将更新" : "更新"), String(outcome.updated)),
        (Column("unchanged", "unchanged", "未变"), String(outcome.unchanged)),
        (Column("dry_run", "dry run", "试运行"), outcome.dryRun ? "true" : "false"),
    ])
}

struct RegionCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "region", abstract: "The statistical division tree.", subcommands: [Import.self, List.self])

    struct Import: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Import regions from CSV (code 区划代码, name 名称).")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "CSV file: UTF-8 (with or without BOM) or GBK.") var file: String
        @Flag(help: "Check the file and report, without writing.") var dryRun = false

        func run() throws {
            let connection = try global.connect()
            let outcome = try RegionImport.run(connection, file: try Parse.file(file), dryRun: dryRun)
            printImport(outcome, global.output)
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List regions, all or under one code.")
        @OptionGroup var global: GlobalOptions
        @Option(help: "Only this region and those under it.") var under: String?

        func run() throws {
            let connection = try global.connect()
            let rows = try Regions.list(connection, under: under)
            let levels = ["", "province", "city", "county", "township", "village"]
            let levelsZh = ["", "省", "市", "县", "乡镇", "村"]
            global.output.list(
                [Column("code", "code", "区划代码"), Column("name", "name", "名称"), Column("level", "level", "级别"), Column("parent", "parent", "上级")],
                rows.map { row in
                    let level = Int(row["level"] ?? "") ?? 0
                    return [row["code"], row["name"], global.lang == .zh ? levelsZh[level] : levels[level], row["parent_code"]]
                })
        }
    }
}

struct PersonCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "person", abstract: "Persons who may be placed in posts.", subcommands: [Import.self, Show.self, Status.self])

    struct Import: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Import or update persons from CSV (upsert by resident ID).")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "CSV file: UTF-8 (with or without BOM) or GBK; English or Chinese headers.") var file: String
        @Flag(help: "Check the file and report, without writing.") var dryRun = false
        @Option(help: "Date changed facts hold from, for rows without an effective_from (生效日期) cell (default today).") var from: String?

        func run() throws {
            let from = try self.from.map { try Parse.day($0, "--from") }
            let connection = try global.connect()
            let outcome = try PersonImport.run(connection, file: try Parse.file(file), dryRun: dryRun, from: from)
            printImport(outcome, global.output)
        }
    }

    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show a person as on a day: their facts then, household, statuses, placements, earlier facts.")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "Resident ID (身份证号).") var id: String
        @Option(help: "The day (default today): category, capacity, household, village and account in force then.") var on: String?
        @Flag(help: "Show the full resident ID and bank account.") var reveal = false

        func run() throws {
            let day = try on.map { try Parse.day($0, "--on") } ?? .today()
            let connection = try global.connect()
            try checkReveal(reveal, connection)
            let person = try Persons.find(connection, try Persons.parseID(id), on: day)
            let vocabulary = try Vocabulary.load(connection)
            let lang = global.lang
            let idNumber = person.idNumber
            let shownID = reveal ? idNumber : ((try? ResidentID(idNumber))?.masked ?? idNumber)
            let shownAccount = { (account: String?) in account.map { reveal ? $0 : BankAccount.masked($0) } }
            let output = global.output
            let statuses = try Persons.statuses(connection, id: idNumber)
            let members = try Persons.household(connection, of: person)
            let statusText = statuses.map { period in
                "\(vocabulary.label(.personStatus, period.status, lang)) \(period.from)…\(period.to?.iso ?? "")"
            }.joined(separator: "; ")
            output.entity([
                (Column("id_number", "resident ID", "身份证号"), shownID),
                (Column("name", "name", "姓名"), person.name),
                (Column("birth_date", "birth date", "出生日期"), person.birthDate.iso),
                (Column("on", "as on", "日期"), person.day.iso),
                (Column("facts_from", "facts in force from", "信息生效日期"), person.factsFrom?.iso),
                (Column("household_id", "household", "户编号"), person.householdID),
                (Column("village_code", "village code", "村代码"), person.villageCode),
                (Column("village", "village", "村"), person.villageName),
                (Column("township", "township", "乡镇"), person.townshipName),
                (Column("category", "category", "人员类别"), vocabulary.label(.personCategory, person.category, lang)),
                (Column("labour_capacity", "labour capacity", "劳动能力"), vocabulary.label(.labourCapacity, person.labourCapacity, lang)),
                (Column("bank_account", "bank account", "银行账号"), shownAccount(person.bankAccount)),
                (Column("phone", "phone", "联系电话"), person.phone),
                (Column("statuses", "statuses", "人员状态"), statusText),
                (Column("household_members", "household members", "同户成员"), members.map(\.name).joined(separator: ", ")),
            ], sections: [
                Output.Section(key: "placements", title: Text(en: "Placements and contracts", zh: "聘用与合同"), columns: [
                    Column("post_id", "post", "岗位编号"), Column("region", "region", "区划"), Column("start_on", "from", "上岗日期"),
                    Column("exit_on", "exit", "退岗日期"), Column("exit_reason", "reason", "退岗原因"), Column("contracts", "contracts", "合同"),
                ], rows: try Persons.placements(connection, id: idNumber).map { placement in
                    [placement.postID, placement.regionName, placement.startOn.iso, placement.exitOn?.iso,
                     placement.exitReason.map { vocabulary.label(.exitReason, $0, lang) }, placement.contracts]
                }),
                Output.Section(key: "insurance", title: Text(en: "Accident insurance", zh: "意外伤害保险"), columns: [
                    Column("insurer", "insurer", "保险公司"), Column("policy_number", "policy", "保单号"),
                    Column("from", "from", "起保日期"), Column("to", "to", "终保日期"), Column("premium", "premium", "保费"),
                ], rows: try Insurance.policies(connection, person: idNumber).map { row in
                    [row["insurer"], row["policy_number"], row["valid_from"], row["valid_to"], yuan(row["premium_fen"])]
                }),
                Output.Section(key: "facts", title: Text(en: "Facts over time", zh: "信息变更记录"), columns: [
                    Column("from", "from", "起始日期"), Column("to", "to", "终止日期"), Column("household_id", "household", "户编号"),
                    Column("village_code", "village", "村代码"), Column("category", "category", "人员类别"),
                    Column("labour_capacity", "labour capacity", "劳动能力"), Column("bank_account", "bank account", "银行账号"),
                ], rows: try Persons.history(connection, id: idNumber).map { version in
                    [version.from?.iso, version.to?.iso, version.householdID, version.villageCode,
                     vocabulary.label(.personCategory, version.category, lang),
                     vocabulary.label(.labourCapacity, version.labourCapacity, lang), shownAccount(version.bankAccount)]
                }),
            ])
        }
    }

    struct Status: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Record a status period (deceased, village-cadre, public-employee, employed, pensioner).")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "Resident ID (身份证号).") var id: String
        @Option(help: "Status code or Chinese label.") var set: String
        @Option(help: "First day the status holds (YYYY-MM-DD).") var from: String
        @Option(help: "Last day it holds, if it has ended.") var to: String?

        func run() throws {
            let connection = try global.connect()
            let period = try Persons.setStatus(connection, id: try Persons.parseID(id), status: set,
                                               from: try Parse.day(from, "--from"), to: try to.map { try Parse.day($0, "--to") })
            let vocabulary = try Vocabulary.load(connection)
            global.output.entity([
                (Column("status", "status", "状态"), vocabulary.label(.personStatus, period.status, global.lang)),
                (Column("from", "from", "起始日期"), period.from.iso),
                (Column("to", "to", "终止日期"), period.to?.iso),
            ])
        }
    }
}
