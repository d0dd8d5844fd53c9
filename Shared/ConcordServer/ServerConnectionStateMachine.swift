import ConcordProtocol
import ConcordTLS
import NIOCore

/// The life of one server connection, as a pure value: events in, one action out.
///
/// It holds every decision the connection makes: the phase, the requests running (by serial,
/// with their deadlines) and the backlog behind the in-flight bound, what the peer's identity
/// may call, which verbs have routes and which are answered inline, the hold on reads after a
/// `rate_limited` answer, a peer that stops reading (closed after a timeout; a stream's items
/// wait for it, with patience), keepalive, idle and drain. No I/O and no clock of its own: the handler
/// passes `now` in and performs what comes back (writes, timers, tasks), so every rule here is
/// tested without sockets (`ServerConnectionStateTests`).
struct ServerConnectionStateMachine {
    enum Phase: Equatable {
        case handshaking
        case open
        /// Shutting down: answer what was read, refuse new requests, then say bye.
        case draining
        /// Said bye or sent a fatal error: read and discard until the peer closes or the linger
        /// timer fires, so unread bytes never turn the close into a reset that eats the last reply.
        case closing
        case closed
    }

    /// A request being worked on: the client's id for its answer, and when it runs out of time.
    struct Running: Equatable {
        var id: String
        var deadline: NIODeadline
        var budget: Duration
        /// For the answer's metrics: what was asked, and when it started.
        var verb: String
        var started: NIODeadline
    }

    /// A request to start (the one the line held, or `nextQueued`'s): the serial its answer
    /// comes back under, and its deadline. The request itself stays with the caller: the action
    /// carries no copy of it.
    struct Dispatch: Equatable {
        /// By serial, not by the client's id: a number hashes far cheaper than a string, and a
        /// serial tells a request from a later one that reuses its id after it was answered.
        var serial: UInt64
        var deadline: NIODeadline
        var budget: Duration
    }

    /// What the router knows of a verb, as the machine needs it.
    struct Routing: Equatable {
        var kind: VerbKind
        /// Answered synchronously on the loop (built-ins without I/O); never tracked.
        var isInline: Bool
        /// Pushes items until the peer cancels it (`watch`): it has no deadline.
        var isStream = false

        static let inline = Routing(kind: .builtin, isInline: true)
    }

    private(set) var phase: Phase = .handshaking
    private(set) var running: [UInt64: Running] = [:]
    /// The client ids of `running`, for the duplicate check.
    private var runningIDs = RunningIDs()
    private var nextSerial: UInt64 = 0
    /// Requests read while the in-flight bound was reached. Bounded by one read's worth of lines,
    /// because reading stops as soon as it is non-empty.
    private(set) var backlog: CircularBuffer<(request: Request, isStream: Bool)> = []
    private(set) var unansweredPings = 0
    private var lastInbound: NIODeadline
    private var lastRequestActivity: NIODeadline
    /// After a `rate_limited` answer, the connection is not read from until then: a client that
    /// ignores `retryAfterMs` waits on TCP instead of spending the server's CPU on refusals.
    private(set) var holdReadsUntil: NIODeadline?
    /// Since when the peer has left written answers unread; nil while it reads them.
    private(set) var unreadSince: NIODeadline?
    /// Streams' items waiting for the peer to read what was written before them (by waiter).
    private(set) var itemWaiters: Set<UInt64> = []
    private var nextWaiter: UInt64 = 0
    /// What the peer's certificate identity may call (decided once, at the handshake).
    private(set) var access: PeerPolicy.Access
    private(set) var peer: PeerIdentity?
    let limits: ProtocolLimits
    /// `limits.maxDeadline` in the milliseconds a request's deadline comes in: a deadline is
    /// worked out in whole milliseconds and `TimeAmount`, not `Duration`, whose arithmetic is
    /// 128-bit (docs/performance.md).
    private let maxDeadlineMilliseconds: Int64
    let policy: PeerPolicy
    let serviceName: String

    init(limits: ProtocolLimits, policy: PeerPolicy = .open, serviceName: String = "test", now: NIODeadline) {
        self.limits = limits
        self.maxDeadlineMilliseconds = limits.maxDeadline.wholeMilliseconds
        self.policy = policy
        self.serviceName = serviceName
        self.access = policy.access(for: nil)
        self.lastInbound = now
        self.lastRequestActivity = now
    }

    /// Requests in flight.
    var inFlight: Int { self.running.count }

