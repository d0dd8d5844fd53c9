import ConcordBalancer
import ConcordClient
import ConcordProtocol
import ConcordServer
import ConcordTLS
import Logging
import NIOConcurrencyHelpers
import NIOCore
import W3CTraceContext

/// How a pool treats its replicas and the requests it forwards.
public struct PoolSettings: Sendable {
    public init() {}

    /// Requests in flight to this service beyond which callers get `unavailable` at once.
    public var maxPending = 1024
    public var retryBudget = RetryBudget()
    /// The deadline of a request that brings none.
    public var defaultDeadline: Duration = .seconds(10)
    /// Envoy's default connect timeout.
    public var connectTimeout: Duration = .seconds(5)
    public var healthInterval: Duration = .seconds(2)
    public var healthTimeout: Duration = .seconds(1)
    public var resolveInterval: Duration = .seconds(5)
    public var policy = ReplicaSet<Endpoint>.Policy()
}

/// The replicas of one service behind the gateway: one multiplexed mutual-TLS connection per
/// replica, least outstanding requests over two random choices, passive outlier ejection and
/// active health checks, retries of safe requests on another replica within a budget, and a
/// bound on pending requests. Bodies pass through as bytes.
public final class ServicePool: Sendable {
    public let service: String
    public let configured: [Endpoint]
    public let settings: PoolSettings
    private let identity: TLSIdentity
    private let resolver: any NameResolver
    private let eventLoopGroup: any EventLoopGroup
    private let logger: Logger

    private struct State {
        var replicas: ReplicaSet<Endpoint>
        var clients: [Endpoint: ConcordClient] = [:]
        var active = 0
        var activeRetries = 0
        /// For replica choices and trace ids: fast (no system call per request), seeded from the
        /// system's generator.
        var generator = SplitMix64(seed: UInt64.random(in: .min ... .max))
        var isClosed = false
    }

    private let state: NIOLockedValueBox<State>

    /// What the service says each of its verbs is, merged over its replicas (learned from the
    /// `verbs` built-in at every health check). Apart from `state`: read on every request.
    private let catalogue = NIOLockedValueBox(Catalogue())

    struct Catalogue: Sendable {
        var byReplica: [Endpoint: [String: VerbKind]] = [:]
        /// The one on-demand lookup in flight, which every request waiting on it shares.
        var learning: Task<Void, Never>?
        /// Every replica's verbs; where replicas disagree (a rolling upgrade), write wins.
        var merged: [String: VerbKind] = [:]
        var learned: Bool { !self.byReplica.isEmpty }

        mutating func set(_ verbs: [String: VerbKind], from endpoint: Endpoint) {
            guard self.byReplica[endpoint] != verbs else { return }
            self.byReplica[endpoint] = verbs
            self.merge()
        }

        mutating func forget(_ endpoint: Endpoint) {
            guard self.byReplica.removeValue(forKey: endpoint) != nil else { return }
            self.merge()
        }

        private mutating func merge() {
            self.merged = self.byReplica.values.reduce(into: [:]) { merged, verbs in
                merged.merge(verbs) { first, second in first == .write || second == .write ? .write : first }
            }
        }
    }

    /// The kind the service declared for `verb`; a verb it has not declared counts as a write
    /// (the safe side: it needs a writer's role and is not repeated without an idempotency key).
    public func kind(of verb: String) -> VerbKind {
        self.catalogue.withLockedValue { $0.merged[verb] } ?? .write
    }

    /// Whether any replica has said what its verbs are yet.
    public var knowsVerbs: Bool { self.catalogue.withLockedValue { $0.learned } }

    /// Asks replicas for their verbs now (before the first health check has, say), one after
    /// another until one answers. Concurrent callers share one lookup.
    public func learnVerbs() async {
        let task = self.catalogue.withLockedValue { state -> Task<Void, Never> in
            if let learning = state.learning { return learning }
            let learning = Task { await self.askReplicasForVerbs() }
            state.learning = learning
            return learning
        }
        await task.value
        self.catalogue.withLockedValue { $0.learning = nil }
    }

    private func askReplicasForVerbs() async {
        var tried: Set<Endpoint> = []
        while !self.knowsVerbs, let (endpoint, client) = self.pick(excluding: tried) {
            tried.insert(endpoint)
            await self.learnVerbs(from: endpoint, client: client)
            self.finished(endpoint, success: self.catalogue.withLockedValue { $0.byReplica[endpoint] != nil })
        }
    }

