import ArgumentParser
import Foundation
import Postgres
import WelfarePosts

/// `welfare-posts`: the system of record for rural public-welfare posts (乡村公益性岗位).
struct WelfarePostsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "welfare-posts",
        abstract: "The system of record for rural public-welfare posts (乡村公益性岗位).",
        discussion: "Exit codes: 0 done; 1 refused by a rule; 2 bad input; 3 database unreachable or not migrated.",
        subcommands: [DB.self, Demo.self, RegionCommand.self, PersonCommand.self, PolicyCommand.self, PostCommand.self,
                      Apply.self, ApplicationCommand.self, Applicants.self, NoticeCommand.self,
                      Hire.self, Renew.self, Exit.self, InsuranceCommand.self, DueCommand.self, Assess.self,
                      AssessmentCommand.self, AttendanceCommand.self, PayrollCommand.self, DisbursementCommand.self,
                      AuditCommand.self, LedgerCommand.self, JournalCommand.self, OperatorCommand.self]
    )
}

@main
enum Main {
    static func main() {
        let arguments = Array(CommandLine.arguments.dropFirst())
        let lang: Lang = zip(arguments, arguments.dropFirst()).first { $0.0 == "--lang" }.flatMap { Lang(rawValue: $0.1) }
            ?? (arguments.contains("--lang=zh") ? .zh : .en)
        do {
            var command = try WelfarePostsCommand.parseAsRoot(arguments)
            try command.run()
        } catch let error as AppError {
            FileHandle.standardError.write(Data((error.render(lang) + "\n").utf8))
            exit(error.category.rawValue)
        } catch let error as PostgresError {
            let mapped = AppError(error)
            FileHandle.standardError.write(Data((mapped.render(lang) + "\n").utf8))
            exit(mapped.category.rawValue)
        } catch {
            // Help and version print normally and exit 0; a usage mistake exits 2 (SPEC §9).
            let code = WelfarePostsCommand.exitCode(for: error)
            if code == .success {
                WelfarePostsCommand.exit(withError: error)
            }
            let message = WelfarePostsCommand.fullMessage(for: error)
            FileHandle.standardError.write(Data("error: [USAGE] \(message)\n".utf8))
            exit(2)
        }
    }
}