    /// Whether the handler should pass `read` on to the socket: not while the peer leaves what
    /// was written unread (its answers would pile up here), nor during a hold. The clock is read
    /// only while a hold is set.
    mutating func wantsToRead(now: @autoclosure () -> NIODeadline) -> Bool {
        guard self.unreadSince == nil else { return false }
        if let until = self.holdReadsUntil {
            guard until <= now() else { return false }
            self.holdReadsUntil = nil
        }
        switch self.phase {
        case .handshaking, .open: return self.backlog.isEmpty && self.running.count < self.limits.maxInFlight
        case .draining, .closing: return true
        case .closed: return false
        }
    }

    // MARK: Handshake

    enum HandshakeAction: Equatable {
        case sendHello
        case refuse(ConcordError)
        /// Already closing (drained during the handshake): nothing to say.
        case none
    }

    /// - Parameters:
    ///   - peer: the identity in the peer's verified certificate, if it has one of this deployment.
    ///   - revokedSerial: the certificate's serial when it is on the revocation list.
    mutating func handshakeCompleted(negotiatedProtocol: String?, peer: PeerIdentity? = nil, revokedSerial: String? = nil) -> HandshakeAction {
        guard self.phase == .handshaking else { return .none }
        guard negotiatedProtocol == ConcordProtocolVersion.alpn else {
            self.phase = .closing
            return .refuse(ConcordError(.badRequest, "ALPN '\(ConcordProtocolVersion.alpn)' is required (openssl s_client -alpn \(ConcordProtocolVersion.alpn))"))
        }
        self.peer = peer
        self.access = self.policy.access(for: peer)
        if let revokedSerial {
            self.access = .builtins
            self.phase = .closing
            return .refuse(ConcordError(
                .unauthorized,
                "the certificate \(peer?.uri ?? "presented") (serial \(revokedSerial)) is revoked; use the one `concord certs rotate` issued in its place"
            ))
        }
        self.phase = .open
        return .sendHello
    }

    /// The handshake timer fired: true when the connection must be dropped.
    mutating func handshakeTimedOut() -> Bool {
        guard self.phase == .handshaking else { return false }
        self.phase = .closed
        return true
    }

    // MARK: Lines

    enum LineAction: Equatable {
        /// Start the line's request.
        case dispatch(Dispatch)
        /// Answer the line's request now, synchronously; nothing to track (built-in verbs
        /// without I/O).
        case answerInline
        /// Answer at once without dispatching (grammar error, duplicate id, unknown verb).
        case reply(Response)
        /// Answer at once: the peer's identity may not call a verb of this kind (worth a log line).
        case refuse(Response, needs: VerbKind)
        /// Held in the backlog until a slot frees; reading stops meanwhile.
        case queued
        case none
    }

    /// - Parameter routing: what the router has for the line's verb (nil: no route).
    mutating func lineReceived(_ line: ClientLine, now: NIODeadline, routing: Routing?) -> LineAction {
        if case .request(let request) = line {
            return self.requestReceived(request, now: now, routing: routing)
        }
        guard self.lineArrived(now: now) else { return .none }
        switch line {
        case .invalid(let id, let error):
            return .reply(.error(id ?? unsolicitedID, error))
        case .empty, .pong, .request:
            return .none
        }
    }

    /// A line that holds a request: `lineReceived`'s rules for it, taking the request as it is
    /// (the handler's path: wrapping it in a `ClientLine` again would copy it).
    mutating func requestReceived(_ request: Request, now: NIODeadline, routing: Routing?) -> LineAction {
        if self.phase == .closing {
            return .reply(.error(request.id, ConcordError(.unavailable, "connection is closing; the request was not processed, send it on a new connection", unprocessed: true)))
        }
        guard self.lineArrived(now: now) else { return .none }
        if self.phase == .draining {
            return .reply(.error(request.id, ConcordError(.unavailable, "server is shutting down; the request was not processed, send it again on a new connection", unprocessed: true)))
        }
        self.lastRequestActivity = now
        // Nothing running and nothing queued is the common case of a pipelined ping: no hashing.
        if !self.runningIDs.isEmpty && self.runningIDs.contains(request.id)
            || !self.backlog.isEmpty && self.backlog.contains(where: { $0.request.id == request.id }) {
            return .reply(.error(request.id, ConcordError(.conflict, "request id '\(request.id)' is already in flight on this connection", field: "id")))
        }
        guard let routing else {
            return .reply(.error(request.id, ConcordError(.notFound, "unknown verb '\(request.verb)'", field: "verb")))
        }
        if let refusal = self.refusal(for: request, kind: routing.kind) {
            return .refuse(.error(request.id, refusal), needs: routing.kind)
        }
        if self.backlog.isEmpty, routing.isInline {
            return .answerInline
        }
        if self.running.count < self.limits.maxInFlight && self.backlog.isEmpty {
            return .dispatch(self.run(request, now: now, isStream: routing.isStream))
        }
        self.backlog.append((request, routing.isStream))
        return .queued
    }