    private func learnVerbs(from endpoint: Endpoint, client: ConcordClient) async {
        var metadata = Metadata()
        metadata.deadline = self.settings.healthTimeout
        guard let body = try? await client.call("verbs", metadata: metadata),
              let catalogue = try? JSONBody.decode(VerbCatalogue.self, from: body)
        else { return }
        let changed = self.catalogue.withLockedValue { state in
            let before = state.byReplica[endpoint]
            state.set(catalogue.verbs, from: endpoint)
            return before != catalogue.verbs
        }
        if changed {
            self.logger.info("learned the service's verbs", metadata: [LogKey.replica: "\(endpoint)", LogKey.verbs: "\(catalogue.verbs.count)"])
        }
    }

    public init(
        service: String,
        endpoints: [Endpoint],
        settings: PoolSettings,
        identity: TLSIdentity,
        resolver: any NameResolver,
        eventLoopGroup: any EventLoopGroup,
        logger: Logger
    ) {
        self.service = service
        self.configured = endpoints
        self.settings = settings
        self.identity = identity
        self.resolver = resolver
        self.eventLoopGroup = eventLoopGroup
        var logger = logger
        logger[metadataKey: LogKey.service] = "\(service)"
        self.logger = logger
        // Address literals are replicas from the start; names join when first resolved.
        self.state = NIOLockedValueBox(State(replicas: ReplicaSet(addresses: endpoints.filter(\.isAddressLiteral), policy: settings.policy)))
    }

    // MARK: Forwarding

    public let stats = RouteStats()

    /// Forwards `request` to a replica and calls `answer` once with the answer's body or the
    /// error to answer. It runs on the caller's event loop without a task or a future:
    /// forwarding is writing to one connection and waiting for a line on another.
    ///
    /// - Parameters:
    ///   - kind: what the service declared the verb to be; reads may be retried on another replica.
    ///   - actor: the token holder's name (as metadata carries it) and role, passed on as `actor=`
    ///     and `role=` (what a client sent under those keys is dropped: only the gateway says who
    ///     acts).
    public func forward(
        _ request: Request,
        kind: VerbKind,
        actor: (name: String, role: String)?,
        deadline: NIODeadline,
        eventLoop: any EventLoop,
        answer: @escaping @Sendable (Result<ByteBuffer, ConcordError>) -> Void
    ) {
        let needsTrace = request.metadata.trace == nil
        let admitted = self.state.withLockedValue { state -> (Bool, trace: String?) in
            guard state.active < self.settings.maxPending else { return (false, nil) }
            state.active += 1
            return (true, needsTrace ? Self.newTraceParent(using: &state.generator) : nil)
        }
        guard admitted.0 else {
            self.stats.record(.zero, error: .unavailable, retries: 0)
            return answer(.failure(ConcordError(
                .unavailable,
                "\(self.service) has \(self.settings.maxPending) requests pending, its bound; retry shortly"
            )))
        }
        var deadline = deadline
        if request.metadata.deadlineMilliseconds == nil {
            deadline = min(deadline, .now() + .milliseconds(self.settings.defaultDeadline.wholeMilliseconds))
        }
        // The service trusts the gateway (mutual TLS); the client's token stops here. A request
        // without a trace gets one, so the gateway's and the service's logs share it.
        var outgoing = request
        outgoing.metadata.auth = nil
        outgoing.metadata.actor = actor?.name
        outgoing.metadata.actorRole = actor?.role
        if let trace = admitted.trace {
            outgoing.metadata.trace = trace
        }
        let forwarding = Forwarding(
            pool: self, request: outgoing, deadline: deadline, retrySafe: Self.isRetrySafe(request, kind: kind),
            eventLoop: eventLoop, answer: answer
        )
        forwarding.attempt()
    }

    /// Calls `verb` on a replica as the gateway forwards a request: a replica chosen by least
    /// outstanding requests, retried on another when the verb is a read (or `metadata` has an
    /// idempotency key), within `deadline`. For a service that calls another (agreements
    /// checking references in participants).
    ///
    /// `actor`: the name (as metadata carries it) and role of who the call acts for, as the
    /// gateway passes a token's holder on.
    public func call(
        _ verb: String, body: ByteBuffer, metadata: Metadata = Metadata(), actor: (name: String, role: String)? = nil, deadline: Duration
    ) async throws(ConcordError) -> ByteBuffer {
        if !self.knowsVerbs { await self.learnVerbs() }
        let eventLoop = self.eventLoopGroup.any()
        let request = Request(id: "call", verb: verb, metadata: metadata, body: body)
        let kind = self.kind(of: verb)
        let result = await withCheckedContinuation { (continuation: CheckedContinuation<Result<ByteBuffer, ConcordError>, Never>) in
            eventLoop.execute {
                self.forward(request, kind: kind, actor: actor, deadline: .now() + TimeAmount(deadline), eventLoop: eventLoop) { result in
                    continuation.resume(returning: result)
                }
            }
        }
        return try result.get()
    }

