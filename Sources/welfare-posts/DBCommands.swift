import ArgumentParser
import WelfarePosts

struct DB: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "db", abstract: tr("Create or upgrade the database schema.", "创建或升级数据库结构。"), subcommands: [Migrate.self, Status.self])

    struct Migrate: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "migrate", abstract: tr("Apply pending migrations, each in its own transaction.", "执行待执行的迁移，每个迁移一个事务。"))
        @OptionGroup var global: GlobalOptions

        func run() throws {
            let connection = try global.connect(requireMigrated: false)
            let applied = try Database.mapped { try Migrator(connection: connection).migrate() }
            let output = global.output
            if applied.isEmpty {
                output.say(Text(en: "the database is up to date", zh: "数据库已是最新"))
            }
            output.list([Column("applied", "applied", "已执行迁移")], applied.map { [$0] })
        }
    }

    struct Status: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "status", abstract: tr("List applied and pending migrations.", "列出已执行和待执行的迁移。"))
        @OptionGroup var global: GlobalOptions

        func run() throws {
            let connection = try global.connect(requireMigrated: false)
            let entries = try Database.mapped { try Migrator(connection: connection).status() }
            global.output.list(
                [Column("migration", "migration", "迁移"), Column("state", "state", "状态"), Column("applied_at", "applied at", "执行时间")],
                entries.map { [$0.name, $0.appliedAt == nil ? (global.lang == .zh ? "待执行" : "pending") : (global.lang == .zh ? "已执行" : "applied"), $0.appliedAt] })
        }
    }
}
