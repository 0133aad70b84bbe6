import CLibPQ
import Foundation

/// Stops what a connection is doing, from any thread, while the connection's own thread waits
/// for the server.
///
/// libpq's `PQcancel` works on a `PGcancel` object taken once per connection, beforehand
/// (`PQgetCancel`), never on the connection itself, so another thread (or a signal handler)
/// may call it while the connection is busy. It asks the server, over a connection of its
/// own, to cancel the running statement; the server then fails that statement with SQLSTATE
/// 57014 and the transaction rolls back. A cancel request that reaches an idle backend is
/// ignored by the server, so a cancelled connection also refuses every later statement
/// itself: once cancelled, it only rolls back.
public final class Canceller: @unchecked Sendable {
    private let lock = NSLock()
    /// The `PGcancel` of the connection; nil if libpq could not make one (out of memory).
    private let cancelObject: OpaquePointer?
    private var requested: Bool

    init(_ connection: OpaquePointer, requested: Bool) {
        cancelObject = PQgetCancel(connection)
        self.requested = requested
    }

    deinit {
        if let cancelObject { PQfreeCancel(cancelObject) }
    }

    /// True once `cancel()` was called (or the whole process was interrupted).
    public var isRequested: Bool { lock.withLock { requested } }

    /// Marks the connection cancelled and asks the server to stop its running statement.
    /// Returns whether the request reached the server (it may still arrive after the
    /// statement ended: the connection refuses the next one anyway).
    @discardableResult
    public func cancel() -> Bool {
        lock.withLock {
            requested = true
            guard let cancelObject else { return false }
            var message = [CChar](repeating: 0, count: 256)
            return PQcancel(cancelObject, &message, Int32(message.count)) == 1
        }
    }
}

/// Every open connection of this process, so that an interrupt (SIGINT, SIGTERM) can cancel
/// them all, and what they committed, so that the interrupted command can say truly whether
/// anything was saved.
final class ConnectionRegistry: @unchecked Sendable {
    static let shared = ConnectionRegistry()

    private let lock = NSLock()
    private var open: [ObjectIdentifier: Canceller] = [:]
    private var interrupted = false
    private var wrote = false

    /// Registers a new connection's canceller; returns whether the process was interrupted
    /// already (the connection is then born cancelled).
    func add(_ canceller: Canceller) -> Bool {
        lock.withLock {
            open[ObjectIdentifier(canceller)] = canceller
            return interrupted
        }
    }

    func remove(_ canceller: Canceller) {
        _ = lock.withLock { open.removeValue(forKey: ObjectIdentifier(canceller)) }
    }

    func cancelAll() {
        let cancellers = lock.withLock {
            interrupted = true
            return Array(open.values)
        }
        for canceller in cancellers { canceller.cancel() }
    }

    func noteWrite() { lock.withLock { wrote = true } }
    var anyWrites: Bool { lock.withLock { wrote } }
}

extension Connection {
    /// Cancels the running statement of every connection of this process, and every statement
    /// any of them (or a connection opened later) would run next. For the command line's
    /// SIGINT and SIGTERM: the command then fails with `PostgresError.Kind.cancelled`, and
    /// the server rolls its transaction back.
    public static func cancelAll() { ConnectionRegistry.shared.cancelAll() }

    /// Whether any connection of this process committed a transaction that wrote something
    /// (or ran a writing statement outside a transaction). An interrupted command says
    /// "nothing was changed" only when this is false.
    public static var anyCommittedWrites: Bool { ConnectionRegistry.shared.anyWrites }
}
