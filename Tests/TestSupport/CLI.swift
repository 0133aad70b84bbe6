import Foundation
import Postgres
import WelfarePosts

/// Runs the built `welfare-posts` binary as a user would, against a test database. The locale
/// is English (`LANG=C.UTF-8`, no `LC_ALL` or `LC_MESSAGES`) whatever the machine's, so output
/// is the same everywhere; `environment` adds or overrides variables (a Chinese `LANG`).
public func welfarePosts(_ arguments: [String], on database: TestDatabase?, stdin: String? = nil,
                         environment extra: [String: String] = [:], timeout: Double? = nil) throws -> ProcessResult {
    var environment = ProcessInfo.processInfo.environment
    environment["DATABASE_URL"] = database?.conninfo
    environment["LANG"] = "C.UTF-8"
    environment["LC_ALL"] = nil
    environment["LC_MESSAGES"] = nil
    environment.merge(extra) { $1 }
    return try runProcess(welfarePostsBinary, arguments, environment: environment, stdin: stdin, timeout: timeout)
}

/// The built `welfare-posts` binary.
public var welfarePostsBinary: String { productsFolder.appendingPathComponent("welfare-posts").path }

/// The folder the test runner was built into, which also holds the `welfare-posts` binary.
public let productsFolder: URL = {
    var folder = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent()
    // On macOS the runner is inside an .xctest bundle.
    while folder.path.contains(".xctest") { folder = folder.deletingLastPathComponent() }
    return folder
}()

/// Writes a temporary file and returns its path.
public func temporaryFile(_ bytes: [UInt8], suffix: String = ".csv") throws -> String {
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("wp-\(UUID().uuidString)\(suffix)").path
    guard FileManager.default.createFile(atPath: path, contents: Data(bytes)) else { throw TestSupportError("cannot write \(path)") }
    return path
}

public func temporaryFile(_ text: String) throws -> String { try temporaryFile(Array(text.utf8)) }

/// The same text encoded as GBK, through the system's iconv.
public func gbk(_ text: String) throws -> [UInt8] {
    let source = try temporaryFile(text)
    let target = source + ".gbk"
    let write = try runProcess("/bin/sh", ["-c", "iconv -f UTF-8 -t GBK '\(source)' > '\(target)'"])
    guard write.status == 0, let data = FileManager.default.contents(atPath: target) else { throw TestSupportError("iconv failed") }
    return Array(data)
}

/// A valid resident ID for a birth date and a sequence number (check character computed).
public func residentID(area: String = "320321", born: String, sequence: Int) -> String {
    let first17 = area + born.replacingOccurrences(of: "-", with: "") + String(format: "%03d", sequence % 1000)
    return first17 + String(ResidentID.checkCharacter(for: first17)!)
}

/// Fixtures every domain test starts from: a province, city, county, two townships, villages.
public enum Fixtures {
    public static let county = "320321000000"
    public static let townshipA = "320321101000"
    public static let townshipB = "320321102000"
    public static let villageA1 = "320321101201"
    public static let villageA2 = "320321101202"
    public static let villageB1 = "320321102201"

    public static func regions(_ connection: Connection) throws {
        let csv = """
            code,name
            320000000000,江苏省
            320300000000,徐州市
            320321000000,丰县
            320321101000,首羡镇
            320321102000,顺河镇
            320321101201,首羡村
            320321101202,李楼村
            320321102201,顺河村

            """
        _ = try RegionImport.run(connection, file: try CSVFile(data: Array(csv.utf8)), dryRun: false)
    }

    /// A fingerprint of every person and status row, to prove a refused command changed nothing.
    public static func fingerprint(_ connection: Connection) throws -> String {
        try connection.query("""
            SELECT (SELECT count(*) || ':' || coalesce(md5(string_agg(p::text, '|' ORDER BY id_number)), '') FROM person p) || '/' ||
                   (SELECT count(*) || ':' || coalesce(md5(string_agg(s::text, '|' ORDER BY id)), '') FROM person_status s) || '/' ||
                   (SELECT count(*) || ':' || coalesce(md5(string_agg(r::text, '|' ORDER BY code)), '') FROM region r) AS f
            """)[0]["f"] ?? ""
    }
}