    /// Any line shows the peer is alive. False when the connection no longer reads lines.
    private mutating func lineArrived(now: NIODeadline) -> Bool {
        guard self.phase == .open || self.phase == .draining else { return false }
        self.lastInbound = now
        self.unansweredPings = 0
        return true
    }

    /// Why this peer may not call a verb of `kind`, or nil.
    private func refusal(for request: Request, kind: VerbKind) -> ConcordError? {
        guard !self.access.permits(kind) else { return nil }
        let who = self.peer?.uri ?? "a peer without a Concord identity"
        let may = self.access == .read ? "read verbs and the protocol's built-ins" : "only the protocol's built-ins (ping, health, ready, hello, verbs)"
        return ConcordError(
            .forbidden,
            "\(who) may call \(may) on \(self.serviceName); '\(request.verb)' is a \(kind). Call it through the gateway with a token",
            field: "verb"
        )
    }

    /// Counts `request` as running, with its deadline: what it asked for, at most the limit; a
    /// stream runs until it is cancelled, so it has none.
    private mutating func run(_ request: Request, now: NIODeadline, isStream: Bool) -> Dispatch {
        let milliseconds = min(request.metadata.deadlineMilliseconds ?? .max, self.maxDeadlineMilliseconds)
        let budget = Duration.milliseconds(milliseconds)
        self.nextSerial &+= 1
        let deadline = isStream ? .distantFuture : now + .milliseconds(milliseconds)
        self.running[self.nextSerial] = Running(id: request.id, deadline: deadline, budget: budget, verb: request.verb, started: now)
        self.runningIDs.insert(request.id)
        return Dispatch(serial: self.nextSerial, deadline: deadline, budget: budget)
    }

    // MARK: Completion

    /// What to do with a running request's answer.
    struct Answer: Equatable {
        /// The client's id to answer under.
        var id: String
        /// For the answer's metrics.
        var verb: String
        var started: NIODeadline
        /// A `rate_limited` answer: hold reads until then (a timer resumes them).
        var holdReadsUntil: NIODeadline?
    }

    /// Request `serial` has its outcome. Nil: nothing to write (its deadline already answered it,
    /// or the connection no longer answers).
    mutating func finished(_ serial: UInt64, _ outcome: Response.Outcome, now: NIODeadline) -> Answer? {
        guard let running = self.running.removeValue(forKey: serial) else { return nil }
        self.runningIDs.remove(running.id)
        self.lastRequestActivity = now
        guard self.answersRequests else { return nil }
        var answer = Answer(id: running.id, verb: running.verb, started: running.started)
        if case .error(let error) = outcome, error.code == .rateLimited {
            let retryAfter = error.retryAfterMs ?? 1
            // At least 25 ms (what is already read is still answered, so a client pipelining
            // refused requests gets a few of them back each hold; with 1 ms holds a flood of
            // refusals still took a core), at most 100.
            let until = now + .milliseconds(min(100, max(25, retryAfter)))
            if self.holdReadsUntil.map({ $0 < until }) ?? true {
                self.holdReadsUntil = until
                answer.holdReadsUntil = until
            }
        }
        return answer
    }

    /// The next queued request that now fits under the in-flight bound, if any; none while the
    /// peer leaves what was written unread: no new work is done for it, so its answers cannot
    /// pile up. The clock is read only when a request waits (after every answer, mostly none does).
    mutating func nextQueued(now: @autoclosure () -> NIODeadline) -> (request: Request, dispatch: Dispatch)? {
        guard self.running.count < self.limits.maxInFlight, self.unreadSince == nil, let next = self.backlog.popFirst() else { return nil }
        return (next.request, self.run(next.request, now: now(), isStream: next.isStream))
    }

    /// The serial of the running request with the client's `id` (what `cancel` names).
    func serial(ofRunning id: String) -> UInt64? {
        guard self.runningIDs.contains(id) else { return nil }
        return self.running.first { $0.value.id == id }?.key
    }

    /// Takes out every request past its deadline, to be answered `deadline_exceeded`; returns
    /// them and the earliest deadline still pending (for the timer).
    mutating func expire(now: NIODeadline) -> (overdue: [(serial: UInt64, running: Running)], earliest: NIODeadline?) {
        let (overdue, earliest) = DeadlineCover.partition(self.running, now: now, deadline: \.deadline)
        var expired: [(serial: UInt64, running: Running)] = []
        for serial in overdue.sorted() {
            guard let running = self.running.removeValue(forKey: serial) else { continue }
            self.runningIDs.remove(running.id)
            expired.append((serial, running))
        }
        if !expired.isEmpty { self.lastRequestActivity = now }
        return (expired, earliest)
    }

