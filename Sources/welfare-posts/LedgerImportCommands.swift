import ArgumentParser
import WelfarePosts

/// What a ledger import did: counts as an entity, and the IDs given to posts the file numbered
/// none of (the placements file names posts by them).
func printLedgerImport(_ outcome: LedgerImport.Outcome, _ global: GlobalOptions, what: Column, contracts: Bool) {
    let output = global.output
    if outcome.dryRun {
        output.say(Text(en: "dry run: the file is valid and keeps every rule on its dates; nothing was written",
                        zh: "试运行：文件无误，且按其日期符合各项规则；未写入任何数据"))
    }
    let assigned = outcome.assigned.isEmpty ? [] : [Output.Section(
        key: "assigned", title: Text(en: "IDs given to the posts the file numbered none of (the placements file names them so)",
                                     zh: "为文件中未编号的岗位分配的编号（岗位聘用文件中请使用这些编号）"),
        columns: [Column("line", "line", "行"), Column("post_id", "post", "岗位编号")],
        rows: outcome.assigned.map { [String($0.line), $0.id] })]
    output.entity([
        (Column("rows", "rows", "行数"), String(outcome.rows)),
        (what, String(outcome.inserted)),
    ] + (contracts ? [(Column("contracts", outcome.dryRun ? "contracts to write" : "contracts written", outcome.dryRun ? "将写入合同" : "写入合同"),
                       String(outcome.contracts))] : [])
      + [(Column("dry_run", "dry run", "试运行"), output.flag(outcome.dryRun))], sections: assigned)
}

extension PostCommand {
    struct Import: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: tr("Import an existing ledger's posts, with their past dates (all or nothing).", "导入现有台账中的岗位及其历史日期（全部成功或全部不导入）。"),
            discussion: tr("""
                Columns (English or Chinese headers, any order; † optional): post_id 岗位编号†, region_code 区划代码, \
                post_type 岗位类型, funding_channel 资金渠道, developer 开发主体, need 设岗需求, proposed_on 申报日期, \
                approved_on 审批日期, closed_on 撤销日期†, close_reason 撤销原因†. A given post ID is kept (the county's \
                6 digits, a dash, a number); an empty one is assigned as `post propose` does. Every row is checked as of \
                its own dates: proposed ≤ approved < closed (POST_DATES), a pay standard on the approval (PAY_STANDARD), \
                the county's quota on each approval day (QUOTA). A file imported before is refused (ALREADY_IMPORTED).
                """, """
                列（表头可用中文或英文，顺序不限；† 为选填）：岗位编号†、区划代码、岗位类型、资金渠道、开发主体、设岗需求、\
                申报日期、审批日期、撤销日期†、撤销原因†。填写的岗位编号予以保留（6位县级代码、“-”和序号）；未填写的按 \
                `post propose` 的方式自动编号。每行按其自身日期检查：申报 ≤ 审批 < 撤销（POST_DATES）、审批日有待遇标准\
                （PAY_STANDARD）、每个审批日不超过全县岗位总量（QUOTA）。已导入过的文件将被拒绝（ALREADY_IMPORTED）。
                """))
        @OptionGroup var global: GlobalOptions
        @Argument(help: .tr("The posts file: .xlsx (first sheet) or CSV in UTF-8 or GBK.", "岗位文件：.xlsx（第一个工作表）或 UTF-8、GBK 编码的 CSV。")) var file: String
        @Flag(help: .tr("Check the file and every rule, and report, without writing.", "试运行：检查文件和各项规则并报告，不写入。")) var dryRun = false

        func run() throws {
            let connection = try global.connect()
            let outcome = try LedgerImport.importPosts(connection, file: try Parse.file(file), dryRun: dryRun)
            printLedgerImport(outcome, global, what: Column("posts", dryRun ? "posts to write" : "posts written", dryRun ? "将写入岗位" : "写入岗位"),
                              contracts: false)
        }
    }
}

struct PlacementCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "placement", abstract: tr("Placements of an existing ledger.", "现有台账中的聘用记录。"), subcommands: [Import.self])

    struct Import: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: tr("Import an existing ledger's placements and contracts, with their past dates (all or nothing).", "导入现有台账中的聘用及合同记录及其历史日期（全部成功或全部不导入）。"),
            discussion: tr("""
                Columns (English or Chinese headers, any order; † optional): post_id 岗位编号, id_number 身份证号, \
                start_on 上岗日期, contract_kind 合同类型, contract_start 合同起始, contract_end 合同终止, exit_on 退岗日期†, \
                exit_reason 退岗原因†. One row per contract; the rows of one person in one post from one start are one \
                placement. Persons (`person import`) and posts (`post import`) come first. Every rule of SPEC §5 is \
                checked as of the file's dates: CONTRACT_TERM, ONE_POST_PER_PERSON, ONE_HOLDER_PER_POST, POST_NOT_OPEN, \
                HOUSEHOLD_CAP, CATEGORY, AGE, LABOUR_CAPACITY, EXCLUDED_STATUS, PAY_STANDARD on each contract's start, and \
                INSURANCE for contracts still running today (past days without cover are the audit's UNINSURED). \
                A file imported before is refused (ALREADY_IMPORTED).
                """, """
                列（表头可用中文或英文，顺序不限；† 为选填）：岗位编号、身份证号、上岗日期、合同类型、合同起始、合同终止、\
                退岗日期†、退岗原因†。每份合同一行；同一人员在同一岗位同一上岗日期的各行为一次聘用。须先导入人员\
                （`person import`）和岗位（`post import`）。按文件中的日期检查第5节的各项规则：CONTRACT_TERM、\
                ONE_POST_PER_PERSON、ONE_HOLDER_PER_POST、POST_NOT_OPEN、HOUSEHOLD_CAP，以及每份合同起始日的 CATEGORY、\
                AGE、LABOUR_CAPACITY、EXCLUDED_STATUS、PAY_STANDARD；今天仍在履行的合同须有意外伤害保险（INSURANCE），\
                已过去的未保日期由审计列为 UNINSURED。已导入过的文件将被拒绝（ALREADY_IMPORTED）。
                """))
        @OptionGroup var global: GlobalOptions
        @Argument(help: .tr("The placements file: .xlsx (first sheet) or CSV in UTF-8 or GBK.", "聘用文件：.xlsx（第一个工作表）或 UTF-8、GBK 编码的 CSV。")) var file: String
        @Flag(help: .tr("Check the file and every rule, and report, without writing.", "试运行：检查文件和各项规则并报告，不写入。")) var dryRun = false

        func run() throws {
            let connection = try global.connect()
            let outcome = try LedgerImport.importPlacements(connection, file: try Parse.file(file), dryRun: dryRun)
            printLedgerImport(outcome, global, what: Column("placements", dryRun ? "placements to write" : "placements written",
                                                            dryRun ? "将写入聘用" : "写入聘用"), contracts: true)
        }
    }
}
