import Dispatch
import Foundation
import Postgres
import WelfarePosts

/// What Ctrl-C (SIGINT), SIGTERM and a closed terminal (SIGHUP) do: the running statement of
/// every connection is cancelled on the server (`Connection.cancelAll`, libpq's `PQcancel`
/// with a `PGcancel` taken when each connection opened), so its transaction rolls back and
/// its locks go at once; the command then fails on its ordinary error path (an export removes
/// its unfinished file) and `Main` exits with 128 + the signal's number (130 for Ctrl-C, 143
/// for SIGTERM) and `error: [INTERRUPTED] …`.
///
/// The signals are taken by dispatch sources, so the work happens on an ordinary thread, not
/// inside a signal handler. A command busy outside the database (reading a large file) does
/// not see the cancel: a second signal, or three seconds without the command ending, removes
/// any unfinished output file and exits at once with the same message and code.
enum Interruption {
    /// The signal received first, if any.
    static var received: Int32? { state.signal }

    static func install() {
        for number in [SIGINT, SIGTERM, SIGHUP] {
            // The default action would kill the process before anything could be cancelled.
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: queue)
            source.setEventHandler { interrupted(by: number) }
            source.resume()
            state.keep(source)
        }
    }

    private static let queue = DispatchQueue(label: "welfare-posts.interruption")
    private static let state = State()

    private static func interrupted(by number: Int32) {
        guard state.first(number) else {
            exitNow()
            return
        }
        Connection.cancelAll()
        queue.asyncAfter(deadline: .now() + 3) { exitNow() }
    }

    /// Leaves without waiting for the command: unfinished files removed, the message, the code.
    private static func exitNow() {
        guard state.claimExit() else { return }
        SafeFile.removeUnfinished()
        report()
        _exit(128 + (state.signal ?? SIGINT))
    }

    /// For `Main`, when the command failed after an interrupt: the message and the code.
    static func exit() -> Never {
        guard state.claimExit() else {
            // The fallback is exiting already.
            while true { pause() }
        }
        report()
        Foundation.exit(128 + (state.signal ?? SIGINT))
    }

    private static func report() {
        let message = AppError.interrupted(signal: state.signal ?? SIGINT).render(Main.lang)
        FileHandle.standardError.write(Data((message + "\n").utf8))
    }

    private final class State: @unchecked Sendable {
        private let lock = NSLock()
        private var number: Int32?
        private var exiting = false
        private var sources: [any DispatchSourceSignal] = []

        var signal: Int32? { lock.withLock { number } }

        /// Records the signal; false if one came before.
        func first(_ signal: Int32) -> Bool {
            lock.withLock {
                if number != nil { return false }
                number = signal
                return true
            }
        }

        /// True for the first caller only: one path prints the message and exits.
        func claimExit() -> Bool {
            lock.withLock {
                defer { exiting = true }
                return !exiting
            }
        }

        func keep(_ source: any DispatchSourceSignal) { lock.withLock { sources.append(source) } }
    }
}
