import ConcordProtocol
import ConcordTLS
import Logging
import NIOCore
import NIOSSL
import NIOTLS
import X509

/// Serves one connection: parses lines, runs the state machine's decisions, writes replies.
///
/// Replies are written as requests finish, in any order, and batched: everything answered during
/// one read burst, or one event-loop tick, leaves in a single write and flush.
final class ServerConnectionHandler: ChannelDuplexHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private struct Running {
        /// The client's id, for the answer.
        var id: String
        var task: Task<Void, Never>?
        var deadline: NIODeadline
        var budget: Duration
    }

    private var machine: ServerConnectionStateMachine
    private var framer: LineFramer
    private let shared: ServerShared
    private var logger: Logger
    private var context: ChannelHandlerContext?
    private var executor: EventLoopTaskExecutor?
    private var output = ByteBuffer()
    /// By serial, not by the client's id: a number hashes far cheaper than a string, and a serial
    /// tells a request from a later one that reuses its id after it was answered.
    private var running: [UInt64: Running] = [:]
    private var inReadBurst = false
    private var flushScheduled = false
    private var pendingRead = false
    /// After a `rate_limited` answer, the connection is not read from until then: a client that
    /// ignores `retryAfterMs` waits on TCP instead of spending the server's CPU on refusals.
    private var holdReadsUntil: NIODeadline?
    private var holdTimer: Scheduled<Void>?
    private var pumping = false
    private var handshakeTimer: Scheduled<Void>?
    private var slowReaderTimer: Scheduled<Void>?
    private var ticker: RepeatedTask?
    private var lingerTimer: Scheduled<Void>?
    private var deadlineTimer = EarliestDeadlineTimer()
    private var nextSerial: UInt64 = 0
    /// The peer's certificate identity, read once when the handshake completes.
    private var peer: PeerIdentity?
    /// What the peer policy lets this peer call.
    private var access: PeerPolicy.Access
    /// How long a closing connection waits for the peer to close first.
    static let linger: TimeAmount = .seconds(1)

    init(shared: ServerShared, logger: Logger) {
        self.shared = shared
        self.logger = logger
        self.machine = ServerConnectionStateMachine(limits: shared.configuration.limits, now: .now())
        self.framer = LineFramer(maxLineLength: shared.configuration.limits.maxLineLength)
        self.access = shared.configuration.peerPolicy.access(for: nil)
    }

    // MARK: Lifecycle

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        self.executor = EventLoopTaskExecutor(eventLoop: context.eventLoop)
        self.output = context.channel.allocator.buffer(capacity: 512)
        if let remote = context.channel.remoteAddress {
            self.logger[metadataKey: LogKey.peer] = "\(remote)"
        }
        if context.channel.isActive {
            self.startTimers(context: context)
        }
    }

    func channelActive(context: ChannelHandlerContext) {
        self.startTimers(context: context)
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        self.machine.closed()
        self.handshakeTimer?.cancel()
        self.slowReaderTimer?.cancel()
        self.ticker?.cancel()
        self.lingerTimer?.cancel()
        self.holdTimer?.cancel()
        self.deadlineTimer.cancel()
        for (_, running) in self.running {
            running.task?.cancel()
        }
        self.running.removeAll()
        context.fireChannelInactive()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.context = nil
    }

    private func startTimers(context: ChannelHandlerContext) {
        guard self.handshakeTimer == nil else { return }
        let limits = self.shared.configuration.limits
        let handler = NIOLoopBound(self, eventLoop: context.eventLoop)
        self.handshakeTimer = context.eventLoop.scheduleTask(in: TimeAmount(limits.handshakeTimeout)) {
            let this = handler.value
            if this.machine.handshakeTimedOut() {
                this.logger.debug("TLS handshake timed out")
                this.context?.close(mode: .all, promise: nil)
            }
        }
        let period = TimeAmount(min(limits.pingInterval, limits.idleTimeout))
        self.ticker = context.eventLoop.scheduleRepeatedTask(initialDelay: period, delay: period) { _ in
            handler.value.tick()
        }
    }

    // MARK: Inbound

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if case .handshakeCompleted(let negotiated) = event as? TLSUserEvent {
            self.handshakeTimer?.cancel()
            let refusal = self.identifyPeer(context: context)
            switch self.machine.handshakeCompleted(negotiatedProtocol: negotiated, peerRefusal: refusal) {
            case .sendHello:
                LineCodec.write(ServerEvent(name: .hello, body: self.shared.helloBody), into: &self.output)
                self.flushOutput()
            case .refuse(let error):
                self.logger.info("connection refused", metadata: [LogKey.error: "\(error)"])
                self.sayByeAndClose(error: error)
            case .none:
                break
            }
        } else if event is ConnectionDrainEvent {
            if self.machine.drain() == .closeNow {
                self.sayByeAndClose(reason: "server shutting down")
            }
        }
        context.fireUserInboundEventTriggered(event)
    }

    /// Reads the peer's identity from its verified certificate (once per connection: parsing a
    /// certificate costs more than a request) and decides what it may call. Returns why the
    /// connection is refused when the certificate is on the revocation list.
    private func identifyPeer(context: ChannelHandlerContext) -> ConcordError? {
        guard let certificate = try? context.pipeline.syncOperations.handler(type: NIOSSLServerHandler.self).peerCertificate,
              let parsed = try? Certificate(derEncoded: certificate.toDERBytes())
        else {
            self.access = self.shared.configuration.peerPolicy.access(for: nil)
            return nil
        }
        self.peer = PeerIdentity(certificate: parsed)
        self.access = self.shared.configuration.peerPolicy.access(for: self.peer)
        if let peer = self.peer {
            self.logger[metadataKey: LogKey.identity] = "\(peer)"
        }
        let serial = ReloadingTLSContext.serial(of: parsed)
        guard self.shared.tls.isRevoked(serial: serial) else { return nil }
        self.access = .builtins
        return ConcordError(
            .unauthorized,
            "the certificate \(self.peer?.uri ?? "presented") (serial \(serial)) is revoked; use the one `concord certs rotate` issued in its place"
        )
    }

    /// The refusal for a verb this peer's identity may not call, logged with the identity.
    private func refusal(for request: Request, kind: VerbKind) -> ConcordError? {
        guard !self.access.permits(kind) else { return nil }
        let who = self.peer?.uri ?? "a peer without a Concord identity"
        let may = self.access == .read ? "read verbs and the protocol's built-ins" : "only the protocol's built-ins (ping, health, ready, hello, verbs)"
        self.logger.notice("refused by peer policy", metadata: [
            LogKey.verb: "\(request.verb)", LogKey.requestID: "\(request.id)", LogKey.needs: "\(kind)",
        ])
        return ConcordError(
            .forbidden,
            "\(who) may call \(may) on \(self.shared.configuration.serviceName); '\(request.verb)' is a \(kind). Call it through the gateway with a token",
            field: "verb"
        )
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        self.inReadBurst = true
        self.framer.append(self.unwrapInboundIn(data))
        // One clock reading per read: idle and keepalive need no finer time than that.
        let now = NIODeadline.now()
        while let frame = self.framer.next() {
            self.received(frame, now: now, context: context)
        }
    }

    private func received(_ frame: LineFrame, now: NIODeadline, context: ChannelHandlerContext) {
        switch frame {
        case .line(let line):
            let parsed = LineCodec.parseClientLine(line)
            var route: Router.Route?
            var inlineHandler: (@Sendable (Request) -> Response.Outcome)?
            if case .request(let request) = parsed {
                route = self.shared.router.route(for: request.verb)
                if case .inline(let handler) = route { inlineHandler = handler }
            }
            switch self.machine.lineReceived(parsed, now: now, isInline: inlineHandler != nil) {
            case .answerInline(let request):
                guard let inlineHandler else { return }
                LineCodec.write(Response(id: request.id, outcome: inlineHandler(request)), into: &self.output)
            case .dispatch(let request):
                self.start(request, route: route)
            case .reply(let response):
                LineCodec.write(response, into: &self.output)
            case .queued, .none:
                break
            }
        case .oversized(let prefix):
            guard self.machine.oversizedLine() else { return }
            let limit = self.shared.configuration.limits.maxLineLength
            let error = ConcordError(.tooLarge, "line longer than \(limit) bytes; the connection is closed")
            self.logger.info("oversized line", metadata: [LogKey.code: "\(error.code)"])
            LineCodec.write(.error(LineCodec.leadingID(prefix) ?? unsolicitedID, error), into: &self.output)
            self.flushOutput()
            self.closeAfterLinger()
        }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        self.inReadBurst = false
        self.flushOutput()
        context.fireChannelReadComplete()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        // TLS failures from plaintext or unauthenticated peers land here; one peer's error never
        // concerns other connections.
        self.logger.debug("connection error", metadata: [LogKey.error: "\(error)"])
        context.close(promise: nil)
    }

    // MARK: Outbound flow control

    func read(context: ChannelHandlerContext) {
        if self.machine.wantsToRead, context.channel.isWritable, !self.isHoldingReads {
            context.read()
        } else {
            self.pendingRead = true
        }
    }

    private var isHoldingReads: Bool {
        guard let until = self.holdReadsUntil else { return false }
        if until > .now() { return true }
        self.holdReadsUntil = nil
        return false
    }

    /// Holds reads for the retry time of a `rate_limited` answer: at least 25 ms (what is
    /// already read is still answered, so a client pipelining refused requests gets a few of
    /// them back each hold; with 1 ms holds a flood of refusals still took a core), at most 100.
    private func holdReads(forMilliseconds milliseconds: Int64) {
        guard let context = self.context else { return }
        let until = NIODeadline.now() + .milliseconds(min(100, max(25, milliseconds)))
        guard self.holdReadsUntil.map({ $0 < until }) ?? true else { return }
        self.holdReadsUntil = until
        self.holdTimer?.cancel()
        let this = NIOLoopBound(self, eventLoop: context.eventLoop)
        self.holdTimer = context.eventLoop.scheduleTask(deadline: until) {
            this.value.holdTimer = nil
            this.value.resumeReadingIfWanted()
        }
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if context.channel.isWritable {
            self.slowReaderTimer?.cancel()
            self.slowReaderTimer = nil
            self.startQueued()
            if self.machine.drainFinished() {
                self.sayByeAndClose(reason: "server shutting down")
            }
            self.resumeReadingIfWanted()
        } else if self.slowReaderTimer == nil {
            let handler = NIOLoopBound(self, eventLoop: context.eventLoop)
            let timeout = self.shared.configuration.limits.slowReaderTimeout
            self.slowReaderTimer = context.eventLoop.scheduleTask(in: TimeAmount(timeout)) {
                let this = handler.value
                guard let context = this.context, !context.channel.isWritable else { return }
                this.logger.info("disconnecting a peer that does not read its replies")
                // Nothing more is answered or started for this peer, whatever TLS shutdown takes.
                this.machine.closed()
                context.close(promise: nil)
            }
        }
        context.fireChannelWritabilityChanged()
    }

    private func resumeReadingIfWanted() {
        guard self.pendingRead, self.machine.wantsToRead, !self.isHoldingReads, let context = self.context, context.channel.isWritable else { return }
        self.pendingRead = false
        context.read()
    }

    // MARK: Requests

    private func start(_ request: Request) {
        self.start(request, route: self.shared.router.route(for: request.verb))
    }

    private func start(_ request: Request, route: Router.Route?) {
        guard let context = self.context else { return }
        if let route, let refusal = self.refusal(for: request, kind: route.kind) {
            return self.finish(request.id, .error(refusal))
        }
        switch route {
        case nil:
            self.finish(request.id, .error(ConcordError(.notFound, "unknown verb '\(request.verb)'", field: "verb")))
        case .inline(let handler):
            self.finish(request.id, handler(request))
        case .async(let handler, _):
            let requestContext = self.requestContext(for: request, context: context)
            let this = NIOLoopBound(self, eventLoop: context.eventLoop)
            let serial = self.register(request.id, requestContext)
            let task = Self.spawn(handler, request, requestContext, serial: serial, on: self.executor, reportingTo: this)
            // The task may already have finished inline; only keep handles for one still running.
            if self.running[serial] != nil {
                self.running[serial]?.task = task
                self.coverDeadline(requestContext.deadline)
            }
        case .answering(let handler, _):
            let requestContext = self.requestContext(for: request, context: context)
            let this = NIOLoopBound(self, eventLoop: context.eventLoop)
            let eventLoop = context.eventLoop
            let serial = self.register(request.id, requestContext)
            handler(request, requestContext) { result in
                let outcome: Response.Outcome
                switch result {
                case .success(let body): outcome = .ok(body)
                case .failure(let error): outcome = .error(error)
                }
                if eventLoop.inEventLoop {
                    this.value.finishRunning(serial: serial, outcome)
                } else {
                    eventLoop.execute { this.value.finishRunning(serial: serial, outcome) }
                }
            }
            if self.running[serial] != nil {
                self.coverDeadline(requestContext.deadline)
            }
        }
    }

    private func register(_ id: String, _ context: RequestContext) -> UInt64 {
        self.nextSerial &+= 1
        self.running[self.nextSerial] = Running(id: id, deadline: context.deadline, budget: context.budget)
        return self.nextSerial
    }

    private func requestContext(for request: Request, context: ChannelHandlerContext) -> RequestContext {
        let limits = self.shared.configuration.limits
        let budget = request.metadata.deadline.map { min($0, limits.maxDeadline) } ?? limits.maxDeadline
        return RequestContext(
            requestID: request.id,
            verb: request.verb,
            metadata: request.metadata,
            deadline: NIODeadline.now() + TimeAmount(budget),
            budget: budget,
            connectionLogger: self.logger,
            eventLoop: context.eventLoop,
            allocator: context.channel.allocator,
            peer: self.peer
        )
    }

    private func coverDeadline(_ deadline: NIODeadline) {
        guard !self.deadlineTimer.covers(deadline), let eventLoop = self.context?.eventLoop else { return }
        let this = NIOLoopBound(self, eventLoop: eventLoop)
        self.deadlineTimer.cover(deadline, on: eventLoop) { this.value.expireOverdue() }
    }

    /// Starts queued requests while there is room in flight and the peer reads its replies: a
    /// peer that stops reading gets no new work done for it, so its replies cannot pile up.
    private func startQueued() {
        guard !self.pumping, let context = self.context else { return }
        self.pumping = true
        while context.channel.isWritable, let next = self.machine.nextQueued() {
            self.start(next)
        }
        self.pumping = false
    }

    private static func spawn(
        _ handler: @escaping Router.RawHandler,
        _ request: Request,
        _ context: RequestContext,
        serial: UInt64,
        on executor: EventLoopTaskExecutor?,
        reportingTo this: NIOLoopBound<ServerConnectionHandler>
    ) -> Task<Void, Never> {
        Task(executorPreference: executor) {
            let outcome = await Self.run(handler, request, context)
            let eventLoop = context.eventLoop
            if eventLoop.inEventLoop {
                this.value.finishRunning(serial: serial, outcome)
            } else {
                eventLoop.execute { this.value.finishRunning(serial: serial, outcome) }
            }
        }
    }

    private static func run(_ handler: Router.RawHandler, _ request: Request, _ context: RequestContext) async -> Response.Outcome {
        do {
            return .ok(try await handler(request, context))
        } catch {
            return Self.outcome(of: error, request: request, context: context)
        }
    }

    /// The answer for a handler's error: its own if it is a ``ConcordError``, else `internal`
    /// (logged here, never shown to the peer).
    private static func outcome(of error: any Error, request: Request, context: RequestContext) -> Response.Outcome {
        switch error {
        case let error as ConcordError:
            return .error(error)
        case is CancellationError:
            return .error(ConcordError(.unavailable, "request cancelled"))
        default:
            context.logger.error("handler failed", metadata: [LogKey.error: "\(error)"])
            return .error(ConcordError(.internal, "internal error while handling '\(request.verb)'; the server log has details"))
        }
    }

    private func finishRunning(serial: UInt64, _ outcome: Response.Outcome) {
        // Absent when the deadline already answered it or the connection is gone.
        guard let running = self.running.removeValue(forKey: serial) else { return }
        self.finish(running.id, outcome)
    }

    /// Answers every request past its deadline with `deadline_exceeded` (cancelling its task),
    /// then covers the earliest deadline still pending.
    private func expireOverdue() {
        self.deadlineTimer.fired()
        let (overdue, earliest) = EarliestDeadlineTimer.partition(self.running, now: .now(), deadline: \.deadline)
        for serial in overdue {
            guard let running = self.running.removeValue(forKey: serial) else { continue }
            running.task?.cancel()
            self.finish(running.id, .error(ConcordError(.deadlineExceeded, "no answer within \(running.budget.wholeMilliseconds) ms")))
        }
        if let earliest {
            self.coverDeadline(earliest)
        }
    }

    private func finish(_ id: String, _ outcome: Response.Outcome) {
        guard self.context != nil, self.machine.answersRequests else { return }
        if case .error(let error) = outcome, error.code == .rateLimited {
            self.holdReads(forMilliseconds: error.retryAfterMs ?? 1)
        }
        LineCodec.write(Response(id: id, outcome: outcome), into: &self.output)
        self.scheduleFlush()
        self.machine.requestCompleted(id: id, now: .now())
        self.startQueued()
        if self.machine.drainFinished() {
            self.sayByeAndClose(reason: "server shutting down")
        } else {
            self.resumeReadingIfWanted()
        }
    }

    // MARK: Writing

    private func scheduleFlush() {
        guard !self.inReadBurst, !self.flushScheduled, let context = self.context else { return }
        self.flushScheduled = true
        let this = NIOLoopBound(self, eventLoop: context.eventLoop)
        context.eventLoop.execute { this.value.flushOutput() }
    }

    private func flushOutput() {
        self.flushScheduled = false
        guard self.output.readableBytes > 0, let context = self.context else { return }
        let bytes = self.output
        self.output = context.channel.allocator.buffer(capacity: 512)
        context.writeAndFlush(self.wrapOutboundOut(bytes), promise: nil)
    }

    private func tick() {
        switch self.machine.tick(now: .now()) {
        case .none:
            break
        case .sendPing:
            LineCodec.write(ServerEvent(name: .ping, body: Request.emptyBody), into: &self.output)
            self.flushOutput()
        case .close(let reason):
            self.logger.debug("closing connection", metadata: [LogKey.reason: "\(reason)"])
            self.sayByeAndClose(reason: reason)
        }
    }

    private func sayByeAndClose(reason: String) {
        var body = ByteBuffer(string: "{\"reason\":")
        JSONString.write(reason, into: &body)
        body.writeString("}")
        LineCodec.write(ServerEvent(name: .bye, body: body), into: &self.output)
        self.flushOutput()
        self.closeAfterLinger()
    }

    private func sayByeAndClose(error: ConcordError) {
        LineCodec.write(.error(unsolicitedID, error), into: &self.output)
        self.flushOutput()
        self.closeAfterLinger()
    }

    /// Keeps reading (and discarding) until the peer closes, or closes after ``linger``.
    private func closeAfterLinger() {
        guard self.lingerTimer == nil, let context = self.context else { return }
        let this = NIOLoopBound(self, eventLoop: context.eventLoop)
        self.lingerTimer = context.eventLoop.scheduleTask(in: Self.linger) {
            this.value.context?.close(promise: nil)
        }
        self.resumeReadingIfWanted()
    }
}
