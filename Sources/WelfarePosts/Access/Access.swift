import Postgres

/// The roles of SPEC §11. Each is a PostgreSQL group role (`wp_township_admin`, …) whose
/// privileges and the row-level security of `sql/0007_access.sql` are what really decide.
public enum OperatorRole: String, Sendable, CaseIterable {
    case townshipAdmin = "township-admin", countyAdmin = "county-admin", finance, auditor, systemAdmin = "system-admin"

    public var label: String {
        switch self {
        case .townshipAdmin: "乡镇管理员"
        case .countyAdmin: "县级管理员"
        case .finance: "财务人员"
        case .auditor: "审计人员"
        case .systemAdmin: "系统管理员"
        }
    }

    /// The code or the Chinese label.
    public init?(input: String) {
        guard let role = OperatorRole(rawValue: input) ?? OperatorRole.allCases.first(where: { $0.label == input }) else { return nil }
        self = role
    }

    /// Who may print full resident IDs and bank accounts with `--reveal`: those who work with
    /// persons by name (administrators) or check them (auditors). Finance gets them in full only
    /// in the payroll export, which the bank needs; system administrators never need them.
    public var mayReveal: Bool { [.townshipAdmin, .countyAdmin, .auditor].contains(self) }
}

/// Who is logged in, as the database sees it.
public enum Access {
    public struct Operator: Sendable {
        public let role: OperatorRole
        public let region: String
    }

    /// The logged-in operator, or nil for a role that is not one (the migration owner, a DBA).
    public static func current(_ connection: Connection) throws -> Operator? {
        let row = try Database.mapped { try connection.query("SELECT operator_role() AS role, operator_region() AS region")[0] }
        guard let role = row["role"].flatMap(OperatorRole.init(rawValue:)), let region = row["region"] else { return nil }
        return Operator(role: role, region: region)
    }

    /// `--reveal` is refused to roles that may not see full IDs and accounts.
    public static func requireReveal(_ connection: Connection) throws {
        guard let current = try current(connection), !current.role.mayReveal else { return }
        throw AppError(.rule, code: "REVEAL_NOT_ALLOWED", Text(
            en: "operators with role \(current.role.rawValue) may not reveal resident IDs and bank accounts: run the command without --reveal\(current.role == .finance ? " (the payroll export carries them in full)" : "")",
            zh: "\(current.role.label)无权查看完整的身份证号和银行账号：请去掉 --reveal\(current.role == .finance ? "（工资发放导出文件中为完整号码）" : "")"))
    }

    /// What a command says when the row it names exists but lies outside the operator's region.
    public static func outsideRegion(_ what: Text) -> AppError {
        AppError(.rule, code: "OUTSIDE_REGION", Text(
            en: "\(what.en) is outside your region: only an operator of its region can see or change it",
            zh: "\(what.zh)不在您的管辖区域内：只有所属区域的操作员才能查看或修改"))
    }
}

/// Operators (`operator add | list | remove`): a login, a role, a region. Only system
/// administrators may change them; the database refuses everyone else.
public enum Operators {
    static let columns = """
        o.login, o.role, o.region_code, r.name AS region_name, to_char(o.added_at, 'YYYY-MM-DD HH24:MI') AS added_at, o.added_by
        """

    /// Adds an operator, or changes the role and region of an existing one. The login role is
    /// created without a password if missing: the DBA sets one (`ALTER ROLE … PASSWORD`) or
    /// `pg_hba.conf` names a certificate.
    public static func add(_ connection: Connection, login: String, role text: String, region: String) throws -> Row {
        guard let role = OperatorRole(input: text) else {
            throw AppError.badInput(Text(
                en: "'\(text)' is not an operator role: \(OperatorRole.allCases.map(\.rawValue).joined(separator: ", "))",
                zh: "“\(text)”不是操作员角色：\(OperatorRole.allCases.map { "\($0.rawValue)（\($0.label)）" }.joined(separator: "、"))"),
                code: "UNKNOWN_CODE")
        }
        try checkLogin(login)
        let code = try Regions.require(connection, region)
        let fits: Bool = switch role {
        case .townshipAdmin: code.level == .township
        case .countyAdmin: code.level == .county
        case .systemAdmin: true
        case .finance, .auditor: code.level <= .county
        }
        guard fits else {
            throw AppError.badInput(Text(
                en: "an operator with role \(role.rawValue) works for \(role == .townshipAdmin ? "a township" : role == .countyAdmin ? "a county" : "a county or a region above it"); \(code.value) is not one",
                zh: "\(role.label)的区域应为\(role == .townshipAdmin ? "乡镇" : role == .countyAdmin ? "县" : "县或县以上区划")；\(code.value) 不符合"),
                code: "OPERATOR_REGION")
        }
        return try Database.mapped {
            try connection.transaction {
                try connection.query("SELECT operator_add($1, $2, $3)", [login, role.rawValue, code.value])
                return try connection.query("SELECT \(columns) FROM operator o JOIN region r ON r.code = o.region_code WHERE o.login = $1",
                                            [login])[0]
            }
        }
    }

    /// Removes an operator's record and group membership; the login role itself stays.
    public static func remove(_ connection: Connection, login: String) throws {
        let removed = try Database.mapped {
            try connection.transaction { try connection.query("SELECT operator_remove($1) AS removed", [login])[0]["removed"] }
        }
        guard removed == "t" else {
            throw AppError.notFound(Text(en: "\(login) is not an operator: `operator list` shows them",
                                         zh: "\(login) 不是操作员：可用 `operator list` 查看"))
        }
    }

    public static func list(_ connection: Connection) throws -> [Row] {
        try Database.mapped {
            try connection.query("SELECT \(columns) FROM operator o JOIN region r ON r.code = o.region_code ORDER BY o.login")
        }
    }

    /// Login names are kept to what needs no quoting anywhere: letters, digits, `_`, `.`, `-`.
    static func checkLogin(_ login: String) throws {
        let allowed = login.utf8.allSatisfy { ($0 >= 0x61 && $0 <= 0x7A) || ($0 >= 0x30 && $0 <= 0x39) || $0 == 0x5F || $0 == 0x2E || $0 == 0x2D }
        guard !login.isEmpty, login.utf8.count <= 63, allowed, let first = login.utf8.first, first >= 0x61 && first <= 0x7A,
              !login.hasPrefix("pg_"), !login.hasPrefix("wp_") else {
            throw AppError.badInput(Text(
                en: "'\(login)' is not a usable login: lower-case letters, digits, '_', '.', '-', starting with a letter, at most 63 characters, not starting with pg_ or wp_",
                zh: "“\(login)”不能作为登录名：应为小写字母、数字、“_”“.”“-”，以字母开头，最多63个字符，且不以 pg_ 或 wp_ 开头"),
                code: "BAD_LOGIN")
        }
    }
}
