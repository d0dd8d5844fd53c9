import ConcordBalancer
import ConcordProtocol
import NIOCore

/// Every decision a pool makes, as one value: admission under the pending bound, the retry
/// budget, the replicas each request has tried, the verdict on an answer, the next replica, and
/// what the service said its verbs are. `ServicePool` keeps it under one lock and only performs
/// what it returns: it sends where it is told, resumes whom it is told, closes what it is told.
/// Time comes in as an argument, and picks use a seeded generator, so tests drive it with no
/// sockets and no clock.
public struct PoolState: Sendable {
    public let service: String
    public let maxPending: Int
    public let retryBudget: RetryBudget
    public private(set) var replicas: ReplicaSet<Endpoint>
    /// Requests admitted and not yet answered.
    public private(set) var active = 0
    /// Requests that hold a slot of the retry budget.
    public private(set) var activeRetries = 0
    public private(set) var isClosed = false
    public private(set) var verbs = VerbsLearned()
    /// For replica choices and trace ids: fast (no system call per request).
    var generator: SplitMix64

    public init(service: String, settings: PoolSettings, addresses: [Endpoint], seed: UInt64) {
        self.service = service
        self.maxPending = settings.maxPending
        self.retryBudget = settings.retryBudget
        self.replicas = ReplicaSet(addresses: addresses, policy: settings.policy)
        self.generator = SplitMix64(seed: seed)
    }

    // MARK: One request

    /// One request on its way: what it may do and what it has done. Its owner (the forwarding
    /// in flight) keeps it and hands it to the machine `inout`: it is never copied per step.
    public struct Attempt: Sendable {
        /// A read, or a write with an idempotency key: another replica may be asked.
        public let retrySafe: Bool
        public let deadline: ContinuousClock.Instant
        public internal(set) var tried: Set<Endpoint> = []
        /// One budget slot per request, however many retries it makes, released when it ends.
        public internal(set) var holdsRetrySlot = false
        public internal(set) var retries = 0
        /// What the last replica tried said: the answer when no other replica is left to try.
        public internal(set) var lastError: ConcordError?
        /// Set once the attempt has its answer; later events for it change nothing.
        public internal(set) var isFinished = false

        public init(retrySafe: Bool, deadline: ContinuousClock.Instant) {
            self.retrySafe = retrySafe
            self.deadline = deadline
        }
    }

    /// What to do with a request that arrives.
    public enum Admission: Sendable, Equatable {
        /// Send it to `endpoint` with `remaining` as its deadline.
        case send(to: Endpoint, remaining: Duration)
        /// Answer at once with this error; the request was never counted.
        case refuse(ConcordError)
        /// It was admitted and counted, but no replica can take it: answer with this error.
        case fail(ConcordError)
    }

    /// Admits a request under the pending bound and chooses its first replica.
    ///
    /// - Parameters:
    ///   - attempt: the request's attempt, new (`isRetrySafe` says whether it may be repeated).
    ///   - needsTrace: the request brought no trace: `trace` is a new `traceparent` for it.
    public mutating func admit(
        _ attempt: inout Attempt, needsTrace: Bool, now: ContinuousClock.Instant
    ) -> (Admission, trace: String?) {
        guard !self.isClosed, self.active < self.maxPending else {
            attempt.isFinished = true
            return (.refuse(ConcordError(
                .unavailable,
                self.isClosed
                    ? "no replica of \(self.service) can take requests now; retry shortly"
                    : "\(self.service) has \(self.maxPending) requests pending, its bound; retry shortly"
            )), nil)
        }
        self.active += 1
        let trace = needsTrace ? Self.newTraceParent(using: &self.generator) : nil
        switch self.next(&attempt, now: now) {
        case .send(let endpoint, let remaining):
            return (.send(to: endpoint, remaining: remaining), trace)
        case .finish(let error):
            return (.fail(error), trace)
        }
    }

    /// Where an attempt goes next, or the error it ends with.
    public enum Next: Sendable, Equatable {
        case send(Endpoint, remaining: Duration)
        case finish(ConcordError)
    }

