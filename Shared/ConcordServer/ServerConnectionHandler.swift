import ConcordMetrics
import ConcordProtocol
import ConcordTLS
import Logging
import NIOCore
import NIOSSL
import NIOTLS
import X509

/// Serves one connection: frames lines, performs the state machine's decisions (runs handlers,
/// writes replies, arms timers), and decides nothing itself.
///
/// Replies are written as requests finish, in any order, and batched: everything answered during
/// one read burst of this connection leaves in a single write and flush; an answer that comes of
/// another connection's read leaves when that read ends, or with the loop's tick when this
/// connection has more requests running (`LoopFlushes`).
final class ServerConnectionHandler: ChannelDuplexHandler, LoopFlushes.Flushing {
    typealias InboundIn = ByteBuffer
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private var machine: ServerConnectionStateMachine
    private var framer: LineFramer
    private let shared: ServerShared
    private var logger: Logger
    private var context: ChannelHandlerContext?
    /// The channel's, for answers that come from another thread.
    private let eventLoop: any EventLoop
    private var executor: EventLoopTaskExecutor?
    private var output = ByteBuffer()
    /// The tasks of running async handlers, by the machine's serial: cancelled at their deadline
    /// or when the connection goes.
    private var tasks: [UInt64: Task<Void, Never>] = [:]
    /// Its part in the event loop's flushes: its own read's end flushes what it answered
    /// meanwhile, and its answers that come of another connection's read leave at that one's end.
    private let burst = ReadBurst()
    private var flushScheduled = false
    private var pendingRead = false
    private var holdTimer: Scheduled<Void>?
    private var pumping = false
    private var handshakeTimer: Scheduled<Void>?
    private var slowReaderTimer: Scheduled<Void>?
    private var ticker: RepeatedTask?
    private var lingerTimer: Scheduled<Void>?
    private var deadlineTimer = EarliestDeadlineTimer()
    /// The last verb read and its route: the router never changes, and a connection mostly
    /// repeats one verb, which is then neither checked, copied nor hashed again.
    private var lastVerb: String?
    private var lastRoute: Router.Route?
    /// The last `auth` token read, for the same reason: a caller sends one with every request.
    private var lastAuth: String?
    /// How long a closing connection waits for the peer to close first.
    static let linger: TimeAmount = .seconds(1)
    /// Nil unless the process records metrics: then no label is looked up per answer.
    private let meters: RequestMeters? = PrometheusExposition.isOn ? .shared : nil
    private var handshakeDone = false
    /// The serials of running streams (`watch`): cancelled when the connection drains.
    private var streams: Set<UInt64> = []
    /// The promises and timers of the streams' items the machine has waiting for the peer to
    /// read (see `StreamWriter`), by its waiter number.
    private var itemWaiters: [UInt64: (promise: EventLoopPromise<StreamWriter.Outcome>, timeout: Scheduled<Void>)] = [:]

    init(shared: ServerShared, logger: Logger, eventLoop: any EventLoop) {
        self.shared = shared
        self.eventLoop = eventLoop
        self.logger = logger
        self.machine = ServerConnectionStateMachine(
            limits: shared.configuration.limits, policy: shared.configuration.peerPolicy,
            serviceName: shared.configuration.serviceName, now: .now()
        )
        self.framer = LineFramer(maxLineLength: shared.configuration.limits.maxLineLength)
    }

