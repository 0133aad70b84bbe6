import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A file the tool writes (the payroll export's `--output`). SPEC §11: readable by its owner
/// only and never written through a link; and a file is either complete or not there at all.
///
/// How each promise is kept:
/// - **Owner only**: the data goes into a new file created with mode 0600 (the umask can only
///   narrow it), which then takes the final name, so whatever mode an older file of that name
///   had, the new one is 0600.
/// - **Never through a link**: the new file has a random name in the target's folder and is
///   created with `O_CREAT | O_EXCL | O_NOFOLLOW`: if anything (a link included, even one
///   pointing nowhere) already has that name, the open fails and another name is drawn; no
///   fixed name exists that someone could plant a link at. The final name is given by
///   `rename`, which replaces a directory entry and never follows a link. An existing link at
///   the final name is refused rather than replaced, so the user learns about it.
/// - **Complete or absent**: the file is written, `fsync`ed and closed, and only then renamed
///   into place. On any failure (a write error, a refusal, an interrupt) the temporary file is
///   removed; a previous file of the final name stays as it was.
/// - Each descriptor is closed exactly once: `state` says what is still open.
/// - Many files at once (an export by bank profile writes a thousand): each is closed without
///   its own `fsync` (`finishWriting(durable: false)`), then `SafeFile.sync(_:)` makes all of
///   them durable together — each reopened without following a link, checked to be the very
///   file written (device and inode), and `fsync`ed, several at a time — before any is renamed;
///   the renames reach the disk with one `fsync` of the folder (`syncFolder`). On ext4 every
///   `fsync` commits the journal and waits for every other file's pending data with it, so one
///   after another they cost a journal commit each (2,016 for a thousand files: seconds on a
///   busy disk); side by side they share commits. A file never synced is synced by `commit`.
public final class SafeFile {
    /// The name the file gets when complete.
    public private(set) var path: String
    /// The temporary name it is written under.
    let temporaryPath: String
    private var descriptor: Int32
    private var state = State.writing
    private var buffer: [UInt8] = []
    /// Closed without `fsync`: its data is not yet known to be on the disk.
    private var unsynced = false
    /// The file written, as created: a reopened name must still be it.
    private var device: UInt64 = 0, inode: UInt64 = 0

    private enum State { case writing, committed, discarded }

    /// Checks `path` and creates the temporary file in its folder. Refused with exit 2
    /// (`BAD_OUTPUT`): an empty name, an existing folder, link or other non-regular file at
    /// the name, a folder that does not exist, or one where the file cannot be created.
    public init(path: String) throws {
        try SafeFile.check(path)
        let folder = SafeFile.folder(of: path)
        var attempts = 0
        while true {
            let candidate = (folder == "/" ? "" : folder) + "/.welfare-posts-" + String(UInt64.random(in: 0 ... .max), radix: 16) + ".tmp"
            let fd = open(candidate, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o600)
            if fd >= 0 {
                descriptor = fd
                temporaryPath = candidate
                var status = stat()
                if fstat(fd, &status) == 0 {
                    device = UInt64(status.st_dev)
                    inode = UInt64(status.st_ino)
                }
                break
            }
            let error = errno
            attempts += 1
            guard error == EEXIST || error == EINTR, attempts < 100 else {
                throw SafeFile.refusal(
                    Text(en: "cannot create a file in the folder \(shown(folder)): \(SafeFile.reason(error))",
                         zh: "无法在文件夹 \(shown(folder)) 中创建文件：\(SafeFile.reason(error))"))
            }
        }
        self.path = path
        buffer.reserveCapacity(1 << 16)
        SafeFile.live.add(temporaryPath)
    }

    deinit { discard() }

    /// Refuses a name the tool must not write to (exit 2, `BAD_OUTPUT`), before any work is
    /// done. An existing regular file is fine: it is replaced when the new one is complete.
    public static func check(_ path: String) throws {
        guard !path.isEmpty else {
            throw refusal(Text(en: "--output is empty: give the name of the file to write, e.g. --output payroll-2026-01.csv",
                               zh: "--output 为空：请给出要写入的文件名，例如 --output payroll-2026-01.csv"))
        }
        var status = stat()
        if lstat(path, &status) == 0 {
            switch status.st_mode & S_IFMT {
            case S_IFREG:
                break
            case S_IFLNK:
                throw refusal(Text(
                    en: "\(shown(path)) is a symbolic link: the tool never writes through a link. Remove the link or choose another file name",
                    zh: "\(shown(path)) 是符号链接：本工具不会通过链接写入文件。请删除该链接或另选文件名"))
            case S_IFDIR:
                throw refusal(Text(
                    en: "\(shown(path)) is a folder: give a file name, e.g. --output \(shown(path.hasSuffix("/") ? path : path + "/"))payroll.csv",
                    zh: "\(shown(path)) 是文件夹：请给出文件名，例如 --output \(shown(path.hasSuffix("/") ? path : path + "/"))payroll.csv"))
            default:
                throw refusal(Text(
                    en: "\(shown(path)) is not an ordinary file (a device, a pipe or a socket): choose another file name",
                    zh: "\(shown(path)) 不是普通文件（设备、管道或套接字）：请另选文件名"))
            }
        } else if errno != ENOENT {
            let error = errno
            throw refusal(Text(en: "cannot write \(shown(path)): \(reason(error))", zh: "无法写入 \(shown(path))：\(reason(error))"))
        }
        if path.hasSuffix("/") {
            throw refusal(Text(en: "\(shown(path)) names a folder: give a file name", zh: "\(shown(path)) 是文件夹名：请给出文件名"))
        }
        let folder = folder(of: path)
        guard stat(folder, &status) == 0, status.st_mode & S_IFMT == S_IFDIR else {
            throw refusal(Text(en: "the folder \(shown(folder)) does not exist: create it first, or write somewhere else",
                               zh: "文件夹 \(shown(folder)) 不存在：请先创建，或写到其他位置"))
        }
    }

    /// Appends bytes (buffered; written in blocks of 64 KiB).
    public func write(_ bytes: [UInt8]) throws {
        precondition(state == .writing && descriptor >= 0, "write after finishWriting, commit or discard")
        buffer.append(contentsOf: bytes)
        if buffer.count >= 1 << 16 { try flush() }
    }

    /// Makes the file complete under another name in the same folder (a bank file's name
    /// carries its row count and total, known only when it is written). The name is checked as
    /// at `init`.
    public func commit(as finalPath: String, syncingFolder: Bool = true) throws {
        precondition(SafeFile.folder(of: finalPath) == SafeFile.folder(of: path), "commit(as:) stays in the folder")
        do {
            try SafeFile.check(finalPath)
        } catch {
            discard()
            throw error
        }
        path = finalPath
        try commit(syncingFolder: syncingFolder)
    }

    /// Ends the writing: flush, fsync, close — the descriptor is given back (an export of a
    /// thousand files does not hold a thousand open) — while the file keeps its temporary name
    /// until `commit`. On failure the temporary file is removed and the error thrown.
    /// `durable: false` leaves out the `fsync`: the caller makes many files durable at once by
    /// `SafeFile.sync(_:)` (or `commit` does it, one file at a time).
    public func finishWriting(durable: Bool = true) throws {
        precondition(state == .writing, "finishWriting after commit or discard")
        guard descriptor >= 0 else { return }
        do {
            try flush()
            if durable {
                guard fsync(descriptor) == 0 else { throw writeError(errno) }
            } else {
                unsynced = true
            }
            let closed = close(descriptor)
            descriptor = -1
            guard closed == 0 else { throw writeError(errno) }
        } catch {
            discard()
            throw error
        }
    }

    /// Makes the data of finished files durable, several `fsync`s at a time (see the type's
    /// notes). Each is reopened read-only without following a link and must be the file that
    /// was written; a file still open is finished first. On failure every file given is
    /// discarded and the error thrown.
    public static func sync(_ files: [SafeFile]) throws {
        for file in files where file.state == .writing && file.descriptor >= 0 { try file.finishWriting(durable: false) }
        let waiting = files.filter { $0.state == .writing && $0.unsynced }
        guard !waiting.isEmpty else { return }
        let jobs = waiting.map { (path: $0.temporaryPath, device: $0.device, inode: $0.inode) }
        let outcome = SyncOutcome(count: jobs.count)
        let workers = min(8, jobs.count)
        let done = DispatchGroup()
        for _ in 0..<workers {
            done.enter()
            Thread {
                while let index = outcome.take() { outcome.record(index, SafeFile.syncFile(jobs[index])) }
                done.leave()
            }.start()
        }
        done.wait()
        if let (index, error) = outcome.firstFailure() {
            let failed = waiting[index]
            let thrown = failed.writeError(error)
            for file in files { file.discard() }
            throw thrown
        }
        for file in waiting { file.unsynced = false }
    }

    /// `fsync` of one finished file by name: 0, or the error.
    private static func syncFile(_ job: (path: String, device: UInt64, inode: UInt64)) -> Int32 {
        let fd = open(job.path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)
        guard fd >= 0 else { return errno }
        defer { close(fd) }
        var status = stat()
        guard fstat(fd, &status) == 0 else { return errno }
        guard UInt64(status.st_dev) == job.device, UInt64(status.st_ino) == job.inode, status.st_mode & S_IFMT == S_IFREG else { return ESTALE }
        return fsync(fd) == 0 ? 0 : errno
    }

    private final class SyncOutcome: @unchecked Sendable {
        private let lock = NSLock()
        private var next = 0
        private var errors: [Int32]
        init(count: Int) { errors = Array(repeating: 0, count: count) }
        func take() -> Int? { lock.withLock { next < errors.count ? { next += 1; return next - 1 }() : nil } }
        func record(_ index: Int, _ error: Int32) { lock.withLock { errors[index] = error } }
        func firstFailure() -> (Int, Int32)? { lock.withLock { errors.firstIndex { $0 != 0 }.map { ($0, errors[$0]) } } }
    }

    /// One `fsync` of a folder: the renames made in it reach the disk (after `commit`s with
    /// `syncingFolder: false`).
    public static func syncFolder(_ folder: String) {
        let descriptor = open(folder, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if descriptor >= 0 {
            _ = fsync(descriptor)
            close(descriptor)
        }
    }

    /// Makes the file complete under its final name: flush, fsync, close, rename. On failure
    /// the temporary file is removed and the error thrown. `syncingFolder: false` leaves the
    /// folder's `fsync` to the caller (`syncFolder`, once for many files).
    public func commit(syncingFolder: Bool = true) throws {
        precondition(state == .writing, "commit after commit or discard")
        try finishWriting()
        if unsynced { try SafeFile.sync([self]) }
        do {
            // Checked again: something may have appeared at the name while the data came.
            try SafeFile.check(path)
            guard rename(temporaryPath, path) == 0 else { throw writeError(errno) }
        } catch {
            discard()
            throw error
        }
        state = .committed
        SafeFile.live.remove(temporaryPath)
        // The rename itself reaches the disk with the folder.
        if syncingFolder { SafeFile.syncFolder(SafeFile.folder(of: path)) }
    }

    /// Closes and removes the temporary file; nothing of it is left. Does nothing after
    /// `commit()` or a first `discard()`.
    public func discard() {
        guard state == .writing else { return }
        state = .discarded
        if descriptor >= 0 {
            close(descriptor)
            descriptor = -1
        }
        unlink(temporaryPath)
        SafeFile.live.remove(temporaryPath)
    }

    /// Removes every temporary file still being written. For an interrupted process that must
    /// exit at once (a second Ctrl-C): `unlink` of known names, nothing else.
    public static func removeUnfinished() {
        for path in live.all() { unlink(path) }
    }

    // MARK: Internals

    private func flush() throws {
        var offset = 0
        while offset < buffer.count {
            let written = buffer.withUnsafeBytes { bytes in
                systemWrite(descriptor, bytes.baseAddress! + offset, bytes.count - offset)
            }
            if written < 0 {
                if errno == EINTR { continue }
                throw writeError(errno)
            }
            offset += written
        }
        buffer.removeAll(keepingCapacity: true)
    }

    private func writeError(_ error: Int32) -> AppError {
        SafeFile.refusal(Text(en: "cannot write \(shown(path)): \(SafeFile.reason(error)); nothing was written there",
                              zh: "无法写入 \(shown(path))：\(SafeFile.reason(error))；未写入任何内容"))
    }

    private static func refusal(_ text: Text) -> AppError { AppError.badInput(text, code: "BAD_OUTPUT") }

    private static func reason(_ error: Int32) -> String { String(cString: strerror(error)) }

    /// The folder a path names a file in ("." for a bare name).
    public static func folderOf(_ path: String) -> String { folder(of: path) }

    /// The name of a path without its folder.
    public static func baseName(_ path: String) -> String {
        path.split(separator: "/", omittingEmptySubsequences: true).last.map(String.init) ?? path
    }

    /// The folder a path names a file in ("." for a bare name).
    static func folder(of path: String) -> String {
        var trimmed = Substring(path)
        while trimmed.count > 1 && trimmed.hasSuffix("/") { trimmed = trimmed.dropLast() }
        guard let slash = trimmed.lastIndex(of: "/") else { return "." }
        return slash == trimmed.startIndex ? "/" : String(trimmed[..<slash])
    }

    /// Temporary files being written, by name.
    private static let live = LiveFiles()

    private final class LiveFiles: @unchecked Sendable {
        private let lock = NSLock()
        private var paths: Set<String> = []
        func add(_ path: String) { _ = lock.withLock { paths.insert(path) } }
        func remove(_ path: String) { _ = lock.withLock { paths.remove(path) } }
        func all() -> [String] { lock.withLock { Array(paths) } }
    }
}

#if canImport(Glibc)
private let systemWrite = Glibc.write
#elseif canImport(Darwin)
private let systemWrite = Darwin.write
#endif

/// A path as a message shows it: control characters (a terminal escape in a file name) as
/// `\u{…}`, never raw.
private func shown(_ path: String) -> String {
    path.unicodeScalars.map { scalar in
        scalar.properties.generalCategory == .control || scalar.properties.generalCategory == .format
            ? "\\u{\(String(scalar.value, radix: 16))}" : String(scalar)
    }.joined()
}
