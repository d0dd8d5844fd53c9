import ConcordProtocol
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Logging
import NIOConcurrencyHelpers
import NIOCore
import PostgresNIO
import ServiceLifecycle

/// The scale-out engine: every replica of a service shares one database (and schema). It keeps
/// its own set of connections, `maximumConnections` once full, filled after the first opens and
/// kept open (`LeaseState` decides; this performs). It runs as a `Service`; `run()` must be running
/// before the first query: it opens the connections, sweeps for bodies whose connection closed
/// under them, and listens for other processes' commits.
public final class PostgresDatabase: Database, Sendable {
    private let configuration: PostgresConnection.Configuration
    private let location: DatabaseLocation.PostgresLocation
    private let eventLoopGroup: any EventLoopGroup
    private let logger: Logger
    /// How long a read or write waits for a connection before it answers `unavailable`. While
    /// PostgreSQL is down a request would otherwise wait for one until its deadline; readiness,
    /// which asks the store, would hang the same way.
    private let leaseTimeout: Duration
    /// The wait of the one request that probes for a connection while the store is away.
    private let probeTimeout: Duration
    /// The machine, the connections it counts, and what each lease waits or runs with.
    private let leases: NIOLockedValueBox<Leases>
    /// Connections to open, taken by `run()`.
    private let opening = AsyncStream.makeStream(of: Int.self)
    private let meters = StoreMeters(engine: "postgresql")
    /// Moves on at other processes' commits through LISTEN, and at this process's as its
    /// writer reads COMMIT's answer.
    public let commits = CommitSignal(recheck: .seconds(1))
    /// The channel commits are announced on: one per schema, so services sharing a database do
    /// not wake each other.
    private var commitChannel: String { "concord_commits" + (self.location.schema.map { "_\($0)" } ?? "") }
    /// Says which process announced a commit. This process's writer wakes its own waiters
    /// once it holds the committed entries; woken by its own announcement instead, which can
    /// arrive first, a waiter would find nothing in memory and read the store (a round trip
    /// more between a commit and its watchers).
    private let announcer = UUID().uuidString

    private struct Leases {
        var machine: LeaseState
        /// Open connections, by the machine's id.
        var connections: [Int: PostgresConnection] = [:]
        /// Leases waiting for a connection: how to start the body, how to answer, the timer.
        var waiting: [Int: Waiting] = [:]
        /// Bodies running: the connection, and how to answer the caller if it closes under them.
        var running: [Int: (connection: PostgresConnection, fail: @Sendable (_ committing: Bool) -> Void)] = [:]
        /// Why the last attempt to connect failed, for the refusals that follow it.
        var lastFailure = "none has opened yet"
    }

    private struct Waiting {
        var start: @Sendable (PostgresConnection) -> Void
        var refuse: @Sendable (StorageError) -> Void
        var timer: Scheduled<Void>?
    }

    /// How often the bodies running on a connection are looked at for the connection closing
    /// under them (a body is failed at the second sweep that sees it closed).
    static let sweepInterval: Duration = .milliseconds(250)

    /// Every Concord service takes this advisory lock while migrating, so replicas that start
    /// together apply each migration once. (The value is arbitrary but fixed: "CONCORD" in ASCII.)
    static let migrationLockKey: Int64 = 0x434F_4E43_4F52_44

    public init(
        location: DatabaseLocation.PostgresLocation,
        maximumConnections: Int = 16,
        leaseTimeout: Duration = .seconds(2),
        probeTimeout: Duration = .milliseconds(200),
        eventLoopGroup: any EventLoopGroup = PostgresConnection.defaultEventLoopGroup,
        logger: Logger
    ) {
        self.leaseTimeout = leaseTimeout
        self.probeTimeout = probeTimeout
        var configuration = PostgresConnection.Configuration(
            host: location.host,
            port: location.port,
            username: location.username,
            password: location.password,
            database: location.database,
            tls: .disable
        )
        configuration.options.connectTimeout = .seconds(5)
        if let schema = location.schema {
            configuration.options.additionalStartupParameters = [("search_path", schema)]
        }
        self.configuration = configuration
        self.leases = NIOLockedValueBox(Leases(machine: LeaseState(capacity: maximumConnections)))
        self.location = location
        self.eventLoopGroup = eventLoopGroup
        self.logger = logger
    }

