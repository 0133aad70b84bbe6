import ArgumentParser
import Foundation
import Postgres
import WelfarePosts

/// `welfare-posts`: the system of record for rural public-welfare posts (乡村公益性岗位).
struct WelfarePostsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "welfare-posts",
        abstract: tr("The system of record for rural public-welfare posts (乡村公益性岗位).", "乡村公益性岗位管理系统。"),
        discussion: tr("""
            Connection: --database URL, else DATABASE_URL, else libpq's PG* variables and service file.
            Language: --lang zh, or a Chinese locale (LANG=zh_CN.UTF-8), gives Chinese help, messages and labels.
            Exit codes: 0 done; 1 refused by a rule; 2 bad input; 3 database unreachable or not migrated; 130 stopped by Ctrl-C, 143 by SIGTERM (the running statement is cancelled and rolled back).
            The rules, commands and file formats: docs/SPEC.md in the source.
            """, """
            连接数据库：--database URL，否则用 DATABASE_URL，再否则用 libpq 的 PG* 环境变量和服务文件。
            语言：--lang zh 或中文环境（LANG=zh_CN.UTF-8）时，帮助、提示和标签均为中文。
            退出码：0 完成；1 违反规则被拒绝；2 输入有误；3 无法连接数据库或数据库未迁移；130 被 Ctrl-C 中止，143 被 SIGTERM 中止（正在执行的语句被取消并回滚）。
            业务规则、命令和文件格式：见源代码中的 docs/SPEC.md。
            """),
        version: ProductVersion.text(Language.current),
        subcommands: [DB.self, Demo.self, RegionCommand.self, PersonCommand.self, PolicyCommand.self, PostCommand.self,
                      Apply.self, ApplicationCommand.self, Applicants.self, NoticeCommand.self,
                      Hire.self, Renew.self, Exit.self, PlacementCommand.self, InsuranceCommand.self, DueCommand.self, Assess.self,
                      AssessmentCommand.self, AttendanceCommand.self, PayrollCommand.self, DisbursementCommand.self, BankCommand.self, RecoveryCommand.self,
                      AuditCommand.self, LedgerCommand.self, JournalCommand.self, OperatorCommand.self]
    )
}

@main
enum Main {
    /// The language of messages, as read from `--lang` or the locale before parsing.
    static var lang: Lang { Language.current }

    static func main() {
        let extracted = Language.extract(Array(CommandLine.arguments.dropFirst()))
        Language.current = extracted.lang ?? Language.fromEnvironment(ProcessInfo.processInfo.environment)
        let lang = Language.current
        if let problem = extracted.error {
            usageError(lang == .zh ? "--lang 的值应为 en 或 zh" : problem)
        }
        // Ctrl-C and SIGTERM cancel the running statement on the server (see Interruption).
        Interruption.install()
        // A file-size limit (ulimit -f) makes a write fail with EFBIG, which the export turns
        // into a refusal that removes its unfinished file, instead of killing the process.
        signal(SIGXFSZ, SIG_IGN)
        do {
            var command = try WelfarePostsCommand.parseAsRoot(extracted.arguments)
            try command.run()
            // A listing's --output file, written once the command has succeeded.
            try OutputSink.finish(lang)
        } catch where Interruption.received != nil {
            OutputSink.abandon()
            // Whatever failed after an interrupt failed because of it: the cancelled statement,
            // or the next one the cancelled connection refused.
            Interruption.exit()
        } catch let error as AppError {
            OutputSink.abandon()
            FileHandle.standardError.write(Data((error.render(lang) + "\n").utf8))
            exit(error.category.rawValue)
        } catch let error as PostgresError {
            OutputSink.abandon()
            let mapped = AppError(error)
            FileHandle.standardError.write(Data((mapped.render(lang) + "\n").utf8))
            exit(mapped.category.rawValue)
        } catch {
            // Help and version print normally and exit 0; a usage mistake exits 2 (SPEC §9).
            if WelfarePostsCommand.exitCode(for: error) == .success {
                if lang == .zh {
                    // Rendered unwrapped, then wrapped by the columns Chinese text really takes.
                    let help = WelfarePostsCommand.fullMessage(for: error, columns: 100_000)
                    if help.hasPrefix("OVERVIEW:") || help.hasPrefix("USAGE:") {
                        print(ChineseHelp.render(help, width: ChineseHelp.terminalWidth))
                        exit(0)
                    }
                }
                WelfarePostsCommand.exit(withError: error)
            }
            let message = WelfarePostsCommand.fullMessage(for: error)
            usageError(lang == .zh ? ChineseHelp.usage(message) : message.replacingOccurrences(of: "Error: ", with: ""))
        }
    }

    static func usageError(_ message: String) -> Never {
        FileHandle.standardError.write(Data("error: [USAGE] \(message)\n".utf8))
        exit(2)
    }
}
