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
        (Column("dry_run", "dry run", "试运行"), outcome.dryRun ? "true" : "false"),
    ] + extra)
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
        commandName: "person", abstract: "Persons who may be placed in posts.", subcommands: [Import.self, Show.self, List.self, Status.self])

    struct Import: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Import or update persons from CSV (upsert by resident ID).")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "CSV file: UTF-8 (with or without BOM) or GBK; English or Chinese headers.") var file: String
        @Flag(help: "Check the file and report, without writing.") var dryRun = false

        func run() throws {
            let connection = try global.connect()
            let outcome = try PersonImport.run(connection, file: try Parse.file(file), dryRun: dryRun)
            printImport(outcome, global.output)
        }
    }

    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show a person, their household and their statuses.")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "Resident ID (身份证号).") var id: String
        @Flag(help: "Show the full resident ID and bank account.") var reveal = false

        func run() throws {
            let connection = try global.connect()
            try checkReveal(reveal, connection)
            let person = try Persons.find(connection, try Persons.parseID(id))
            let vocabulary = try Vocabulary.load(connection)
            let lang = global.lang
            let idNumber = person["id_number"] ?? ""
            let shownID = reveal ? idNumber : ((try? ResidentID(idNumber))?.masked ?? idNumber)
            let output = global.output
            let statuses = try Persons.statuses(connection, id: idNumber)
            let members = try Persons.household(connection, of: person)
            let statusText = statuses.map { row in
                "\(vocabulary.label(.personStatus, row["status"] ?? "", lang)) \(row["valid_from"] ?? "")…\(row["valid_to"] ?? "")"
            }.joined(separator: "; ")
            output.entity([
                (Column("id_number", "resident ID", "身份证号"), shownID),
                (Column("name", "name", "姓名"), person["name"]),
                (Column("birth_date", "birth date", "出生日期"), person["birth_date"]),
                (Column("household_id", "household", "户编号"), person["household_id"]),
                (Column("village_code", "village code", "村代码"), person["village_code"]),
                (Column("village", "village", "村"), person["village"]),
                (Column("township", "township", "乡镇"), person["township"]),
                (Column("category", "category", "人员类别"), person["category"].map { vocabulary.label(.personCategory, $0, lang) }),
                (Column("labour_capacity", "labour capacity", "劳动能力"), person["labour_capacity"].map { vocabulary.label(.labourCapacity, $0, lang) }),
                (Column("bank_account", "bank account", "银行账号"), person["bank_account"].map { reveal ? $0 : BankAccount.masked($0) }),
                (Column("phone", "phone", "联系电话"), person["phone"]),
                (Column("statuses", "statuses", "人员状态"), statusText),
                (Column("household_members", "household members", "同户成员"), members.map { $0["name"] ?? "" }.joined(separator: ", ")),
            ], sections: [
                Output.Section(key: "placements", title: Text(en: "Placements and contracts", zh: "聘用与合同"), columns: [
                    Column("post_id", "post", "岗位编号"), Column("region", "region", "区划"), Column("start_on", "from", "上岗日期"),
                    Column("exit_on", "exit", "退岗日期"), Column("exit_reason", "reason", "退岗原因"), Column("contracts", "contracts", "合同"),
                ], rows: try Persons.placements(connection, id: idNumber).map { row in
                    [row["post_id"], row["region_name"], row["start_on"], row["exit_on"],
                     row["exit_reason"].map { vocabulary.label(.exitReason, $0, lang) }, row["contracts"]]
                }),
                Output.Section(key: "insurance", title: Text(en: "Accident insurance", zh: "意外伤害保险"), columns: [
                    Column("insurer", "insurer", "保险公司"), Column("policy_number", "policy", "保单号"),
                    Column("from", "from", "起保日期"), Column("to", "to", "终保日期"), Column("premium", "premium", "保费"),
                ], rows: try Insurance.policies(connection, person: idNumber).map { row in
                    [row["insurer"], row["policy_number"], row["valid_from"], row["valid_to"], yuan(row["premium_fen"])]
                }),
            ])
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Find persons without their resident ID: by name, village, household, in post.",
            discussion: """
                Filters combine; without any, every person of your region is listed. Resident IDs are masked \
                unless --reveal is given by a role allowed to see them (township and county admins, auditors).
                """)
        @OptionGroup var global: GlobalOptions
        @Option(help: "A part of the name (姓名), e.g. 秀英.") var name: String?
        @Option(help: "A village code, or a township or county code for all its villages.") var village: String?
        @Option(help: "A household ID (户编号).") var household: String?
        @Flag(help: "Only persons in post on the day: placement open, a contract covering the day, alive.") var inPost = false
        @Option(help: "The day (YYYY-MM-DD, default today in China).") var on: String?
        @Flag(help: "Show full resident IDs.") var reveal = false

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
        static let configuration = CommandConfiguration(
            abstract: "Record a status period (deceased, village-cadre, public-employee, employed, pensioner).")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "Resident ID (身份证号).") var id: String
        @Option(help: "Status code or Chinese label.") var set: String
        @Option(help: "First day the status holds (YYYY-MM-DD).") var from: String
        @Option(help: "Last day it holds, if it has ended.") var to: String?

        func run() throws {
            let connection = try global.connect()
            let row = try Persons.setStatus(connection, id: try Persons.parseID(id), status: set,
                                            from: try Parse.day(from, "--from"), to: try to.map { try Parse.day($0, "--to") })
            let vocabulary = try Vocabulary.load(connection)
            global.output.entity([
                (Column("status", "status", "状态"), row["status"].map { vocabulary.label(.personStatus, $0, global.lang) }),
                (Column("from", "from", "起始日期"), row["valid_from"]),
                (Column("to", "to", "终止日期"), row["valid_to"]),
            ])
        }
    }
}
