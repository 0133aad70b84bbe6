import ArgumentParser
import Postgres
import WelfarePosts

/// What an import did: counts as an entity, so `--format json` gives an object.
func printImport(_ outcome: ImportOutcome, _ output: Output, extra: [(Column, String?)] = []) {
    if outcome.dryRun {
        output.say(Text(en: "dry run: the file is valid; nothing was written", zh: "试运行：文件无误，未写入任何数据"))
    }
    output.entity([
        (Column("rows", "rows", "行数"), String(outcome.rows)),
        (Column("inserted", outcome.dryRun ? "would insert" : "inserted", outcome.dryRun ? "将新增" : "新增"), String(outcome.inserted)),
        (Column("updated", outcome.dryRun ? "would update" : "updated", outcome.dryRun ? "将更新" : "更新"), String(outcome.updated)),
        (Column("unchanged", "unchanged", "未变"), String(outcome.unchanged)),
        (Column("dry_run", "dry run", "试运行"), output.flag(outcome.dryRun)),
    ] + extra)
}

struct RegionCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "region", abstract: tr("The statistical division tree.", "统计用区划。"), subcommands: [Import.self, List.self])

    struct Import: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "import", 
            abstract: tr("Import regions from CSV (code 区划代码, name 名称).", "从 CSV 文件导入区划（列：区划代码、名称）。"),
            discussion: tr("""
                A county's own file (its county, townships and villages, without the province and city rows) \
                imports as it is: regions above the file's that are not known yet are recorded by code, without \
                a name, until a later file names them. Re-importing renames; nothing is deleted.
                """, """
                县里自己的区划文件（县、乡镇、村，不含省、市）可以直接导入：文件中区划的上级区划如尚未登记，\
                只按代码登记（暂无名称），以后的文件可以补上名称。重复导入会更新名称，不会删除任何区划。
                """))
        @OptionGroup var global: GlobalOptions
        @Argument(help: .tr("CSV file: UTF-8 (with or without BOM) or GBK.", "CSV 文件：UTF-8（有无 BOM 均可）或 GBK 编码。")) var file: String
        @Flag(help: .tr("Check the file and report, without writing.", "试运行：只检查文件并报告，不写入。")) var dryRun = false

        func run() throws {
            let connection = try global.connect()
            let result = try RegionImport.importing(connection, file: try Parse.file(file), dryRun: dryRun)
            let codes = result.recordedByCode
            if !codes.isEmpty {
                let list = codes.joined(separator: ", ")
                global.output.say(dryRun
                    ? Text(en: "regions above the file's that are not known would be recorded by code, without a name, until a later file names them: \(list)",
                           zh: "文件中区划的上级区划尚未登记，将只按代码登记（暂无名称，以后的文件可补上名称）：\(list)")
                    : Text(en: "regions above the file's that were not known are recorded by code, without a name, until a later file names them: \(list)",
                           zh: "文件中区划的上级区划原未登记，已只按代码登记（暂无名称，以后的文件可补上名称）：\(list)"))
            }
            printImport(result.outcome, global.output, extra: [
                (Column("recorded_by_code", dryRun ? "would record by code" : "recorded by code", dryRun ? "将按代码登记" : "按代码登记"),
                 String(codes.count)),
            ])
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "list", abstract: tr("List regions, all or under one code.", "列出全部区划，或某区划及其下级。"))
        @OptionGroup var global: GlobalOptions
        @Option(help: .tr("Only this region and those under it.", "只看该区划及其下级。")) var under: String?

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
        commandName: "person", abstract: tr("Persons who may be placed in posts.", "可安置上岗的人员。"), subcommands: [Import.self, Show.self, List.self, Status.self])

    struct Import: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "import", abstract: tr("Import or update persons from CSV (upsert by resident ID).", "从 CSV 文件导入或更新人员（按身份证号新增或更新）。"))
        @OptionGroup var global: GlobalOptions
        @Argument(help: .tr("CSV file: UTF-8 (with or without BOM) or GBK; English or Chinese headers.", "CSV 文件：UTF-8（有无 BOM 均可）或 GBK 编码；表头可用中文或英文。")) var file: String
        @Flag(help: .tr("Check the file and report, without writing.", "试运行：只检查文件并报告，不写入。")) var dryRun = false
        @Option(help: .tr("Date changed facts hold from, for rows without an effective_from (生效日期) cell (default today).", "变更的信息自何日起生效（适用于未填“生效日期”的行；默认今天）。")) var from: String?

        func run() throws {
            let from = try self.from.map { try Parse.day($0, "--from") }
            let connection = try global.connect()
            let outcome = try PersonImport.run(connection, file: try Parse.file(file), dryRun: dryRun, from: from)
            printImport(outcome, global.output)
        }
    }

    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "show", abstract: tr("Show a person as on a day: their facts then, household, statuses, placements, earlier facts.", "查看人员在某日的信息：当日的各项信息、同户成员、人员状态、聘用记录和以往信息。"))
        @OptionGroup var global: GlobalOptions
        @Argument(help: .tr("Resident ID (身份证号).", "身份证号。")) var id: String
        @Option(help: .tr("The day (default today): category, capacity, household, village and account in force then.", "日期（默认今天）：显示当日有效的人员类别、劳动能力、户、村和银行账号。")) var on: String?
        @Flag(help: .tr("Show the full resident ID and bank account.", "显示完整的身份证号和银行账号。")) var reveal = false

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

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "list", 
            abstract: tr("Find persons without their resident ID: by name, village, household, in post.", "不用身份证号查找人员：按姓名、村、户、是否在岗。"),
            discussion: tr("""
                Filters combine; without any, every person of your region is listed. Resident IDs are masked \
                unless --reveal is given by a role allowed to see them (township and county admins, auditors).
                """, """
                各筛选条件可以组合；不加条件时列出您管辖区域内的全部人员。身份证号默认隐去中间部分，\
                有权查看的角色（乡镇管理员、县级管理员、审计人员）可加 --reveal 显示完整号码。
                """))
        @OptionGroup var global: GlobalOptions
        @Option(help: .tr("A part of the name (姓名), e.g. 秀英.", "姓名的一部分，例如“秀英”。")) var name: String?
        @Option(help: .tr("A village code, or a township or county code for all its villages.", "村代码；也可写乡镇或县的代码，查其下所有村。")) var village: String?
        @Option(help: .tr("A household ID (户编号).", "户编号。")) var household: String?
        @Flag(help: .tr("Only persons in post on the day: placement open, a contract covering the day, alive.", "只看当日在岗的人员：聘用未终止、当日有合同、未死亡。")) var inPost = false
        @Option(help: .tr("The day (YYYY-MM-DD, default today in China).", "日期（YYYY-MM-DD，默认北京时间今天）。")) var on: String?
        @Flag(help: .tr("Show full resident IDs.", "显示完整的身份证号。")) var reveal = false

        func run() throws {
            let day = try on.map { try Parse.day($0, "--on") } ?? .today()
            let connection = try global.connect()
            try checkReveal(reveal, connection)
            let vocabulary = try Vocabulary.load(connection)
            let lang = global.lang, output = global.output
            let rows = try Persons.list(connection, name: name, village: village, household: household, inPostOnly: inPost, on: day)
            output.list(
                [Column("id_number", "resident ID", "身份证号"), Column("name", "name", "姓名"), Column("birth_date", "born", "出生日期"),
                 Column("household_id", "household", "户编号"), Column("village_code", "village code", "村代码"),
                 Column("village", "village", "村"), Column("township", "township", "乡镇"),
                 Column("category", "category", "人员类别"), Column("labour_capacity", "labour capacity", "劳动能力"),
                 Column("post_id", "post", "岗位编号"), Column("in_post", "in post", "在岗")],
                rows.map { row in
                    [masked(row["id_number"], reveal: reveal), row["name"], row["birth_date"], row["household_id"],
                     row["village_code"], row["village"], row["township"],
                     row["category"].map { vocabulary.label(.personCategory, $0, lang) },
                     row["labour_capacity"].map { vocabulary.label(.labourCapacity, $0, lang) },
                     row["post_id"], output.flag(row["in_post"] == "t")]
                })
        }
    }

    struct Status: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "status", 
            abstract: tr("Record a status period (deceased, village-cadre, public-employee, employed, pensioner).", "登记人员状态及其期间（死亡、村干部、财政供养人员、已稳定就业、领取职工养老金）。"))
        @OptionGroup var global: GlobalOptions
        @Argument(help: .tr("Resident ID (身份证号).", "身份证号。")) var id: String
        @Option(help: .tr("Status code or Chinese label.", "状态（代码或中文名称）。")) var set: String
        @Option(help: .tr("First day the status holds (YYYY-MM-DD).", "状态开始日期（YYYY-MM-DD）。")) var from: String
        @Option(help: .tr("Last day it holds, if it has ended.", "状态结束日期（如已结束）。")) var to: String?

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
