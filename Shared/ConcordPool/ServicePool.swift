import ConcordBalancer
import ConcordClient
import ConcordProtocol
import ConcordTLS
import Logging
import NIOConcurrencyHelpers
import NIOCore

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
///
/// Every decision is `PoolState`'s, kept under one lock with the connections; this class only
/// performs what it returns. A forwarded request takes the lock twice: once to be admitted and
/// sent, once with its answer (and, for a retry, where to send it next).
public final class ServicePool: Sendable {
    public let service: String
    public let configured: [Endpoint]
    public let settings: PoolSettings
    private let identity: TLSIdentity
    private let resolver: any NameResolver
    /// The loops its connections run on.
    public let eventLoopGroup: any EventLoopGroup
    private let logger: Logger

    /// The machine, and what performing its actions needs: a connection per replica, and the
    /// callers waiting for the verbs lookup.
    fileprivate struct Locked {
        var machine: PoolState
        var clients: [Endpoint: ConcordClient] = [:] {
            didSet { self.lastClient = nil }
        }
        /// The replica connection handed out last: with one replica, or while requests go to
        /// one, it is compared rather than `clients` hashed by host and port. Forgotten
        /// whenever `clients` changes.
        var lastClient: (endpoint: Endpoint, client: ConcordClient)?
        var verbWaiters: [@Sendable () -> Void] = []
        /// Each replica's last answer to `verbs`, as sent and as decoded: a health check whose
        /// answer is the same bytes (nearly always) decodes nothing.
        var catalogues: [Endpoint: (body: ByteBuffer, verbs: [String: VerbKind])] = [:]
    }

