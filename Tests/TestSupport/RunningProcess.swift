import Foundation

/// A program started and not yet waited for, so a test can signal it while it works.
/// Output goes to temporary files, as with `runProcess`.
public final class RunningProcess: @unchecked Sendable {
    private let process = Process()
    private let folder: URL
    private let out: URL, err: URL

    public init(_ executable: String, _ arguments: [String], environment: [String: String]? = nil,
                currentDirectory: String? = nil) throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("wp-run-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        out = folder.appendingPathComponent("out")
        err = folder.appendingPathComponent("err")
        _ = FileManager.default.createFile(atPath: out.path, contents: nil)
        _ = FileManager.default.createFile(atPath: err.path, contents: nil)
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        if let environment { process.environment = environment }
        if let currentDirectory { process.currentDirectoryURL = URL(fileURLWithPath: currentDirectory) }
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = try FileHandle(forWritingTo: out)
        process.standardError = try FileHandle(forWritingTo: err)
        // The program inherits the signal mask of the thread that starts it, and test threads
        // (dispatch workers) block SIGINT, SIGTERM and more: unblock them for the start, so the
        // program receives signals as one started from a shell does.
        var all = sigset_t(), previous = sigset_t()
        sigfillset(&all)
        pthread_sigmask(SIG_UNBLOCK, &all, &previous)
        defer { pthread_sigmask(SIG_SETMASK, &previous, nil) }
        try process.run()
    }

    deinit {
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        try? FileManager.default.removeItem(at: folder)
    }

    public var pid: Int32 { process.processIdentifier }

    public func signal(_ number: Int32) { kill(process.processIdentifier, number) }

    /// The result once the program has ended, or nil if it is still running after `seconds`.
    public func wait(seconds: Double) -> ProcessResult? {
        let deadline = Date().addingTimeInterval(seconds)
        while process.isRunning {
            if Date() > deadline { return nil }
            usleep(20_000)
        }
        process.waitUntilExit()
        // A program killed by a signal reports 128 + the signal, as a shell does.
        let status = process.terminationReason == .uncaughtSignal ? 128 + process.terminationStatus : process.terminationStatus
        return ProcessResult(status: status,
                             stdout: (try? String(contentsOf: out, encoding: .utf8)) ?? "",
                             stderr: (try? String(contentsOf: err, encoding: .utf8)) ?? "")
    }
}

/// Starts the built `welfare-posts` binary against a test database without waiting for it.
/// `PGAPPNAME` names its connection in `pg_stat_activity`.
public func startWelfarePosts(_ arguments: [String], on database: TestDatabase, applicationName: String,
                              currentDirectory: String? = nil, environment extra: [String: String] = [:]) throws -> RunningProcess {
    var environment = ProcessInfo.processInfo.environment
    environment["DATABASE_URL"] = database.conninfo
    environment["PGAPPNAME"] = applicationName
    environment.merge(extra) { $1 }
    return try RunningProcess(productsFolder.appendingPathComponent("welfare-posts").path, arguments,
                              environment: environment, currentDirectory: currentDirectory)
}

/// Polls `condition` every 50 ms for up to `seconds`; true as soon as it holds.
public func eventually(seconds: Double, _ condition: () throws -> Bool) rethrows -> Bool {
    let deadline = Date().addingTimeInterval(seconds)
    while true {
        if try condition() { return true }
        if Date() > deadline { return false }
        usleep(50_000)
    }
}