    /// Opens the connections the machine asks for, sweeps for bodies whose connection closed
    /// under them, and hears other processes' commits, until cancelled or shut down gracefully;
    /// then closes every connection.
    public func run() async throws {
        await cancelWhenGracefulShutdown {
            await withDiscardingTaskGroup { group in
                group.addTask {
                    while (try? await Task.sleep(for: Self.sweepInterval)) != nil {
                        self.sweep()
                    }
                }
                group.addTask { await self.hearCommits() }
                for await connection in self.opening.stream {
                    group.addTask { await self.open(connection) }
                }
                group.cancelAll()
            }
        }
        self.opening.continuation.finish()
        let connections = self.leases.withLockedValue { Array($0.connections.values) }
        for connection in connections { try? await connection.close() }
    }

    /// Opens connection `id`, and gives it to whoever waits (or keeps it idle); when it fails,
    /// answers the requests the machine says nothing else would come for.
    private func open(_ id: Int) async {
        do {
            let connection = try await PostgresConnection.connect(
                on: self.eventLoopGroup.next(), configuration: self.configuration, id: id, logger: self.logger
            )
            connection.closeFuture.whenComplete { _ in
                self.leases.withLockedValue { state in
                    state.connections[id] = nil
                    state.machine.closed(id)
                }
            }
            let opened = self.leases.withLockedValue { state -> (start: (@Sendable (PostgresConnection) -> Void)?, next: Int?, turn: LeaseState.Turn?)? in
                // Closed already (its close was heard first): as if it failed to open.
                guard !connection.isClosed else { return nil }
                state.connections[id] = connection
                let (lend, next, turn) = state.machine.connected(id)
                return (lend.flatMap { self.take($0.lease, in: &state) }, next, turn)
            }
            guard let opened else { return self.failedToOpen(id, reason: "the connection closed as it opened") }
            if opened.turn == .back { self.logger.notice("PostgreSQL is back: a connection opened") }
            if let next = opened.next { self.opening.continuation.yield(next) }
            opened.start?(connection)
        } catch {
            self.failedToOpen(id, reason: Self.reason(error))
        }
    }

    private func failedToOpen(_ id: Int, reason: String) {
        let now = ContinuousClock.now
        let (refused, turn) = self.leases.withLockedValue { state -> ([Waiting], LeaseState.Turn?) in
            state.lastFailure = "the last attempt to connect failed: \(reason)"
            let failed = state.machine.connectFailed(id, now: now)
            return (failed.refused.compactMap { state.waiting.removeValue(forKey: $0) }, failed.turn)
        }
        if turn == .away { self.logger.warning("PostgreSQL taken to be away: \(reason); requests are refused until a connection opens") }
        for waiting in refused {
            waiting.timer?.cancel()
            waiting.refuse(StorageError(.unavailable, "PostgreSQL: could not connect (\(reason)); is the database up?"))
        }
    }

    /// The waiting lease `lease` takes its connection: its wait ends, and its body starts.
    private func take(_ lease: Int, in state: inout Leases) -> (@Sendable (PostgresConnection) -> Void)? {
        guard let waiting = state.waiting.removeValue(forKey: lease) else { return nil }
        waiting.timer?.cancel()
        return waiting.start
    }

    /// Holds a connection of its own that LISTENs for the commits other processes announce,
    /// and moves `commits` on at each; connects again a second after it is lost. While it is
    /// down, waiters ask the store again every second instead.
    private func hearCommits() async {
        while !Task.isCancelled {
            do {
                let connection = try await PostgresConnection.connect(configuration: self.configuration, id: 0, logger: self.logger)
                do {
                    try await connection.listen(on: self.commitChannel) { notifications in
                        self.commits.hearing(true)
                        // What committed while nobody listened.
                        self.commits.committed()
                        for try await notification in notifications where notification.payload != self.announcer {
                            self.commits.committed()
                        }
                    }
                } catch {}
                self.commits.hearing(false)
                try? await connection.close()
            } catch {
                self.commits.hearing(false)
            }
            try? await Task.sleep(for: .seconds(1))
        }
    }

    public func announceCommit(in session: any DatabaseSession) async throws {
        try await session.query("SELECT pg_notify($1, $2)", [.text(self.commitChannel), .text(self.announcer)])
    }