    /// True once, when a draining connection has answered everything: say bye and close.
    mutating func drainFinished() -> Bool {
        guard self.phase == .draining, self.running.isEmpty, self.backlog.isEmpty else { return false }
        self.phase = .closing
        return true
    }

    // MARK: Timers and shutdown

    enum TickAction: Equatable {
        case none
        case sendPing
        case close(reason: String)
    }

    mutating func tick(now: NIODeadline) -> TickAction {
        guard self.phase == .open else { return .none }
        if self.running.isEmpty, self.backlog.isEmpty,
            now - self.lastRequestActivity >= TimeAmount(self.limits.idleTimeout)
        {
            self.phase = .closing
            return .close(reason: "idle for \(self.limits.idleTimeout.wholeMilliseconds) ms")
        }
        if now - self.lastInbound >= TimeAmount(self.limits.pingInterval) {
            if self.unansweredPings >= self.limits.maxUnansweredPings {
                self.phase = .closing
                return .close(reason: "no answer to \(self.unansweredPings) pings")
            }
            self.unansweredPings += 1
            return .sendPing
        }
        return .none
    }

    enum DrainAction: Equatable {
        case none
        case closeNow
    }

    mutating func drain() -> DrainAction {
        switch self.phase {
        case .handshaking:
            self.phase = .closed
            return .closeNow
        case .open:
            self.phase = .draining
            if self.running.isEmpty, self.backlog.isEmpty {
                self.phase = .closing
                return .closeNow
            }
            return .none
        case .draining, .closing, .closed:
            return .none
        }
    }

    // MARK: A peer that does not read

    /// The peer left written answers unread (the channel stopped being writable): the deadline
    /// to look again by, the first time; nil while already waiting, or once closed.
    mutating func peerStoppedReading(now: NIODeadline) -> NIODeadline? {
        guard self.unreadSince == nil, self.phase != .closed else { return nil }
        self.unreadSince = now
        return now + TimeAmount(self.limits.slowReaderTimeout)
    }

    /// The peer read again (the channel is writable): the streams' items that waited for it,
    /// to be told they are `sent`.
    mutating func peerReadAgain() -> Set<UInt64> {
        self.unreadSince = nil
        guard !self.itemWaiters.isEmpty else { return [] }
        defer { self.itemWaiters.removeAll() }
        return self.itemWaiters
    }

    /// The look-again deadline came: true when the peer has left its answers unread for the
    /// whole `slowReaderTimeout`, and the connection is to close, answering nothing more.
    mutating func slowReaderChecked(now: NIODeadline) -> Bool {
        guard let since = self.unreadSince, now - since >= TimeAmount(self.limits.slowReaderTimeout), self.phase != .closed else {
            return false
        }
        self.closed()
        return true
    }

    // MARK: Stream items

    /// What to do with an item a stream (`watch`) pushes.
    enum ItemAction: Equatable {
        /// Not written: the stream was cancelled or answered, or the connection no longer answers.
        case drop
        /// Write it under the stream's `id`: the peer keeps up.
        case write(id: String)
        /// Write it under `id`; the peer has left what was written before unread, so the stream
        /// waits for it: `sent` when the peer reads again (`peerReadAgain`), `slow` if it has
        /// not by `until` (`itemPatienceEnded`).
        case writeAndWait(id: String, waiter: UInt64, until: NIODeadline)
    }

    /// Stream `serial` pushes an item, willing to wait `patience` for the peer to read.
    mutating func itemPushed(serial: UInt64, patience: TimeAmount, now: @autoclosure () -> NIODeadline) -> ItemAction {
        guard self.answersRequests, let running = self.running[serial] else { return .drop }
        guard self.unreadSince != nil else { return .write(id: running.id) }
        self.nextWaiter &+= 1
        self.itemWaiters.insert(self.nextWaiter)
        return .writeAndWait(id: running.id, waiter: self.nextWaiter, until: now() + patience)
    }

    /// `waiter`'s patience ran out: true when it still waited (its stream hears `slow`); false
    /// when it was already told (the peer read, or the connection closed).
    mutating func itemPatienceEnded(_ waiter: UInt64) -> Bool {
        self.itemWaiters.remove(waiter) != nil
    }

    /// A line too long to frame: answer it and close. False if already closing.
    mutating func oversizedLine() -> Bool {
        guard self.phase == .open || self.phase == .draining else { return false }
        self.phase = .closing
        return true
    }

    /// Whether replies may still be written.
    var answersRequests: Bool { self.phase == .open || self.phase == .draining }

    /// The connection is gone: nothing running is answered, and no stream waits any more.
    mutating func closed() {
        self.phase = .closed
        self.backlog.removeAll()
        self.running.removeAll()
        self.runningIDs.removeAll()
        self.itemWaiters.removeAll()
    }
}
