import Foundation

/// What a finished process printed and how it ended.
public struct ProcessResult: Sendable {
    public let status: Int32
    public let stdout: String
    public let stderr: String

    public init(status: Int32, stdout: String, stderr: String) {
        self.status = status
        self.stdout = stdout
        self.stderr = stderr
    }
}

/// Runs a program to its end. Output goes to temporary files rather than pipes, so a chatty
/// program can never block on a full pipe. With a `timeout` (seconds) a program still running
/// then is killed (status 9) instead of hanging the test.
public func runProcess(_ executable: String, _ arguments: [String], environment: [String: String]? = nil,
                       stdin: String? = nil, timeout: Double? = nil) throws -> ProcessResult {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("wp-run-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: folder) }
    let out = folder.appendingPathComponent("out"), err = folder.appendingPathComponent("err")
    let input = folder.appendingPathComponent("in")
    _ = FileManager.default.createFile(atPath: out.path, contents: nil)
    _ = FileManager.default.createFile(atPath: err.path, contents: nil)
    _ = FileManager.default.createFile(atPath: input.path, contents: Data((stdin ?? "").utf8))
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = arguments
    if let environment { process.environment = environment }
    process.standardInput = try FileHandle(forReadingFrom: input)
    process.standardOutput = try FileHandle(forWritingTo: out)
    process.standardError = try FileHandle(forWritingTo: err)
    try process.run()
    let finished = Finished()
    if let timeout {
        let pid = process.processIdentifier
        DispatchQueue.global().asyncAfter(deadline: .now() + timeout) {
            finished.unlessDone { kill(pid, SIGKILL) }
        }
    }
    process.waitUntilExit()
    finished.done()
    return ProcessResult(
        status: process.terminationStatus,
        stdout: (try? String(contentsOf: out, encoding: .utf8)) ?? "",
        stderr: (try? String(contentsOf: err, encoding: .utf8)) ?? ""
    )
}

/// Whether a process has been waited for, so a timeout never signals a reaped (reused) pid.
private final class Finished: @unchecked Sendable {
    private let lock = NSLock()
    private var isDone = false
    func done() { lock.withLock { isDone = true } }
    func unlessDone(_ body: () -> Void) { lock.withLock { if !isDone { body() } } }
}
