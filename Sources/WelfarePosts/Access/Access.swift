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
    /// The logged-in operator's role, or nil for a role that is not one (the migration owner, a DBA).
    public static func currentRole(_ connection: Connection) throws -> OperatorRole? {
        try Database.mapped { try connection.query("SELECT operator_role() AS role")[0]["role"] }.flatMap(OperatorRole.init(rawValue:))
    }

    /// `--reveal` is refused to roles that may not see full IDs and accounts.
    public static func requireReveal(_ connection: Connection) throws {
        guard let role = try currentRole(connection), !role.mayReveal else { return }
        throw AppError(.rule, code: "REVEAL_NOT_ALLOWED", Text(
            en: "operators with role \(role.rawValue) may not reveal resident IDs and bank accounts: run the command without --reveal\(role == .finance ? " (the payroll export carries them in full)" : "")",
            zh: "\(role.label)无权查看完整的身份证号和银行账号：请去掉 --reveal\(role == .finance ? "（工资发放导出文件中为完整号码）" : "")"))
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
                en: "'\(TextValue.quoted(text))' is not an operator role: \(OperatorRole.allCases.map(\.rawValue).joined(separator: ", "))",
                zh: "“\(TextValue.quoted(text))”不是操作员角色：\(OperatorRole.allCases.map { "\($0.rawValue)（\($0.label)）" }.joined(separator: "、"))"),
                code: "UNKNOWN_CODE")
        }
        // The login's form and the region's level for the role are the database's constraints
        // (operator_login_form, operator_region), so psql obeys them too.
        let code = try Regions.require(connection, region)
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
}