    /// A new W3C `traceparent` (version 00, sampled), for a request that brought none, so the
    /// gateway's and the service's logs (and the audit trail) share it.
    static func newTraceParent(using generator: inout some RandomNumberGenerator) -> String {
        TraceContext(
            traceID: .random(using: &generator), spanID: .random(using: &generator), flags: .sampled, state: TraceState()
        ).traceParentHeaderValue
    }

    /// Reads are safe to send twice; so is a write that carries an idempotency key.
    static func isRetrySafe(_ request: Request, kind: VerbKind) -> Bool {
        request.metadata.idempotencyKey != nil || kind != .write
    }

    /// Logged at debug level with the request's ids: a retry is routine, not a problem.
    fileprivate func logRetry(_ request: Request, from endpoint: Endpoint, after error: ConcordError) {
        self.logger.debug("retrying on another replica", metadata: [
            LogKey.requestID: "\(request.id)", LogKey.verb: "\(request.verb)", LogKey.trace: "\(request.metadata.trace ?? "")",
            LogKey.replica: "\(endpoint)", LogKey.code: "\(error.code)",
        ])
    }

    /// What an answer says about the replica, and whether another replica might do better.
    struct Verdict {
        var replicaIsFine: Bool
        var retryable: Bool

        init(_ outcome: Response.Outcome) {
            switch outcome {
            case .ok:
                self.replicaIsFine = true
                self.retryable = false
            case .error(let error):
                switch error.code {
                case .unavailable:
                    // Unreachable, closed, draining, or its store is down: try elsewhere.
                    self.replicaIsFine = false
                    self.retryable = true
                case .deadlineExceeded, .internal:
                    self.replicaIsFine = false
                    self.retryable = false
                default:
                    // not_found, conflict, bad_request...: the replica works; that is the answer.
                    self.replicaIsFine = true
                    self.retryable = false
                }
            }
        }
    }

    fileprivate func pick(excluding tried: Set<Endpoint>) -> (Endpoint, ConcordClient)? {
        self.state.withLockedValue { state in
            guard !state.isClosed, let endpoint = state.replicas.pick(excluding: tried, now: .now, using: &state.generator) else {
                return nil
            }
            if let client = state.clients[endpoint] { return (endpoint, client) }
            do {
                let client = try self.makeClient(endpoint)
                state.clients[endpoint] = client
                return (endpoint, client)
            } catch {
                // Only a TLS setup error gets here, and it would fail for every replica.
                self.logger.error("cannot create a client", metadata: [LogKey.replica: "\(endpoint)", LogKey.error: "\(error)"])
                _ = state.replicas.finished(endpoint, success: false, now: .now)
                return nil
            }
        }
    }

    fileprivate func takeRetrySlot() -> Bool {
        self.state.withLockedValue { state in
            guard self.settings.retryBudget.allows(activeRequests: state.active, activeRetries: state.activeRetries) else {
                return false
            }
            state.activeRetries += 1
            return true
        }
    }

    fileprivate func finished(_ endpoint: Endpoint, success: Bool) {
        let (events, closing) = self.state.withLockedValue { state in
            let events = state.replicas.finished(endpoint, success: success, now: .now)
            return (events, self.takeRemoved(events, from: &state))
        }
        self.log(events)
        Self.close(closing)
    }

    /// A forwarded request has its answer: it no longer counts as pending, nor as a retry.
    fileprivate func release(holdingRetrySlot: Bool) {
        self.state.withLockedValue { state in
            state.active -= 1
            if holdingRetrySlot { state.activeRetries -= 1 }
        }
    }

    // MARK: Maintenance