    /// Fails every running body whose connection the machine says has closed under it.
    private func sweep() {
        let (failing, connect) = self.leases.withLockedValue { state -> ([(fail: @Sendable (Bool) -> Void, committing: Bool)], Int?) in
            guard state.machine.hasRunningBodies else { return ([], nil) }
            var closed: Set<Int> = []
            for (id, body) in state.running where body.connection.isClosed { closed.insert(id) }
            let swept = state.machine.sweep(closed: closed)
            return (swept.failing.compactMap { failed in state.running[failed.lease].map { ($0.fail, failed.committing) } }, swept.connect)
        }
        if let connect { self.opening.continuation.yield(connect) }
        for (fail, committing) in failing { fail(committing) }
    }
    public func read<Result: Sendable>(_ work: @escaping @Sendable (any DatabaseSession) async throws -> Result) async throws -> Result {
        do {
            return try await self.withConnection { connection, _ in
                let start = ContinuousClock.now
                defer { self.meters.transaction(write: false, since: start) }
                return try await work(PostgresSession(connection: connection, logger: self.logger))
            }
        } catch {
            throw self.meters.failed(Self.translate(error))
        }
    }

    public func write<Result: Sendable>(_ work: @escaping @Sendable (any DatabaseSession) async throws -> Result) async throws -> Result {
        try await self.write(work, committed: { _ in })
    }

    /// `committed` runs on the connection's loop as COMMIT's answer is read.
    public func write<Result: Sendable>(
        _ work: @escaping @Sendable (any DatabaseSession) async throws -> Result, committed: @escaping @Sendable (Result) -> Void
    ) async throws -> Result {
        do {
            return try await self.withConnection { connection, committing in
                let start = ContinuousClock.now
                defer { self.meters.transaction(write: true, since: start) }
                let session = PostgresSession(connection: connection, logger: self.logger)
                // COMMIT returns once the WAL record is flushed (synchronous_commit is on by default).
                try await session.query("BEGIN")
                do {
                    let result = try await work(session)
                    committing()
                    // On the connection's own loop: COMMIT's answer runs `committed` where it is
                    // read, not on another thread woken for it. (Only COMMIT: the body's work
                    // stays off the loops that connections share.)
                    try await withTaskExecutorPreference(EventLoopTaskExecutor(eventLoop: connection.eventLoop)) {
                        try await session.query("COMMIT")
                        committed(result)
                    }
                    return result
                } catch {
                    _ = try? await session.query("ROLLBACK")
                    throw error
                }
            }
        } catch {
            throw self.meters.failed(Self.translate(error))
        }
    }