    /// The next replica for `attempt`: one it has not tried, while its deadline has not passed.
    /// Ending with an error releases the request (`active`, its retry slot).
    mutating func next(_ attempt: inout Attempt, now: ContinuousClock.Instant) -> Next {
        let remaining = attempt.deadline - now
        guard remaining > .zero else {
            self.release(&attempt)
            return .finish(ConcordError(.deadlineExceeded, "the deadline passed before \(self.service) answered"))
        }
        guard !self.isClosed, let endpoint = self.replicas.pick(excluding: attempt.tried, now: now, using: &self.generator) else {
            self.release(&attempt)
            return .finish(attempt.lastError ?? ConcordError(.unavailable, "no replica of \(self.service) can take requests now; retry shortly"))
        }
        return .send(endpoint, remaining: remaining)
    }

    /// What to do once a replica has answered an attempt (or failed to).
    public enum AfterAnswer: Sendable {
        /// The answer to give the caller; the request is released.
        case finish(Result<ByteBuffer, ConcordError>)
        /// Send it again, to another replica.
        case retry(Endpoint, remaining: Duration, after: ConcordError)
    }

    /// Takes the answer `endpoint` gave `attempt`: updates the replica's record, then decides
    /// whether it is the caller's answer or whether another replica should be asked. Also
    /// returns what happened to replicas (an ejection, a drained replica to close).
    public mutating func answered(
        _ attempt: inout Attempt, by endpoint: Endpoint, _ result: Result<Response, ConcordError>, now: ContinuousClock.Instant
    ) -> (AfterAnswer, events: [ReplicaSet<Endpoint>.Event]) {
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
        let verdict = Verdict(outcome)
        let events = self.replicas.finished(endpoint, success: verdict.replicaIsFine, now: now)
        switch outcome {
        case .ok(let body):
            self.release(&attempt)
            return (.finish(.success(body)), events)
        case .error(let error):
            // A replica that cannot be reached, dropped the connection or is shutting down is going
            // away, not overloaded: retrying elsewhere adds no load to it, so those retries are
            // outside the budget (still one per replica, within the deadline). Retries after any
            // other `unavailable` (store down) count against the budget. A request the replica
            // says it did not start is safe to send again whatever its verb.
            let mayRepeat = attempt.retrySafe || error.unprocessed
            guard verdict.retryable, mayRepeat, notDone || attempt.holdsRetrySlot || self.takeRetrySlot() else {
                self.release(&attempt)
                return (.finish(.failure(error)), events)
            }
            if !notDone { attempt.holdsRetrySlot = true }
            attempt.tried.insert(endpoint)
            attempt.lastError = error
            attempt.retries += 1
            switch self.next(&attempt, now: now) {
            case .send(let next, let remaining): return (.retry(next, remaining: remaining, after: error), events)
            case .finish(let error): return (.finish(.failure(error)), events)
            }
        }
    }

    /// A replica could not be given a connection (a TLS setup error): it counts as failed, and
    /// the attempt goes on to the next one.
    public mutating func unreachable(
        _ attempt: inout Attempt, _ endpoint: Endpoint, now: ContinuousClock.Instant
    ) -> (Next, events: [ReplicaSet<Endpoint>.Event]) {
        let events = self.replicas.finished(endpoint, success: false, now: now)
        attempt.tried.insert(endpoint)
        return (self.next(&attempt, now: now), events)
    }

    private mutating func takeRetrySlot() -> Bool {
        guard self.retryBudget.allows(activeRequests: self.active, activeRetries: self.activeRetries) else { return false }
        self.activeRetries += 1
        return true
    }

    /// The request has its answer: it no longer counts as pending, nor as a retry.
    private mutating func release(_ attempt: inout Attempt) {
        guard !attempt.isFinished else { return }
        attempt.isFinished = true
        self.active -= 1
        if attempt.holdsRetrySlot { self.activeRetries -= 1 }
    }

    /// What an answer says about the replica, and whether another replica might do better.
    struct Verdict: Equatable {
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