    // MARK: Lifecycle

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        self.executor = EventLoopTaskExecutor(eventLoop: context.eventLoop)
        self.burst.join(context.eventLoop)
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
        self.burst.end()
        self.machine.closed()
        self.handshakeTimer?.cancel()
        self.slowReaderTimer?.cancel()
        self.ticker?.cancel()
        self.lingerTimer?.cancel()
        self.holdTimer?.cancel()
        self.deadlineTimer.cancel()
        for (_, task) in self.tasks { task.cancel() }
        self.tasks.removeAll()
        // The machine, closed, has none waiting any more: each hears that it never will be read.
        for waiter in Array(self.itemWaiters.keys) { self.tellItemWaiter(waiter, .closed) }
        context.fireChannelInactive()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.burst.end()
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
            self.handshakeDone = true
            self.meters?.handshake(ok: true)
            let (peer, revokedSerial) = self.identifyPeer(context: context)
            if let peer { self.logger[metadataKey: LogKey.identity] = "\(peer)" }
            switch self.machine.handshakeCompleted(negotiatedProtocol: negotiated, peer: peer, revokedSerial: revokedSerial) {
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
            // A stream would run past any drain: each ends now, with what lets its peer resume.
            for serial in self.streams { self.tasks[serial]?.cancel() }
            if self.machine.drain() == .closeNow {
                self.sayByeAndClose(reason: "server shutting down")
            }
        }
        context.fireUserInboundEventTriggered(event)
    }

    /// Reads the peer's identity from its verified certificate (once per connection: parsing a
    /// certificate costs more than a request), and its serial when it is on the revocation list.
    private func identifyPeer(context: ChannelHandlerContext) -> (PeerIdentity?, revokedSerial: String?) {
        guard let certificate = try? context.pipeline.syncOperations.handler(type: NIOSSLServerHandler.self).peerCertificate,
              let parsed = try? Certificate(derEncoded: certificate.toDERBytes())
        else { return (nil, nil) }
        let serial = ReloadingTLSContext.serial(of: parsed)
        return (PeerIdentity(certificate: parsed), self.shared.tls.isRevoked(serial: serial) ? "\(serial)" : nil)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        self.burst.read()
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
            // A request is handed over as the parser builds it, never copied into a line value
            // and out again (`parseClientLine(_:knownVerb:request:)`).
            let other = LineCodec.parseClientLine(line, knownVerb: self.lastVerb, knownAuth: self.lastAuth) { request in
                self.lastAuth = request.metadata.auth
                self.received(request, now: now)
            }
            if let other, case .reply(let response) = self.machine.lineReceived(other, now: now, routing: nil) {
                LineCodec.write(response, into: &self.output)
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

    private func received(_ request: Request, now: NIODeadline) {
        if self.lastVerb != request.verb {
            self.lastVerb = request.verb
            self.lastRoute = self.shared.router.route(for: request.verb)
        }
        let route = self.lastRoute
        switch self.machine.requestReceived(request, now: now, routing: route?.routing) {
        case .answerInline:
            let outcome: Response.Outcome
            switch route {
            case .inline(let handler)?: outcome = handler(request)
            case .cancel?: outcome = self.cancel(request)
            default: return
            }
            self.meters?.record(request.verb, outcome, duration: .zero)
            LineCodec.write(id: request.id, outcome, into: &self.output)
        case .dispatch(let dispatch):
            self.start(request, dispatch, route: route)
        case .reply(let response):
            self.meters?.record(self.shared.router.meterLabel(for: request.verb), response.outcome, duration: .zero)
            LineCodec.write(response, into: &self.output)
        case .refuse(let response, let needs):
            self.meters?.record(self.shared.router.meterLabel(for: request.verb), response.outcome, duration: .zero)
            self.logger.notice("refused by peer policy", metadata: [
                LogKey.verb: "\(request.verb)", LogKey.requestID: "\(response.id)", LogKey.needs: "\(needs)",
            ])
            LineCodec.write(response, into: &self.output)
        case .queued, .none:
            break
        }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        self.flushOutput()
        self.burst.end()
        context.fireChannelReadComplete()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        // TLS failures from plaintext or unauthenticated peers land here; one peer's error never
        // concerns other connections.
        self.logger.debug("connection error", metadata: [LogKey.error: "\(error)"])
        if !self.handshakeDone {
            self.handshakeDone = true
            self.meters?.handshake(ok: false)
        }
        context.close(promise: nil)
    }

    // MARK: Outbound flow control

    func read(context: ChannelHandlerContext) {
        if self.machine.wantsToRead(now: .now()) {
            context.read()
        } else {
            self.pendingRead = true
        }
    }

    /// Resumes reading when the machine's hold on reads (after a `rate_limited` answer) ends.
    private func armHoldTimer(until: NIODeadline) {
        guard let context = self.context else { return }
        self.holdTimer?.cancel()
        let this = NIOLoopBound(self, eventLoop: context.eventLoop)
        self.holdTimer = context.eventLoop.scheduleTask(deadline: until) {
            this.value.holdTimer = nil
            this.value.resumeReadingIfWanted()
        }
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if context.channel.isWritable {
            let released = self.machine.peerReadAgain()
            self.slowReaderTimer?.cancel()
            self.slowReaderTimer = nil
            for waiter in released { self.tellItemWaiter(waiter, .sent) }
            self.startQueued()
            if self.machine.drainFinished() {
                self.sayByeAndClose(reason: "server shutting down")
            }
            self.resumeReadingIfWanted()
        } else if let deadline = self.machine.peerStoppedReading(now: .now()) {
            let handler = NIOLoopBound(self, eventLoop: context.eventLoop)
            self.slowReaderTimer = context.eventLoop.scheduleTask(deadline: deadline) {
                let this = handler.value
                this.slowReaderTimer = nil
                // Closed in the machine: nothing more is answered or started for this peer,
                // whatever TLS shutdown takes.
                guard let context = this.context, this.machine.slowReaderChecked(now: .now()) else { return }
                this.logger.info("disconnecting a peer that does not read its replies")
                context.close(promise: nil)
            }
        }
        context.fireChannelWritabilityChanged()
    }

    private func resumeReadingIfWanted() {
        guard self.pendingRead, self.machine.wantsToRead(now: .now()), let context = self.context else { return }
        self.pendingRead = false
        context.read()
    }

    // MARK: Streams

    /// `cancel {"id": ...}`: cancels the running request with that id on this connection (its
    /// task ends, and a stream gives its final answer). Answers whether there was one.
    private func cancel(_ request: Request) -> Response.Outcome {
        struct Body: Decodable { var id: String }
        guard let id = (try? JSONBody.decode(Body.self, from: request.body))?.id else {
            return .error(ConcordError(
                .badRequest, "cancel needs the id of a request running on this connection: {\"id\": \"...\"}", field: "body.id", rule: .required
            ))
        }
        guard let serial = self.machine.serial(ofRunning: id), let task = self.tasks[serial] else {
            return .error(ConcordError(.notFound, "no request '\(id)' is running on this connection", field: "body.id"))
        }
        task.cancel()
        return .ok(ByteBuffer(string: #"{"cancelled":true}"#))
    }

    /// Writes an item of the stream `serial` (see `StreamWriter`), and says when the peer has
    /// read up to it.
    func pushItem(serial: UInt64, body: ByteBuffer, patience: TimeAmount, promise: EventLoopPromise<StreamWriter.Outcome>) {
        guard let context = self.context else { return promise.succeed(.closed) }
        switch self.machine.itemPushed(serial: serial, patience: patience, now: .now()) {
        case .drop:
            promise.succeed(.closed)
        case .write(let id):
            LineCodec.writeItem(id: id, body: body, into: &self.output)
            self.scheduleFlush()
            promise.succeed(.sent)
        case .writeAndWait(let id, let waiter, let until):
            LineCodec.writeItem(id: id, body: body, into: &self.output)
            self.scheduleFlush()
            let this = NIOLoopBound(self, eventLoop: context.eventLoop)
            let timeout = context.eventLoop.scheduleTask(deadline: until) { () -> Void in
                guard this.value.machine.itemPatienceEnded(waiter) else { return }
                this.value.tellItemWaiter(waiter, .slow)
            }
            self.itemWaiters[waiter] = (promise, timeout)
        }
    }

    /// Tells the stream whose item waited as `waiter` how it went.
    private func tellItemWaiter(_ waiter: UInt64, _ outcome: StreamWriter.Outcome) {
        guard let waiting = self.itemWaiters.removeValue(forKey: waiter) else { return }
        waiting.timeout.cancel()
        waiting.promise.succeed(outcome)
    }

    // MARK: Requests

    /// Runs a request the machine dispatched, on its route.
    private func start(_ request: Request, _ dispatch: ServerConnectionStateMachine.Dispatch, route: Router.Route?) {
        guard let context = self.context else { return }
        let serial = dispatch.serial
        switch route {
        case nil:
            // Routes do not change while a server runs: the machine saw this one when it was read.
            self.finishRunning(serial: serial, .error(ConcordError(.notFound, "unknown verb '\(request.verb)'", field: "verb")))
        case .inline(let handler):
            self.finishRunning(serial: serial, handler(request))
        case .async(let handler, _):
            let requestContext = self.requestContext(for: request, dispatch, context: context)
            let this = NIOLoopBound(self, eventLoop: context.eventLoop)
            let task = Self.spawn(handler, request, requestContext, serial: serial, on: self.executor, reportingTo: this)
            // The task may already have finished inline; only keep handles for one still running.
            if self.machine.running[serial] != nil {
                self.tasks[serial] = task
                self.coverDeadline(dispatch.deadline)
            }
        case .stream(let handler, _):
            let requestContext = self.requestContext(for: request, dispatch, context: context)
            let this = NIOLoopBound(self, eventLoop: context.eventLoop)
            let writer = StreamWriter(serial: serial, connection: this, eventLoop: context.eventLoop)
            let task = Self.spawn({ try await handler($0, $1, writer) }, request, requestContext, serial: serial, on: self.executor, reportingTo: this)
            // No deadline to cover: a stream runs until it is cancelled.
            if self.machine.running[serial] != nil {
                self.tasks[serial] = task
                self.streams.insert(serial)
            }
        case .cancel:
            self.finishRunning(serial: serial, self.cancel(request))
        case .answering(let handler, _):
            let requestContext = self.requestContext(for: request, dispatch, context: context)
            handler(request, requestContext, Router.Answer(connection: self, serial: serial))
            if self.machine.running[serial] != nil {
                self.coverDeadline(dispatch.deadline)
            }
        }
    }

    private func requestContext(
        for request: Request, _ dispatch: ServerConnectionStateMachine.Dispatch, context: ChannelHandlerContext
    ) -> RequestContext {
        RequestContext(
            requestID: request.id,
            verb: request.verb,
            metadata: request.metadata,
            deadline: dispatch.deadline,
            budget: dispatch.budget,
            connectionLogger: self.logger,
            eventLoop: context.eventLoop,
            allocator: context.channel.allocator,
            peer: self.machine.peer
        )
    }

    private func coverDeadline(_ deadline: NIODeadline) {
        guard !self.deadlineTimer.covers(deadline), let eventLoop = self.context?.eventLoop else { return }
        let this = NIOLoopBound(self, eventLoop: eventLoop)
        self.deadlineTimer.cover(deadline, on: eventLoop) { this.value.expireOverdue() }
    }

    /// Starts the queued requests the machine lets run.
    private func startQueued() {
        guard !self.pumping, self.context != nil else { return }
        self.pumping = true
        while let (request, dispatch) = self.machine.nextQueued(now: .now()) {
            self.start(request, dispatch, route: self.shared.router.route(for: request.verb))
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

    /// An answering handler's answer (`Router.Answer`), from any thread.
    func answered(serial: UInt64, _ result: Result<ByteBuffer, ConcordError>) {
        let outcome: Response.Outcome
        switch result {
        case .success(let body): outcome = .ok(body)
        case .failure(let error): outcome = .error(error)
        }
        if self.eventLoop.inEventLoop {
            self.finishRunning(serial: serial, outcome)
        } else {
            self.eventLoop.execute { self.finishRunning(serial: serial, outcome) }
        }
    }

    private func finishRunning(serial: UInt64, _ outcome: Response.Outcome) {
        // Neither table holds a request answered through a `Router.Answer`, as every forward is: not
        // hashed when empty.
        if !self.tasks.isEmpty { self.tasks.removeValue(forKey: serial) }
        if !self.streams.isEmpty { self.streams.remove(serial) }
        let now = NIODeadline.now()
        // Nil when the deadline already answered it or the connection no longer answers.
        guard let answer = self.machine.finished(serial, outcome, now: now) else { return }
        self.meters?.record(self.shared.router.meterLabel(for: answer.verb), outcome, duration: now - answer.started)
        if let until = answer.holdReadsUntil { self.armHoldTimer(until: until) }
        self.write(id: answer.id, outcome)
    }

    /// Answers every request past its deadline with `deadline_exceeded` (cancelling its task),
    /// then covers the earliest deadline still pending.
    private func expireOverdue() {
        self.deadlineTimer.fired()
        let now = NIODeadline.now()
        let (overdue, earliest) = self.machine.expire(now: now)
        for (serial, running) in overdue {
            self.tasks.removeValue(forKey: serial)?.cancel()
            guard self.machine.answersRequests else { continue }
            let outcome = Response.Outcome.error(ConcordError(.deadlineExceeded, "no answer within \(running.budget.wholeMilliseconds) ms"))
            self.meters?.record(self.shared.router.meterLabel(for: running.verb), outcome, duration: now - running.started)
            self.write(id: running.id, outcome)
        }
        if let earliest {
            self.coverDeadline(earliest)
        }
    }

    /// Writes an answer, then starts what was waiting for its slot and says bye if draining is done.
    private func write(id: String, _ outcome: Response.Outcome) {
        guard self.context != nil else { return }
        LineCodec.write(id: id, outcome, into: &self.output)
        self.scheduleFlush()
        self.startQueued()
        if self.machine.drainFinished() {
            self.sayByeAndClose(reason: "server shutting down")
        } else {
            self.resumeReadingIfWanted()
        }
    }

    // MARK: Writing

    private func scheduleFlush() {
        guard !self.burst.isOn, !self.flushScheduled, self.context != nil else { return }
        self.flushScheduled = true
        // Busy with other requests (a pipelining peer): their answers this tick join this one.
        self.burst.flushLater(self, busy: !self.machine.running.isEmpty)
    }

    func flushWaiting() {
        self.flushOutput()
    }

    private func flushOutput() {
        self.flushScheduled = false
        guard self.output.readableBytes > 0, let context = self.context else { return }
        context.writeAndFlush(self.wrapOutboundOut(self.output), promise: nil)
        self.output.clearAfterWrite(allocator: context.channel.allocator)
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