    fileprivate let locked: NIOLockedValueBox<Locked>

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
        self.locked = NIOLockedValueBox(Locked(machine: PoolState(
            service: service, settings: settings, addresses: endpoints.filter(\.isAddressLiteral),
            seed: UInt64.random(in: .min ... .max)
        )))
    }

    // MARK: Verbs

    /// The kind the service declared for `verb`; a verb it has not declared counts as a write.
    public func kind(of verb: String) -> VerbKind {
        self.locked.withLockedValue { $0.machine.kind(of: verb) }
    }

    /// Whether a replica declared `verb`: a metric may name it then (a label never holds what a
    /// caller made up).
    public func declares(_ verb: String) -> Bool {
        self.locked.withLockedValue { $0.machine.verbs.merged[verb] != nil }
    }

    /// Every verb a replica declared: what a refusal lists as the ones there are.
    public var declaredVerbs: [String] {
        self.locked.withLockedValue { Array($0.machine.verbs.merged.keys) }
    }

    /// Whether any replica has said what its verbs are yet.
    public var knowsVerbs: Bool { self.locked.withLockedValue { $0.machine.verbs.learned } }

    /// Calls `then` once the service's verbs are known, or once no replica is left to ask
    /// (the first requests after a start, before a health check has learned them). Concurrent
    /// callers share one lookup, which asks one replica after another.
    public func whenVerbsKnown(_ then: @escaping @Sendable () -> Void) {
        let needed = self.locked.withLockedValue { state -> PoolState.VerbsNeeded in
            let needed = state.machine.needVerbs(now: .now)
            if needed != .proceed { state.verbWaiters.append(then) }
            return needed
        }
        switch needed {
        case .proceed: then()
        case .wait: break
        case .ask(let endpoint): self.askVerbs(endpoint)
        }
    }

    /// Waits until the service's verbs are known or no replica is left to ask.
    public func learnVerbs() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            self.whenVerbsKnown { continuation.resume() }
        }
    }

    private func askVerbs(_ endpoint: Endpoint) {
        guard let client = self.client(for: endpoint) else {
            return self.verbsAnswered(by: endpoint, nil, forLookup: true)
        }
        self.askVerbs(client, of: endpoint) { self.verbsAnswered(by: endpoint, $0, forLookup: true) }
    }

    /// Asks one replica's connection the `verbs` built-in, within the health timeout; `then`
    /// gets its catalogue, or nil when it did not answer with one. Decoding a catalogue is costly
    /// (docs/performance.md) and would come at every health check of every replica: an answer
    /// the same as the last is not decoded again.
    private func askVerbs(_ client: ConcordClient, of endpoint: Endpoint, then: @escaping @Sendable ([String: VerbKind]?) -> Void) {
        var metadata = Metadata()
        metadata.deadline = self.settings.healthTimeout
        client.send(Request(id: "verbs", verb: "verbs", metadata: metadata, body: Request.emptyBody)) { result in
            guard case .success(let response) = result, case .ok(let body) = response.outcome else { return then(nil) }
            let known = self.locked.withLockedValue { $0.catalogues[endpoint] }
            if let known, known.body == body { return then(known.verbs) }
            guard let verbs = (try? JSONBody.decode(VerbCatalogue.self, from: body))?.verbs else { return then(nil) }
            self.locked.withLockedValue { state in
                // Not for a replica removed meanwhile.
                if state.clients[endpoint] != nil { state.catalogues[endpoint] = (body, verbs) }
            }
            then(verbs)
        }
    }

    private func verbsAnswered(by endpoint: Endpoint, _ catalogue: [String: VerbKind]?, forLookup: Bool) {
        let (changed, next, events, waiters) = self.locked.withLockedValue { state in
            let (changed, next, events) = state.machine.verbsAnswered(by: endpoint, catalogue, forLookup: forLookup, now: .now)
            var waiters: [@Sendable () -> Void] = []
            if next == .done { swap(&waiters, &state.verbWaiters) }
            return (changed, next, events, waiters)
        }
        if changed, let catalogue {
            self.logger.info("learned the service's verbs", metadata: [LogKey.replica: "\(endpoint)", LogKey.verbs: "\(catalogue.count)"])
        }
        self.perform(events)
        for waiter in waiters { waiter() }
        if case .ask(let next)? = next { self.askVerbs(next) }
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
        _ request: consuming Request,
        kind: VerbKind,
        actor: (name: String, role: String)?,
        deadline: NIODeadline,
        eventLoop: any EventLoop,
        answer: some Answering
    ) {
        let now = ContinuousClock.now
        var until = now + Duration.nanoseconds((deadline - .now()).nanoseconds)
        if request.metadata.deadlineMilliseconds == nil {
            until = min(until, now + self.settings.defaultDeadline)
        }
        // The service trusts the gateway (mutual TLS); the client's token stops here, and only
        // the gateway says who acts. A request without a trace gets one, so the gateway's and the
        // service's logs share it. All three go in the request's envelope (`Metadata.Relay`);
        // the request itself is moved on unchanged, neither copied nor its metadata.
        let attempt = PoolState.Attempt(retrySafe: PoolState.isRetrySafe(request, kind: kind), deadline: until)
        let needsTrace = request.metadata.trace == nil
        let relay = Metadata.Relay(deadlineMilliseconds: 0, actor: actor?.name, actorRole: actor?.role)
        let forwarding = Forwarding(
            pool: self, request: consume request, relay: relay, attempt: attempt, start: now, eventLoop: eventLoop, answer: answer
        )
        let (step, trace) = self.locked.withLockedValue { state -> (Step, String?) in
            let (admission, trace) = state.machine.admit(&forwarding.attempt, needsTrace: needsTrace, now: now)
            switch admission {
            case .refuse(let error): return (.refused(error), nil)
            case .fail(let error): return (.finish(.failure(error)), nil)
            case .send(let endpoint, let remaining):
                return (self.connect(.send(endpoint, remaining: remaining), attempt: &forwarding.attempt, in: &state, now: now), trace)
            }
        }
        if let trace { forwarding.relay.trace = trace }
        forwarding.perform(step, now: now)
    }

    /// ``forward(_:kind:actor:deadline:eventLoop:answer:)`` with the answer given to a closure.
    public func forward(
        _ request: consuming Request, kind: VerbKind, actor: (name: String, role: String)?, deadline: NIODeadline, eventLoop: any EventLoop,
        answer: @escaping @Sendable (Result<ByteBuffer, ConcordError>) -> Void
    ) {
        self.forward(request, kind: kind, actor: actor, deadline: deadline, eventLoop: eventLoop, answer: AnswerBy(answer))
    }

    /// What forwarding does next, with the connection to use.
    fileprivate enum Step {
        /// Not admitted: answer at once, counting nothing but the refusal.
        case refused(ConcordError)
        case finish(Result<ByteBuffer, ConcordError>)
        case send(Endpoint, ConcordClient, remaining: Duration)
    }

    /// Turns the machine's `next` into a connection to send on; a replica that cannot be given
    /// one counts as failed and the machine chooses again. Called under the lock.
    fileprivate func connect(
        _ next: PoolState.Next, attempt: inout PoolState.Attempt, in state: inout Locked, now: ContinuousClock.Instant
    ) -> Step {
        var next = next
        while true {
            switch next {
            case .finish(let error):
                return .finish(.failure(error))
            case .send(let endpoint, let remaining):
                if let client = self.client(for: endpoint, in: &state) {
                    return .send(endpoint, client, remaining: remaining)
                }
                let (again, events) = state.machine.unreachable(&attempt, endpoint, now: now)
                // Logged, and a drained replica's (absent) connection forgotten; nothing to close.
                self.log(events)
                _ = self.takeRemoved(events, from: &state)
                next = again
            }
        }
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
        let until = NIODeadline.now() + TimeAmount(deadline)
        let request = Request(id: "call", verb: verb, metadata: metadata, body: body)
        let result = await withCheckedContinuation { (continuation: CheckedContinuation<Result<ByteBuffer, ConcordError>, Never>) in
            self.whenVerbsKnown {
                let eventLoop = self.eventLoopGroup.any()
                eventLoop.execute {
                    self.forward(request, kind: self.kind(of: verb), actor: actor, deadline: until, eventLoop: eventLoop) { result in
                        continuation.resume(returning: result)
                    }
                }
            }
        }
        return try result.get()
    }

    /// Logged at debug level with the request's ids: a retry is routine, not a problem.
    fileprivate func logRetry(_ request: Request, trace: String?, from endpoint: Endpoint, after error: ConcordError) {
        self.logger.debug("retrying on another replica", metadata: [
            LogKey.requestID: "\(request.id)", LogKey.verb: "\(request.verb)", LogKey.trace: "\(trace ?? "")",
            LogKey.replica: "\(endpoint)", LogKey.code: "\(error.code)",
        ])
    }

    /// A replica answered (or failed to answer) a forwarded request: the machine decides what
    /// comes next; returns it with the connection for a retry, and closes drained replicas.
    fileprivate func answered(
        _ attempt: inout PoolState.Attempt, by endpoint: Endpoint, _ result: Result<Response, ConcordError>, now: ContinuousClock.Instant
    ) -> (Step, retriedAfter: ConcordError?) {
        let (step, after, events, closing) = self.locked.withLockedValue { state in
            let (decision, events) = state.machine.answered(&attempt, by: endpoint, result, now: now)
            let closing = events.isEmpty ? [] : self.takeRemoved(events, from: &state)
            switch decision {
            case .finish(let result):
                return (Step.finish(result), ConcordError?.none, events, closing)
            case .retry(let next, let remaining, let error):
                let step = self.connect(.send(next, remaining: remaining), attempt: &attempt, in: &state, now: now)
                return (step, error, events, closing)
            }
        }
        if !events.isEmpty {
            self.log(events)
            Self.close(closing)
        }
        return (step, after)
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
                let known = self.locked.withLockedValue { $0.machine.checkTargets }
                addresses += known.filter { $0.port == endpoint.port && !self.configured.contains($0) }
            }
        }
        let (added, events, closing) = self.locked.withLockedValue { state in
            let update = state.machine.update(addresses: addresses)
            return (update.added, update.events, self.takeRemoved(update.events, from: &state))
        }
        for endpoint in added {
            self.logger.info("replica joined", metadata: [LogKey.replica: "\(endpoint)"])
        }
        self.log(events)
        Self.close(closing)
    }

    /// Asks every replica `ready`, and what its verbs are; readmits ejected replicas whose time
    /// is up.
    public func checkHealth() async {
        let targets = self.locked.withLockedValue { $0.machine.checkTargets }
        await withTaskGroup(of: (Endpoint, Bool).self) { group in
            for endpoint in targets {
                group.addTask {
                    guard let client = self.client(for: endpoint) else { return (endpoint, false) }
                    var metadata = Metadata()
                    metadata.deadline = self.settings.healthTimeout
                    let healthy = (try? await client.call("ready", metadata: metadata)) != nil
                    if healthy {
                        let verbs = await withCheckedContinuation { continuation in
                            self.askVerbs(client, of: endpoint) { continuation.resume(returning: $0) }
                        }
                        self.verbsAnswered(by: endpoint, verbs, forLookup: false)
                    }
                    return (endpoint, healthy)
                }
            }
            for await (endpoint, healthy) in group {
                let events = self.locked.withLockedValue { $0.machine.checked(endpoint, healthy: healthy, now: .now) }
                self.log(events)
            }
        }
        let events = self.locked.withLockedValue { $0.machine.expireEjections(now: .now) }
        self.log(events)
    }

    private func client(for endpoint: Endpoint) -> ConcordClient? {
        self.locked.withLockedValue { self.client(for: endpoint, in: &$0) }
    }

    /// The one connection to `endpoint`, made on first use. Only a TLS setup error fails it, and
    /// that would fail for every replica.
    private func client(for endpoint: Endpoint, in state: inout Locked) -> ConcordClient? {
        if let last = state.lastClient, last.endpoint == endpoint { return last.client }
        if let client = state.clients[endpoint] {
            state.lastClient = (endpoint, client)
            return client
        }
        do {
            let client = try self.makeClient(endpoint)
            state.clients[endpoint] = client
            return client
        } catch {
            self.logger.error("cannot create a client", metadata: [LogKey.replica: "\(endpoint)", LogKey.error: "\(error)"])
            return nil
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
        let clients = self.locked.withLockedValue { state in
            state.machine.close()
            defer { state.clients = [:] }
            return Array(state.clients.values)
        }
        for client in clients { await client.close() }
    }

    /// Replicas as the stats verb shows them.
    public var status: [ReplicaSet<Endpoint>.Replica] {
        self.locked.withLockedValue { $0.machine.replicas.replicas }
    }

    public var pending: Int { self.locked.withLockedValue { $0.machine.active } }

    // MARK: Performing events

    /// The connections of replicas the machine has dropped (drained, then removed).
    fileprivate func takeRemoved(_ events: [ReplicaSet<Endpoint>.Event], from state: inout Locked) -> [ConcordClient] {
        events.compactMap { event in
            guard case .removed(let endpoint) = event else { return nil }
            state.catalogues[endpoint] = nil
            return state.clients.removeValue(forKey: endpoint)
        }
    }

    fileprivate static func close(_ clients: [ConcordClient]) {
        guard !clients.isEmpty else { return }
        Task { for client in clients { await client.close() } }
    }

    /// Logs replica events and closes the connections of removed replicas.
    private func perform(_ events: [ReplicaSet<Endpoint>.Event]) {
        guard !events.isEmpty else { return }
        let closing = self.locked.withLockedValue { self.takeRemoved(events, from: &$0) }
        self.log(events)
        Self.close(closing)
    }

    fileprivate func log(_ events: [ReplicaSet<Endpoint>.Event]) {
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

/// One request on its way through a pool, on the caller's event loop: it owns the request's
/// `PoolState.Attempt`, sends where the pool's machine says, hands each answer back to it, and
/// answers the caller when told to. Used on its event loop only: the answer of a replica whose
/// connection is on another loop is taken over to it (`received`).
private final class Forwarding: CallReceiver, @unchecked Sendable {
    let pool: ServicePool
    /// As the caller sent it; it goes on in `relay`'s envelope.
    let request: Request
    var relay: Metadata.Relay
    let eventLoop: any EventLoop
    let answer: any Answering
    var attempt: PoolState.Attempt
    /// The replica the attempt under way was sent to.
    private var sentTo: Endpoint?
    /// When the pool took the request, for its latency.
    private let start: ContinuousClock.Instant

    init(
        pool: ServicePool, request: consuming Request, relay: Metadata.Relay, attempt: PoolState.Attempt, start: ContinuousClock.Instant,
        eventLoop: any EventLoop, answer: any Answering
    ) {
        self.pool = pool
        self.request = request
        self.relay = relay
        self.attempt = attempt
        self.start = start
        self.eventLoop = eventLoop
        self.answer = answer
    }

    /// `now`: the clock as the step was decided, which a finished request's latency ends at.
    func perform(_ step: ServicePool.Step, now: ContinuousClock.Instant) {
        switch step {
        case .send(let endpoint, let client, let remaining):
            self.send(to: endpoint, client: client, remaining: remaining)
        case .finish(let result):
            self.finish(result, now: now)
        case .refused(let error):
            self.pool.stats.record(.zero, error: error.code, retries: 0)
            self.answer(.failure(error))
        }
    }

    private func send(to endpoint: Endpoint, client: ConcordClient, remaining: Duration) {
        self.relay.deadlineMilliseconds = max(1, remaining.wholeMilliseconds)
        self.sentTo = endpoint
        client.send(self.request, relay: self.relay, to: self)
    }

    /// The answer to the attempt under way (one at a time: a retry is sent after an answer).
    func received(_ result: Result<Response, ConcordError>) {
        if self.eventLoop.inEventLoop {
            self.answered(result)
        } else {
            self.eventLoop.execute { self.answered(result) }
        }
    }

    /// One clock reading serves the pool's verdict and the latency.
    private func answered(_ result: Result<Response, ConcordError>) {
        // Set by `send`, the only way an answer comes here.
        let endpoint = self.sentTo!
        let now = ContinuousClock.now
        let (step, retriedAfter) = self.pool.answered(&self.attempt, by: endpoint, result, now: now)
        if let retriedAfter { self.pool.logRetry(self.request, trace: self.request.metadata.trace ?? self.relay.trace, from: endpoint, after: retriedAfter) }
        self.perform(step, now: now)
    }

    private func finish(_ result: Result<ByteBuffer, ConcordError>, now: ContinuousClock.Instant) {
        let elapsed = now - self.start
        switch result {
        case .success:
            self.pool.stats.record(elapsed, error: nil, retries: self.attempt.retries)
        case .failure(let error):
            self.pool.stats.record(elapsed, error: error.code, retries: self.attempt.retries)
        }
        self.answer(result)
    }
}
