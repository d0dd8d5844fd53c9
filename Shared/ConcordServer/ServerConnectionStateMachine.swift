import ConcordProtocol
import NIOCore

/// The life of one server connection, as a pure value: events in, one action out.
///
/// No I/O and no clock of its own: the handler passes `now` in and performs what comes back, so
/// every rule here (in-flight bound, keepalive, idle, drain) is tested without sockets.
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

    private(set) var phase: Phase = .handshaking
    private(set) var inFlight: Set<String> = []
    /// Requests read while the in-flight bound was reached. Bounded by one read's worth of lines,
    /// because reading stops as soon as it is non-empty.
    private(set) var backlog: CircularBuffer<Request> = []
    private(set) var unansweredPings = 0
    private var lastInbound: NIODeadline
    private var lastRequestActivity: NIODeadline
    let limits: ProtocolLimits

    init(limits: ProtocolLimits, now: NIODeadline) {
        self.limits = limits
        self.lastInbound = now
        self.lastRequestActivity = now
    }

    /// Whether the handler should pass `read` on to the socket.
    var wantsToRead: Bool {
        switch self.phase {
        case .handshaking, .open: self.backlog.isEmpty && self.inFlight.count < self.limits.maxInFlight
        case .draining, .closing: true
        case .closed: false
        }
    }

    // MARK: Handshake

    enum HandshakeAction: Equatable {
        case sendHello
        case refuse(ConcordError)
        /// Already closing (drained during the handshake): nothing to say.
        case none
    }

    /// - Parameter peerRefusal: why the peer's certificate is not accepted although TLS verified
    ///   it (it is revoked), or nil.
    mutating func handshakeCompleted(negotiatedProtocol: String?, peerRefusal: ConcordError? = nil) -> HandshakeAction {
        guard self.phase == .handshaking else { return .none }
        guard negotiatedProtocol == ConcordProtocolVersion.alpn else {
            self.phase = .closing
            return .refuse(ConcordError(.badRequest, "ALPN '\(ConcordProtocolVersion.alpn)' is required (openssl s_client -alpn \(ConcordProtocolVersion.alpn))"))
        }
        if let peerRefusal {
            self.phase = .closing
            return .refuse(peerRefusal)
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
        case dispatch(Request)
        /// Answer now, synchronously; nothing to track (built-in verbs without I/O).
        case answerInline(Request)
        /// Answer at once without dispatching (grammar error, duplicate id).
        case reply(Response)
        /// Held in the backlog until a slot frees; reading stops meanwhile.
        case queued
        case none
    }

    /// - Parameter isInline: whether the line's verb is answered synchronously on the loop.
    mutating func lineReceived(_ line: ClientLine, now: NIODeadline, isInline: Bool = false) -> LineAction {
        if self.phase == .closing, case .request(let request) = line {
            return .reply(.error(request.id, ConcordError(.unavailable, "connection is closing; the request was not processed, send it on a new connection", unprocessed: true)))
        }
        guard self.phase == .open || self.phase == .draining else { return .none }
        self.lastInbound = now
        self.unansweredPings = 0
        switch line {
        case .empty, .pong:
            return .none
        case .invalid(let id, let error):
            return .reply(.error(id ?? unsolicitedID, error))
        case .request(let request) where self.phase == .draining:
            return .reply(.error(request.id, ConcordError(.unavailable, "server is shutting down; the request was not processed, send it again on a new connection", unprocessed: true)))
        case .request(let request):
            self.lastRequestActivity = now
            if self.inFlight.contains(request.id) || self.backlog.contains(where: { $0.id == request.id }) {
                return .reply(.error(request.id, ConcordError(.conflict, "request id '\(request.id)' is already in flight on this connection", field: "id")))
            }
            if self.backlog.isEmpty, isInline {
                return .answerInline(request)
            }
            if self.inFlight.count < self.limits.maxInFlight && self.backlog.isEmpty {
                self.inFlight.insert(request.id)
                return .dispatch(request)
            }
            self.backlog.append(request)
            return .queued
        }
    }

    // MARK: Completion

    /// A request finished: answered, failed, or timed out.
    mutating func requestCompleted(id: String, now: NIODeadline) {
        if self.inFlight.remove(id) != nil {
            self.lastRequestActivity = now
        }
    }

    /// The next queued request that now fits under the in-flight bound, if any.
    mutating func nextQueued() -> Request? {
        guard self.inFlight.count < self.limits.maxInFlight, let next = self.backlog.popFirst() else { return nil }
        self.inFlight.insert(next.id)
        return next
    }

    /// True once, when a draining connection has answered everything: say bye and close.
    mutating func drainFinished() -> Bool {
        guard self.phase == .draining, self.inFlight.isEmpty, self.backlog.isEmpty else { return false }
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
        if self.inFlight.isEmpty, self.backlog.isEmpty,
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
            if self.inFlight.isEmpty, self.backlog.isEmpty {
                self.phase = .closing
                return .closeNow
            }
            return .none
        case .draining, .closing, .closed:
            return .none
        }
    }

    /// A line too long to frame: answer it and close. False if already closing.
    mutating func oversizedLine() -> Bool {
        guard self.phase == .open || self.phase == .draining else { return false }
        self.phase = .closing
        return true
    }

    /// Whether replies may still be written.
    var answersRequests: Bool { self.phase == .open || self.phase == .draining }

    mutating func closed() {
        self.phase = .closed
        self.backlog.removeAll()
    }
}
