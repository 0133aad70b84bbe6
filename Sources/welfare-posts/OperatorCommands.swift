import ArgumentParser
import Postgres
import WelfarePosts

/// `operator add | list | remove`: who may log in, with which role, for which region (SPEC §11).
struct OperatorCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "operator", abstract: tr("Operators: logins with a role and a region (system administrators only).", "操作员：带角色和管辖区域的登录名（仅限系统管理员）。"),
        subcommands: [Add.self, List.self, Remove.self])

    static let columns = [
        Column("login", "login", "登录名"), Column("role", "role", "角色"), Column("region_code", "region", "区域代码"),
        Column("region_name", "region name", "区域名称"), Column("added_at", "added at", "添加时间"), Column("added_by", "added by", "添加人"),
    ]

    static func fields(_ row: Row, _ lang: Lang) -> [String?] {
        let role = row["role"].map { code in lang == .zh ? OperatorRole(rawValue: code)?.label ?? code : code }
        return [row["login"], role, row["region_code"], row["region_name"], row["added_at"], row["added_by"]]
    }

    struct Add: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "add", 
            abstract: tr("Add an operator or change their role and region (creates the login role if missing; the DBA sets its password).", "添加操作员或修改其角色和区域（登录名不存在时会创建；密码由数据库管理员设置）。"),
            discussion: tr("Roles: township-admin 乡镇管理员, county-admin 县级管理员, finance 财务人员, auditor 审计人员, system-admin 系统管理员.", "角色：township-admin 乡镇管理员、county-admin 县级管理员、finance 财务人员、auditor 审计人员、system-admin 系统管理员。"))
        @OptionGroup var global: GlobalOptions
        @Argument(help: .tr("PostgreSQL login role name.", "PostgreSQL 登录名。")) var login: String
        @Option(help: .tr("township-admin, county-admin, finance, auditor or system-admin (or the Chinese label).", "角色：township-admin、county-admin、finance、auditor 或 system-admin（也可写中文名称）。")) var role: String
        @Option(help: .tr("The region they work for: a township for a township-admin, a county for a county-admin.", "管辖区域：乡镇管理员为乡镇，县级管理员为县。")) var region: String

        func run() throws {
            let connection = try global.connect()
            let row = try Operators.add(connection, login: login, role: role, region: region)
            global.output.entity(Array(zip(OperatorCommand.columns, OperatorCommand.fields(row, global.lang))))
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "list", abstract: tr("List operators.", "列出操作员。"))
        @OptionGroup var global: GlobalOptions

        func run() throws {
            let connection = try global.connect()
            global.output.list(OperatorCommand.columns, try Operators.list(connection).map { OperatorCommand.fields($0, global.lang) })
        }
    }

    struct Remove: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "remove", 
            abstract: tr("Remove an operator: their record and role membership (the login role stays, with access to nothing).", "删除操作员：删除其记录和角色（登录名保留，但不再能访问任何数据）。"))
        @OptionGroup var global: GlobalOptions
        @Argument(help: .tr("Login role name.", "登录名。")) var login: String

        func run() throws {
            let connection = try global.connect()
            try Operators.remove(connection, login: login)
            global.output.entity([(Column("login", "login", "登录名"), login), (Column("removed", "removed", "已移除"), "true")])
        }
    }
}