    /// Reads are safe to send twice; so is a write that carries an idempotency key.
    public static func isRetrySafe(_ request: Request, kind: VerbKind) -> Bool {
        request.metadata.idempotencyKey != nil || kind != .write
    }

    /// A new W3C `traceparent` (version 00, sampled), for a request that brought none, so the
    /// gateway's and the service's logs (and the audit trail) share it: `00-` 32 hex digits of
    /// trace id `-` 16 of span id `-01`, neither id all zeros.
    ///
    /// Written here, not by W3CTraceContext's `traceParentHeaderValue`, which formats through
    /// string interpolation, a tenth of the gateway's instructions a forward; nor through nested
    /// closures, which cost four times what this does (docs/performance.md).
    /// ConcordPoolTests parses it back with W3CTraceContext.
    static func newTraceParent(using generator: inout some RandomNumberGenerator) -> String {
        let traceHigh: UInt64 = generator.next()
        var traceLow: UInt64 = generator.next()
        var span: UInt64 = generator.next()
        if traceHigh == 0, traceLow == 0 { traceLow = 1 }
        if span == 0 { span = 1 }
        return String(unsafeUninitializedCapacity: 55) { text in
            let out = text.baseAddress!
            out[0] = UInt8(ascii: "0"); out[1] = UInt8(ascii: "0"); out[2] = UInt8(ascii: "-")
            Self.hex(traceHigh, into: out + 3)
            Self.hex(traceLow, into: out + 19)
            out[35] = UInt8(ascii: "-")
            Self.hex(span, into: out + 36)
            out[52] = UInt8(ascii: "-"); out[53] = UInt8(ascii: "0"); out[54] = UInt8(ascii: "1")
            return 55
        }
    }

    /// `value` as 16 lower-case hex digits, most significant first.
    @inline(__always)
    private static func hex(_ value: UInt64, into out: UnsafeMutablePointer<UInt8>) {
        for index in 0..<16 {
            let nibble = UInt8(truncatingIfNeeded: value &>> UInt64(60 - 4 * index)) & 0xF
            // '0' + n below ten, 'a' + (n - 10) from ten: 0x57 is 'a' - 10.
            out[index] = nibble < 10 ? 0x30 &+ nibble : 0x57 &+ nibble
        }
    }

    // MARK: Replicas

    /// A replica for a call outside forwarding (a health check, the verbs lookup); it counts as
    /// outstanding until `checkedIn`.
    private mutating func pickForLookup(excluding tried: Set<Endpoint>, now: ContinuousClock.Instant) -> Endpoint? {
        guard !self.isClosed else { return nil }
        return self.replicas.pick(excluding: tried, now: now, using: &self.generator)
    }

    /// A call from `pickForLookup` has ended.
    private mutating func checkedIn(_ endpoint: Endpoint, success: Bool, now: ContinuousClock.Instant) -> [ReplicaSet<Endpoint>.Event] {
        self.replicas.finished(endpoint, success: success, now: now)
    }

    /// The replicas health checks ask: every one not draining.
    public var checkTargets: [Endpoint] { self.replicas.replicas.filter { !$0.isDraining }.map(\.address) }

    public mutating func checked(_ endpoint: Endpoint, healthy: Bool, now: ContinuousClock.Instant) -> [ReplicaSet<Endpoint>.Event] {
        self.replicas.checked(endpoint, healthy: healthy, now: now)
    }

    public mutating func expireEjections(now: ContinuousClock.Instant) -> [ReplicaSet<Endpoint>.Event] {
        self.replicas.expireEjections(now: now)
    }

    /// The addresses names resolve to now: new ones join, vanished ones drain. A drained
    /// replica's verbs are forgotten with it.
    public mutating func update(addresses: [Endpoint]) -> (added: [Endpoint], events: [ReplicaSet<Endpoint>.Event]) {
        let update = self.replicas.update(addresses: addresses)
        for case .removed(let endpoint) in update.events { self.verbs.forget(endpoint) }
        return update
    }

    /// Takes no more requests.
    public mutating func close() { self.isClosed = true }

    // MARK: Verbs

