import Postgres

/// The rules of SPEC §5–§7, each with the policy clause it comes from (SPEC §12).
public enum RuleCode: String, Sendable, CaseIterable {
    case contractTerm = "CONTRACT_TERM", onePostPerPerson = "ONE_POST_PER_PERSON"
    case oneHolderPerPost = "ONE_HOLDER_PER_POST", postNotOpen = "POST_NOT_OPEN"
    case householdCap = "HOUSEHOLD_CAP", category = "CATEGORY", age = "AGE"
    case labourCapacity = "LABOUR_CAPACITY", excludedStatus = "EXCLUDED_STATUS"
    case insurance = "INSURANCE", payStandard = "PAY_STANDARD", quota = "QUOTA"
    case payrollLocked = "PAYROLL_LOCKED"
    case notPublicised = "NOT_PUBLICISED"
    case accountMissing = "ACCOUNT_MISSING"

    /// What a refusal says when the database's constraint of the same name caught the breach
    /// (another writer got there first, or a client other than this tool wrote the row).
    var whenConstraintBroken: Text? {
        switch self {
        case .onePostPerPerson:
            Text(en: "this person is already in a post on these days: record their exit from it first",
                 zh: "该人员在此期间已在其他岗位任职：请先办理退岗")
        case .oneHolderPerPost:
            Text(en: "this post is already held on these days: exit the holder first or choose another post",
                 zh: "该岗位在此期间已有人在岗：请先为在岗人员办理退岗或另选岗位")
        case .contractTerm:
            Text(en: "a contract must end on or after its start and before the start's next anniversary (每次签订期限不超过1年)",
                 zh: "合同终止日期不得早于起始日期，且须早于起始日期的下一个周年日（每次签订期限不超过1年）")
        case .payrollLocked:
            Text(en: "this month's payroll has been approved and can never change: corrections go into a later month's adjustment lines",
                 zh: "该月工资表已审核锁定，不能更改：更正将在以后月份的补扣发中体现")
        default:
            nil
        }
    }

    /// 依据: the clause of the policy documents this rule enforces.
    public var basis: String {
        switch self {
        case .contractTerm:
            return "人社部发〔2021〕26号（十二）依法签订劳动合同或劳务协议，每次签订期限不超过1年；黑人社发〔2021〕16号（二十八）"
        case .insurance:
            return "人社部发〔2021〕26号（十二）购买意外伤害商业保险；苏人社发〔2021〕82号（九）对无法参加工伤保险的应当为其购买意外伤害保险"
        case .payStandard:
            return "人社部发〔2021〕26号（十二）保持同一区域内类似岗位间聘任标准、待遇保障水平等基本统一；黑人社发〔2021〕16号（二十六）"
        case .category, .age, .labourCapacity, .excludedStatus, .householdCap:
            return "人社部发〔2021〕26号（十二）优先安置符合条件的脱贫人口特别是其中的弱劳力、半劳力，动态调整安置对象条件……及时纠正查处安置不符合条件人员"
        case .postNotOpen, .onePostPerPerson, .oneHolderPerPost:
            return "人社部发〔2021〕26号（十二）健全\"按需设岗、以岗聘任、在岗领补、有序退岗\"管理机制"
        case .quota:
            return "人社部发〔2021〕26号（十二）保持乡村公益性岗位规模总体稳定；黑人社发〔2021〕16号（二十七）岗位数量……清、底数明"
        case .payrollLocked, .accountMissing:
            return "人社部发〔2021〕26号（十二）在岗领补……及时纠正查处……违规发放补贴等行为"
        case .notPublicised:
            return "人社部发〔2021〕26号（十二）健全\"按需设岗、以岗聘任……\"管理机制; county practice: 公开招聘、公示5天无异议后聘用"
        }
    }
}

/// One bad spot in an input file.
public struct FileProblem: Sendable, Equatable {
    public let line: Int
    /// 1-based column position, or nil when the problem is the whole line or file.
    public let column: Int?
    /// The column's header as written in the file.
    public let header: String?
    public let problem: Text

    public init(line: Int, column: Int? = nil, header: String? = nil, problem: Text) {
        self.line = line
        self.column = column
        self.header = header
        self.problem = problem
    }