    /// A connection for `body`, or `unavailable` when none comes within `leaseTimeout`. Once
    /// `body` has its connection it runs to its end, whatever the time. `LeaseState` decides
    /// (run, wait, probe or refuse; who gets a connection that comes; a body failed when its
    /// connection closed under it); this performs.
    ///
    /// A body failed because its connection closed is answered `unavailable`, and what it was
    /// doing is left behind. A read, or a write before it sent COMMIT, did nothing: a
    /// transaction not committed when its connection ends is rolled back. A write whose COMMIT
    /// was sent may or may not have committed (`body` calls `committing` first): its answer says
    /// so, and that sending it again with the same idempotency key is safe. Either way the
    /// caller hears before its deadline.
    private func withConnection<Result: Sendable>(
        _ body: @escaping @Sendable (PostgresConnection, _ committing: @escaping @Sendable () -> Void) async throws -> Result
    ) async throws -> Result {
        let leases = self.leases
        let logger = self.logger
        let meters = self.meters
        let asked = ContinuousClock.now
        return try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Result, any Error>) in
            let fail: @Sendable (Bool) -> Void = { committing in
                logger.warning("PostgreSQL connection closed under a running \(committing ? "COMMIT" : "statement"); answered unavailable")
                continuation.resume(throwing: StorageError(
                    .unavailable,
                    committing
                        ? "PostgreSQL: the connection closed during COMMIT; whether the write was saved is unknown: send it again with the same idempotency key"
                        : "PostgreSQL: the connection closed while the statement ran; nothing was committed"
                ))
            }
            // Runs the body of `lease` on its connection, then hands the connection on.
            let start: @Sendable (Int, PostgresConnection) -> Void = { lease, connection in
                Task {
                    meters.waited(since: asked)
                    leases.withLockedValue { $0.running[lease] = (connection, fail) }
                    let outcome: Swift.Result<Result, any Error>
                    do {
                        outcome = .success(try await body(connection) { leases.withLockedValue { $0.machine.committing(lease) } })
                    } catch {
                        outcome = .failure(error)
                    }
                    let (answer, next, connect, turn) = leases.withLockedValue { state in
                        state.running[lease] = nil
                        let released = state.machine.released(lease, closed: connection.isClosed)
                        return (released.answer, released.lend.flatMap { self.take($0.lease, in: &state) }, released.connect, released.turn)
                    }
                    if turn == .back { logger.notice("PostgreSQL is back: a connection came free") }
                    if let connect { self.opening.continuation.yield(connect) }
                    next?(connection)
                    if answer { continuation.resume(with: outcome) }
                }
            }
            let now = ContinuousClock.now
            let (admission, connect, connection, refusal) = leases.withLockedValue { state in
                let (admission, connect) = state.machine.admit(now: now, leaseTimeout: self.leaseTimeout, probeTimeout: self.probeTimeout)
                switch admission {
                case .run(_, let connection):
                    return (admission, connect, state.connections[connection], "")
                case .wait(let lease, let timeout):
                    let timer = self.eventLoopGroup.any().scheduleTask(in: TimeAmount(timeout)) { self.timedOut(lease, after: timeout) }
                    state.waiting[lease] = Waiting(start: { start(lease, $0) }, refuse: { continuation.resume(throwing: $0) }, timer: timer)
                    return (admission, connect, nil, "")
                case .refuse:
                    return (admission, connect, nil, state.lastFailure)
                }
            }
            if let connect { self.opening.continuation.yield(connect) }
            switch admission {
            case .run(let lease, _):
                start(lease, connection!)
            case .wait:
                break
            case .refuse:
                continuation.resume(throwing: StorageError(.unavailable, "PostgreSQL: no connection (\(refusal)); is the database up?"))
            }
        }
    }

    /// The wait of `lease` ran out: unless a connection came first, it is answered `unavailable`.
    private func timedOut(_ lease: Int, after timeout: Duration) {
        let (waiting, turn) = self.leases.withLockedValue { state -> (Waiting?, LeaseState.Turn?) in
            let ended = state.machine.timedOut(lease)
            guard ended.refuse else { return (nil, nil) }
            state.lastFailure = "the last wait for one ran out after \(timeout.wholeMilliseconds) ms"
            return (state.waiting.removeValue(forKey: lease), ended.turn)
        }
        if turn == .away { self.logger.warning("PostgreSQL taken to be away: no connection within \(timeout.wholeMilliseconds) ms; one request at a time probes until one comes") }
        waiting?.refuse(StorageError(.unavailable, "PostgreSQL: no connection within \(timeout.wholeMilliseconds) ms; is the database up?"))
    }

    public func migrate(_ migrations: [Migration]) async throws {
        let schema = self.location.schema
        let ran = try await self.write { session in
            try await session.query("SELECT pg_advisory_xact_lock($1)", [.integer(Self.migrationLockKey)])
            if let schema {
                try await session.query("CREATE SCHEMA IF NOT EXISTS \(schema)")
            }
            return try await Migration.apply(migrations, in: session, dialect: .postgres, now: Date().ISO8601Format())
        }
        for migration in ran {
            self.logger.info("applied migration", metadata: [LogKey.migration: "\(migration.version) \(migration.name)", LogKey.database: "\(DatabaseLocation.postgres(self.location))"])
        }
    }

    /// Why a connection did not open, in the server's words or the socket's.
    static func reason(_ error: any Error) -> String {
        guard let error = error as? PSQLError else { return "\(error)" }
        if let message = error.serverInfo?[.message] { return message }
        if let underlying = error.underlying { return "\(underlying)" }
        return "\(error.code)"
    }

    static func translate(_ error: any Error) -> any Error {
        guard let error = error as? PSQLError else { return error }
        guard let info = error.serverInfo else {
            return StorageError(.unavailable, "PostgreSQL: \(error.code)")
        }
        let message = info[.message] ?? "\(error.code)"
        let detail = info[.detail].map { " (\($0))" } ?? ""
        switch info[.sqlState] {
        case "23505":
            return StorageError(.uniqueViolation, message + detail, constraint: info[.constraintName])
        case "23503":
            return StorageError(.foreignKeyViolation, message + detail, constraint: info[.constraintName])
        case let state? where state.hasPrefix("08") || state.hasPrefix("57"):
            return StorageError(.unavailable, "PostgreSQL: \(message)")
        default:
            return StorageError(.failed, "PostgreSQL: \(message)\(detail)")
        }
    }
}
