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
public final class SafeFile {
    /// The name the file gets when complete.
    public private(set) var path: String
    /// The temporary name it is written under.
    let temporaryPath: String
    private var descriptor: Int32
    private var state = State.writing
    private var buffer: [UInt8] = []

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
    public func commit(as finalPath: String) throws {
        precondition(SafeFile.folder(of: finalPath) == SafeFile.folder(of: path), "commit(as:) stays in the folder")
        do {
            try SafeFile.check(finalPath)
        } catch {
            discard()
            throw error
        }
        path = finalPath
        try commit()
    }

    /// Ends the writing: flush, fsync, close — the descriptor is given back (an export of a
    /// thousand files does not hold a thousand open) — while the file keeps its temporary name
    /// until `commit`. On failure the temporary file is removed and the error thrown.
    public func finishWriting() throws {
        precondition(state == .writing, "finishWriting after commit or discard")
        guard descriptor >= 0 else { return }
        do {
            try flush()
            guard fsync(descriptor) == 0 else { throw writeError(errno) }
            let closed = close(descriptor)
            descriptor = -1
            guard closed == 0 else { throw writeError(errno) }
        } catch {
            discard()
            throw error
        }
    }

    /// Makes the file complete under its final name: flush, fsync, close, rename. On failure
    /// the temporary file is removed and the error thrown.
    public func commit() throws {
        precondition(state == .writing, "commit after commit or discard")
        try finishWriting()
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
        let folder = open(SafeFile.folder(of: path), O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if folder >= 0 {
            _ = fsync(folder)
            close(folder)
        }
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