    public func render(_ lang: Lang) -> String {
        let place: String
        if let column {
            let name = header.map { " (\($0))" } ?? ""
            place = lang == .zh ? "第 \(line) 行，第 \(column) 列\(name)" : "line \(line), column \(column)\(name)"
        } else {
            place = lang == .zh ? "第 \(line) 行" : "line \(line)"
        }
        return "\(place): \(problem(lang))"
    }
}

/// Why a command did not do what was asked. The category decides the exit code (SPEC §9).
public struct AppError: Error, Sendable {
    public enum Category: Int32, Sendable {
        /// Refused by a rule; nothing changed.
        case rule = 1
        /// Bad input: usage, a file or a value; nothing changed.
        case input = 2
        /// The database cannot be reached, is not migrated, or failed.
        case database = 3
        /// Stopped by an interrupt (SIGINT 130; the command line exits 128 + the signal's
        /// number); the running statement was cancelled and rolled back.
        case interrupted = 130
    }

    public let category: Category
    /// A rule code (`HOUSEHOLD_CAP`) or an error code (`BAD_FILE`, `NOT_MIGRATED`).
    public let code: String
    public let message: Text
    public let rule: RuleCode?
    public let problems: [FileProblem]

    public init(_ category: Category, code: String, _ message: Text, problems: [FileProblem] = []) {
        self.category = category
        self.code = code
        self.message = message
        self.rule = nil
        self.problems = problems
    }

    /// A refusal by one of the rules of SPEC §5.
    public init(rule: RuleCode, _ message: Text) {
        self.category = .rule
        self.code = rule.rawValue
        self.message = message
        self.rule = rule
        self.problems = []
    }

    /// A refusal by one of the rules of SPEC §5, of rows of a file listed each with its rule.
    public init(rule: RuleCode, _ message: Text, problems: [FileProblem]) {
        self.category = .rule
        self.code = rule.rawValue
        self.message = message
        self.rule = rule
        self.problems = problems
    }

    public static func badInput(_ message: Text, code: String = "BAD_INPUT") -> AppError {
        AppError(.input, code: code, message)
    }

    /// `--to` earlier than `--from` (days or months).
    public static func toBeforeFrom(_ from: some CustomStringConvertible, _ to: some CustomStringConvertible) -> AppError {
        badInput(Text(en: "--to \(to) is before --from \(from)", zh: "--to \(to) 早于 --from \(from)"))
    }

    public static func notFound(_ message: Text) -> AppError {
        AppError(.input, code: "NOT_FOUND", message)
    }

    /// What standard error shows: `error: [CODE] message`, the basis of a rule, and each problem.
    public func render(_ lang: Lang) -> String {
        var lines = ["error: [\(code)] \(message(lang))"]
        if let rule { lines.append((lang == .zh ? "依据: " : "basis: ") + rule.basis) }
        lines += problems.map { "  " + $0.render(lang) }
        // A message may quote what the user or the database gave: never a raw control character.
        return lines.map(TextValue.displayed).joined(separator: "\n")
    }

    /// What an interrupted command says. `signal` is the signal's number (SIGINT, SIGTERM,
    /// SIGHUP), or nil when only the connection was cancelled.
    public static func interrupted(signal: Int32?) -> AppError {
        let how: Text = switch signal {
        case 2: Text(en: "stopped by Ctrl-C (SIGINT)", zh: "已按 Ctrl-C 中断（SIGINT）")
        case 15: Text(en: "stopped by SIGTERM", zh: "已被终止（SIGTERM）")
        case 1: Text(en: "stopped: the terminal was closed (SIGHUP)", zh: "已中断：终端已关闭（SIGHUP）")
        case let number?: Text(en: "stopped by signal \(number)", zh: "已被信号 \(number) 中断")
        case nil: Text(en: "stopped", zh: "已中断")
        }
        let outcome = Connection.anyCommittedWrites
            ? Text(en: "the database cancelled the running statement and rolled back its transaction; what this command had saved before that stays saved",
                   zh: "数据库已取消正在执行的语句并回滚其事务；此前本命令已保存的内容仍然保留")
            : Text(en: "the database cancelled the running statement and rolled back its transaction; nothing was changed",
                   zh: "数据库已取消正在执行的语句并回滚其事务；未做任何更改")
        return AppError(.interrupted, code: "INTERRUPTED", Text(en: "\(how.en): \(outcome.en)", zh: "\(how.zh)：\(outcome.zh)"))
    }