    /// Re-resolves names: new addresses become replicas, vanished ones drain.
    public func refresh() async {
        var addresses = self.configured.filter(\.isAddressLiteral)
        for endpoint in self.configured where !endpoint.isAddressLiteral {
            do {
                addresses += try await self.resolver.resolve(endpoint.host).map { Endpoint(host: $0, port: endpoint.port) }
            } catch {
                // Keep what we had for this name: a resolver hiccup must not empty the pool.
                self.logger.warning("name resolution failed", metadata: [LogKey.error: "\(error)"])
                let known = self.state.withLockedValue { $0.replicas.replicas.filter { !$0.isDraining }.map(\.address) }
                addresses += known.filter { $0.port == endpoint.port && !self.configured.contains($0) }
            }
        }
        let (added, events, closing) = self.state.withLockedValue { state in
            let update = state.replicas.update(addresses: addresses)
            return (update.added, update.events, self.takeRemoved(update.events, from: &state))
        }
        for endpoint in added {
            self.logger.info("replica joined", metadata: [LogKey.replica: "\(endpoint)"])
        }
        self.log(events)
        Self.close(closing)
    }

    /// Asks every replica `ready`; readmits ejected replicas whose time is up.
    public func checkHealth() async {
        let targets = self.state.withLockedValue { state in
            state.replicas.replicas.filter { !$0.isDraining }.map(\.address)
        }
        await withTaskGroup(of: (Endpoint, Bool).self) { group in
            for endpoint in targets {
                group.addTask {
                    guard let client = self.client(for: endpoint) else { return (endpoint, false) }
                    var metadata = Metadata()
                    metadata.deadline = self.settings.healthTimeout
                    let healthy = (try? await client.call("ready", metadata: metadata)) != nil
                    if healthy { await self.learnVerbs(from: endpoint, client: client) }
                    return (endpoint, healthy)
                }
            }
            for await (endpoint, healthy) in group {
                let events = self.state.withLockedValue { $0.replicas.checked(endpoint, healthy: healthy, now: .now) }
                self.log(events)
            }
        }
        let events = self.state.withLockedValue { $0.replicas.expireEjections(now: .now) }
        self.log(events)
    }

    private func client(for endpoint: Endpoint) -> ConcordClient? {
        self.state.withLockedValue { state in
            if let client = state.clients[endpoint] { return client }
            guard let client = try? self.makeClient(endpoint) else { return nil }
            state.clients[endpoint] = client
            return client
        }
    }

    /// The one connection to `endpoint`, shared by forwarded requests and health checks. Its
    /// certificate must carry the service's name.
    private func makeClient(_ endpoint: Endpoint) throws -> ConcordClient {
        try ConcordClient(
            configuration: .init(
                host: endpoint.host, port: endpoint.port, tls: self.identity, serverName: self.service,
                connectTimeout: self.settings.connectTimeout
            ),
            eventLoopGroup: self.eventLoopGroup,
            logger: self.logger
        )
    }

    /// Closes every connection; later requests get `unavailable`.
    public func close() async {
        let clients = self.state.withLockedValue { state in
            state.isClosed = true
            defer { state.clients = [:] }
            return Array(state.clients.values)
        }
        for client in clients { await client.close() }
    }

    /// Replicas as the stats verb shows them.
    public var status: [ReplicaSet<Endpoint>.Replica] {
        self.state.withLockedValue { $0.replicas.replicas }
    }

    public var pending: Int { self.state.withLockedValue { $0.active } }

    // MARK: Helpers

    private func takeRemoved(_ events: [ReplicaSet<Endpoint>.Event], from state: inout State) -> [ConcordClient] {
        events.compactMap { event in
            guard case .removed(let endpoint) = event else { return nil }
            self.catalogue.withLockedValue { $0.forget(endpoint) }
            return state.clients.removeValue(forKey: endpoint)
        }
    }

    private static func close(_ clients: [ConcordClient]) {
        guard !clients.isEmpty else { return }
        Task { for client in clients { await client.close() } }
    }

    private func log(_ events: [ReplicaSet<Endpoint>.Event]) {
        for event in events {
            switch event {
            case .ejected(let endpoint, _, let ejections):
                self.logger.warning("replica ejected after consecutive failures", metadata: [
                    LogKey.replica: "\(endpoint)", LogKey.ejections: "\(ejections)",
                ])
            case .readmitted(let endpoint):
                self.logger.info("replica readmitted", metadata: [LogKey.replica: "\(endpoint)"])
            case .becameUnhealthy(let endpoint):
                self.logger.warning("replica failed its health checks", metadata: [LogKey.replica: "\(endpoint)"])
            case .becameHealthy(let endpoint):
                self.logger.info("replica healthy again", metadata: [LogKey.replica: "\(endpoint)"])
            case .removed(let endpoint):
                self.logger.info("replica drained and removed", metadata: [LogKey.replica: "\(endpoint)"])
            }
        }
    }
}