    /// The kind the service declared for `verb`; a verb it has not declared counts as a write
    /// (the safe side: it needs a writer's role and is not repeated without an idempotency key).
    public mutating func kind(of verb: String) -> VerbKind { self.verbs.kind(of: verb) }

    /// What to do for a caller that needs the service's verbs.
    public enum VerbsNeeded: Sendable, Equatable {
        /// They are known, or no replica is there to ask: go on.
        case proceed
        /// A lookup is under way: wait for it.
        case wait
        /// Wait, and ask this replica for them (the first of the lookup).
        case ask(Endpoint)
    }

    /// A caller needs the service's verbs (the first requests after a start, before a health
    /// check has learned them). Concurrent callers share one lookup.
    public mutating func needVerbs(now: ContinuousClock.Instant) -> VerbsNeeded {
        if self.verbs.learned { return .proceed }
        if self.verbs.lookup != nil { return .wait }
        guard let endpoint = self.pickForLookup(excluding: [], now: now) else { return .proceed }
        self.verbs.lookup = [endpoint]
        return .ask(endpoint)
    }

    /// What a lookup does after one replica's answer.
    public enum LookupNext: Sendable, Equatable {
        /// The lookup is over (learned, or no replica is left to ask): resume every waiter.
        case done
        /// Ask this replica next.
        case ask(Endpoint)
    }

    /// `endpoint` answered `verbs` with `catalogue` (nil: it did not answer), to the lookup
    /// (`forLookup`) or to a health check. Returns whether the verbs changed (worth a log line)
    /// and, for the lookup, what it does next.
    public mutating func verbsAnswered(
        by endpoint: Endpoint, _ catalogue: [String: VerbKind]?, forLookup: Bool, now: ContinuousClock.Instant
    ) -> (changed: Bool, next: LookupNext?, events: [ReplicaSet<Endpoint>.Event]) {
        var changed = false
        if let catalogue { changed = self.verbs.set(catalogue, from: endpoint) }
        guard forLookup, var tried = self.verbs.lookup else { return (changed, nil, []) }
        let events = self.checkedIn(endpoint, success: catalogue != nil, now: now)
        if self.verbs.learned {
            self.verbs.lookup = nil
            return (changed, .done, events)
        }
        guard let next = self.pickForLookup(excluding: tried, now: now) else {
            self.verbs.lookup = nil
            return (changed, .done, events)
        }
        tried.insert(next)
        self.verbs.lookup = tried
        return (changed, .ask(next), events)
    }

    /// What the service says each of its verbs is, merged over its replicas.
    public struct VerbsLearned: Sendable {
        var byReplica: [Endpoint: [String: VerbKind]] = [:]
        /// Every replica's verbs; where replicas disagree (a rolling upgrade), write wins.
        public private(set) var merged: [String: VerbKind] = [:]
        /// The replicas asked so far by the one lookup under way.
        var lookup: Set<Endpoint>?
        public var learned: Bool { !self.byReplica.isEmpty }
        /// The verb looked up last, with its kind: callers mostly repeat one verb, which is then
        /// compared (the same string, as a connection's reader keeps it) rather than hashed.
        /// Forgotten whenever `merged` changes.
        private var last: (verb: String, kind: VerbKind)?

        mutating func kind(of verb: String) -> VerbKind {
            if let last = self.last, last.verb == verb { return last.kind }
            let kind = self.merged[verb] ?? .write
            self.last = (verb, kind)
            return kind
        }

        /// Whether anything changed.
        mutating func set(_ verbs: [String: VerbKind], from endpoint: Endpoint) -> Bool {
            guard self.byReplica[endpoint] != verbs else { return false }
            self.byReplica[endpoint] = verbs
            self.merge()
            return true
        }

        mutating func forget(_ endpoint: Endpoint) {
            guard self.byReplica.removeValue(forKey: endpoint) != nil else { return }
            self.merge()
        }

        private mutating func merge() {
            self.last = nil
            self.merged = self.byReplica.values.reduce(into: [:]) { merged, verbs in
                merged.merge(verbs) { first, second in first == .write || second == .write ? .write : first }
            }
        }
    }
}
