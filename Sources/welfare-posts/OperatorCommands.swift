import ArgumentParser
import Postgres
import WelfarePosts

/// `operator add | list | remove`: who may log in, with which role, for which region (SPEC §11).
struct OperatorCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "operator", abstract: "Operators: logins with a role and a region (system administrators only).",
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
        static let configuration = CommandConfiguration(
            abstract: "Add an operator or change their role and region (creates the login role if missing; the DBA sets its password).",
            discussion: "Roles: township-admin 乡镇管理员, county-admin 县级管理员, finance 财务人员, auditor 审计人员, system-admin 系统管理员.")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "PostgreSQL login role name.") var login: String
        @Option(help: "township-admin, county-admin, finance, auditor or system-admin (or the Chinese label).") var role: String
        @Option(help: "The region they work for: a township for a township-admin, a county for a county-admin.") var region: String

        func run() throws {
            let connection = try global.connect()
            let row = try Operators.add(connection, login: login, role: role, region: region)
            global.output.entity(Array(zip(OperatorCommand.columns, OperatorCommand.fields(row, global.lang))))
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List operators.")
        @OptionGroup var global: GlobalOptions

        func run() throws {
            let connection = try global.connect()
            global.output.list(OperatorCommand.columns, try Operators.list(connection).map { OperatorCommand.fields($0, global.lang) })
        }
    }

    struct Remove: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Remove an operator: their record and role membership (the login role stays, with access to nothing).")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "Login role name.") var login: String

        func run() throws {
            let connection = try global.connect()
            try Operators.remove(connection, login: login)
            global.output.entity([(Column("login", "login", "登录名"), login), (Column("removed", "removed", "已移除"), "true")])
        }
    }
}