    /// How a message about a stopped statement ends: nothing was changed, or what was saved before stays.
    private static var savedBefore: Text {
        Connection.anyCommittedWrites
            ? Text(en: "; what this command had saved before that stays saved", zh: "；此前本命令已保存的内容仍然保留")
            : Text(en: "; nothing was changed", zh: "；未做任何更改")
    }

    /// Constraints that keep §5's structure without a rule code of their own.
    static let otherConstraints: [String: (Category, String, Text)] = [
        "contract_overlap": (.rule, "CONTRACT_OVERLAP", Text(en: "contracts of one placement cannot overlap", zh: "同一聘用的合同期限不能重叠")),
        "contract_within_placement": (.rule, "CONTRACT_OVERLAP", Text(en: "a contract cannot start before its placement", zh: "合同不能早于上岗日期开始")),
        "exit_after_start": (.rule, "EXIT_BEFORE_START", Text(en: "an exit cannot be dated before the placement's start", zh: "退岗日期不能早于上岗日期")),
        "operator_region": (.input, "OPERATOR_REGION", Text(
            en: "a township admin works for a township, a county admin for a county, finance and auditors for a county or a region above it: give a region of that level",
            zh: "乡镇管理员的区域应为乡镇，县级管理员应为县，财务人员和审计人员应为县或县以上区划：请给出相应级别的区划")),
        "pay_standard_bounds": (.input, "BAD_AMOUNT", Text(
            en: "a monthly pay standard is 0 to 100,000.00 yuan", zh: "每月待遇标准应为 0 至 100,000.00 元")),
        "disbursement_amount_bounds": (.input, "BAD_AMOUNT", Text(
            en: "a payment is 0 to 1,000,000.00 yuan", zh: "单笔发放金额应为 0 至 1,000,000.00 元")),
        "insurance_premium_bounds": (.input, "BAD_AMOUNT", Text(
            en: "a premium is 0 to 1,000,000.00 yuan", zh: "保费应为 0 至 1,000,000.00 元")),
        "disbursement_reference_once": (.input, "ALREADY_IMPORTED", Text(
            en: "a payment with this bank reference was already recorded (by another import at the same time?); nothing was imported",
            zh: "该交易流水号的发放记录已经导入（是否有另一导入同时进行？）；未导入任何数据")),
        "disbursement_payment_once": (.input, "ALREADY_IMPORTED", Text(
            en: "this payment (same person, month, post, account, amount and date) was already recorded; nothing was imported",
            zh: "该笔发放（相同的人员、月份、岗位、账号、金额和日期）已经导入；未导入任何数据")),
        "operator_login_form": (.input, "BAD_LOGIN", Text(
            en: "that is not a usable login: lower-case letters, digits, '_', '.', '-', starting with a letter, at most 63 characters, not starting with pg_ or wp_",
            zh: "不能作为登录名：应为小写字母、数字、“_”“.”“-”，以字母开头，最多63个字符，且不以 pg_ 或 wp_ 开头")),
        "operator_self": (.rule, "OPERATOR_SELF", Text(
            en: "nobody may add, change or remove their own operator record, or one of a login they control: another system administrator must do it",
            zh: "任何人不得添加、修改或删除本人或其可控制的登录名的操作员记录：请由其他系统管理员办理")),
        "objection_within_notice": (.rule, "NOTICE_CLOSED", Text(
            en: "an objection is recorded with a date within its notice's period", zh: "异议日期须在公示期内")),
        "objection_resolved_once": (.rule, "OBJECTION_RESOLVED", Text(
            en: "that objection has been resolved and its finding stands: record a new objection to reopen the case",
            zh: "该异议已处理，处理结论不可更改：如需重新处理，请另行登记异议")),
        "persons_checked_at_once": (.input, "FILE_TOO_LARGE", Text(
            en: "a township's file may name at most 100,000 persons: split the file and import the parts one after another",
            zh: "乡镇导入的文件最多可包含 100,000 人：请将文件拆分后逐个导入")),
    ]