/// One request on its way through a pool: tries replicas in turn until one answers, a retry is
/// not allowed, or the deadline passes. Lives on the caller's event loop; each attempt's answer
/// is hopped back to it.
private final class Forwarding {
    let pool: ServicePool
    let request: Request
    let deadline: NIODeadline
    let retrySafe: Bool
    let eventLoop: any EventLoop
    let answer: @Sendable (Result<ByteBuffer, ConcordError>) -> Void
    private let start = NIODeadline.now()
    private var tried: Set<Endpoint> = []
    /// One budget slot per request, however many retries it makes, released when it ends.
    private var holdsRetrySlot = false
    private var retries = 0
    /// What the last replica tried said: the answer when no other replica is left to try.
    private var lastError: ConcordError?

    init(
        pool: ServicePool, request: Request, deadline: NIODeadline, retrySafe: Bool, eventLoop: any EventLoop,
        answer: @escaping @Sendable (Result<ByteBuffer, ConcordError>) -> Void
    ) {
        self.pool = pool
        self.request = request
        self.deadline = deadline
        self.retrySafe = retrySafe
        self.eventLoop = eventLoop
        self.answer = answer
    }

    func attempt() {
        let remaining = self.deadline - .now()
        guard remaining > .zero else {
            return self.finish(.failure(ConcordError(.deadlineExceeded, "the deadline passed before \(self.pool.service) answered")))
        }
        guard let (endpoint, client) = self.pool.pick(excluding: self.tried) else {
            return self.finish(.failure(self.lastError ?? ConcordError(.unavailable, "no replica of \(self.pool.service) can take requests now; retry shortly")))
        }
        var forwarded = self.request
        forwarded.metadata.deadlineMilliseconds = max(1, remaining.nanoseconds / 1_000_000)
        let this = NIOLoopBound(self, eventLoop: self.eventLoop)
        let eventLoop = self.eventLoop
        client.send(consume forwarded) { result in
            if eventLoop.inEventLoop {
                this.value.answered(by: endpoint, result)
            } else {
                eventLoop.execute { this.value.answered(by: endpoint, result) }
            }
        }
    }

    private func answered(by endpoint: Endpoint, _ result: Result<Response, ConcordError>) {
        let outcome: Response.Outcome
        // The replica is gone or going (not overloaded), and did not do the work.
        var notDone = false
        switch result {
        case .success(let response):
            outcome = response.outcome
            if case .error(let error) = outcome, error.unprocessed { notDone = true }
        case .failure(let error):
            outcome = .error(error)
            notDone = error.code == .unavailable
        }
        let verdict = ServicePool.Verdict(outcome)
        self.pool.finished(endpoint, success: verdict.replicaIsFine)
        switch outcome {
        case .ok(let body):
            self.finish(.success(body))
        case .error(let error):
            // A replica that cannot be reached, dropped the connection or is shutting down is going
            // away, not overloaded: retrying elsewhere adds no load to it, so those retries are
            // outside the budget (still one per replica, within the deadline). Retries after any
            // other `unavailable` (store down) count against the budget. A request the replica
            // says it did not start is safe to send again whatever its verb.
            let mayRepeat = self.retrySafe || error.unprocessed
            guard verdict.retryable, mayRepeat, notDone || self.holdsRetrySlot || self.pool.takeRetrySlot() else {
                return self.finish(.failure(error))
            }
            if !notDone { self.holdsRetrySlot = true }
            self.tried.insert(endpoint)
            self.lastError = error
            self.retries += 1
            self.pool.logRetry(self.request, from: endpoint, after: error)
            self.attempt()
        }
    }

    private func finish(_ result: Result<ByteBuffer, ConcordError>) {
        self.pool.release(holdingRetrySlot: self.holdsRetrySlot)
        let elapsed = Duration.nanoseconds((NIODeadline.now() - self.start).nanoseconds)
        switch result {
        case .success:
            self.pool.stats.record(elapsed, error: nil, retries: self.retries)
        case .failure(let error):
            self.pool.stats.record(elapsed, error: error.code, retries: self.retries)
        }
        self.answer(result)
    }
}