    /// Turns a database error into what the user should read. Constraint names are rule codes
    /// in lower case (`one_post_per_person`), so a constraint broken by a concurrent writer
    /// still reads as the rule it keeps.
    public init(_ error: PostgresError) {
        if error.kind == .cancelled {
            self = .interrupted(signal: nil)
            return
        }
        if error.isQueryCanceled {
            // Stopped by the server: statement_timeout (deploy/production), or a DBA's pg_cancel_backend.
            let why = error.message.contains("statement timeout")
                ? Text(en: "it ran longer than the database allows (statement_timeout)", zh: "其运行时间超过数据库允许的上限（statement_timeout）")
                : Text(en: "it was cancelled on the server (\(error.message))", zh: "它在服务器上被取消（\(error.message)）")
            self.init(.database, code: error.message.contains("statement timeout") ? "STATEMENT_TIMEOUT" : "QUERY_CANCELED", Text(
                en: "the database stopped the statement because \(why.en), and rolled back its transaction\(AppError.savedBefore.en). Try a smaller --region, or at a quieter time; the database administrator sets the limit",
                zh: "数据库已停止该语句（\(why.zh)）并回滚其事务\(AppError.savedBefore.zh)。请缩小 --region 范围或在空闲时重试；时限由数据库管理员设置"))
            return
        }
        if error.kind == .connection {
            self.init(.database, code: "DATABASE_UNREACHABLE", Text(
                en: "cannot reach the database: \(error.message). Check --database, DATABASE_URL or the PG* variables, and that the server is running.",
                zh: "无法连接数据库：\(error.message)。请检查 --database、DATABASE_URL 或 PG* 环境变量，并确认数据库服务已启动。"))
            return
        }
        if let name = error.constraintName, let rule = RuleCode(rawValue: name.uppercased()) {
            self.init(rule: rule, rule.whenConstraintBroken ?? Text(en: "refused by rule \(rule.rawValue): \(error.message)",
                                                                    zh: "违反规则 \(rule.rawValue)：\(error.message)"))
            return
        }
        if let name = error.constraintName, let (category, code, text) = AppError.otherConstraints[name] {
            self.init(category, code: code, text)
            return
        }
        if error.isRaised, let rule = RuleCode(rawValue: error.detail ?? "") {
            self.init(rule: rule, Text(en: error.message, zh: error.hint ?? error.message))
            return
        }
        // Both are 42501; only the message tells them apart (English: deploy/production/bootstrap.sh
        // sets the database's lc_messages to C).
        if error.sqlState == "42501" && error.message.contains("row-level security") {
            self.init(.rule, code: "OUTSIDE_REGION", Text(
                en: "that row is outside your region (\(error.message)): you can only change rows of your own region; an operator of the other region must do it",
                zh: "该数据不在您的管辖区域内（\(error.message)）：您只能修改本区域的数据，请由所属区域的操作员办理"))
            return
        }
        if error.sqlState == "42501" {
            self.init(.rule, code: "PERMISSION_DENIED", Text(
                en: "your role may not do this (\(error.message)): it is another role's work; ask an operator who holds that role, or a system administrator to change yours",
                zh: "您的角色无权执行此操作（\(error.message)）：此项工作属于其他角色；请由相应角色的操作员办理，或联系系统管理员调整您的角色"))
            return
        }
        if error.sqlState.hasPrefix("23") || error.sqlState.hasPrefix("22") {
            let constraint = error.constraintName.map { " (\($0))" } ?? ""
            self.init(.input, code: "INVALID_DATA", Text(
                en: "the database refused the data\(constraint): \(error.message)",
                zh: "数据库拒绝了这些数据\(constraint)：\(error.message)"))
            return
        }
        self.init(.database, code: "DATABASE_ERROR", Text(
            en: "the database failed: \(error.message)", zh: "数据库出错：\(error.message)"))
    }
}
