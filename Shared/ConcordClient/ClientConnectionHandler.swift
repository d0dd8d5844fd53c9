import ConcordProtocol
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOTLS
import Synchronization

/// Where a call's answer goes: a promise (``ConcordClient/sendFuture(_:)``), a callback
/// (``ConcordClient/send(_:relay:completion:)``, which spares a future per call) or an object
/// that takes it (``ConcordClient/send(_:relay:to:)``, which spares the callback's closure too).
/// Completed once.
enum CallCompletion: Sendable {
    case promise(EventLoopPromise<Response>)
    case callback(@Sendable (Result<Response, ConcordError>) -> Void)
    case receiver(any CallReceiver)

    func succeed(_ response: Response) {
        switch self {
        case .promise(let promise): promise.succeed(response)
        case .callback(let callback): callback(.success(response))
        case .receiver(let receiver): receiver.received(.success(response))
        }
    }

    func fail(_ error: ConcordError) {
        switch self {
        case .promise(let promise): promise.fail(error)
        case .callback(let callback): callback(.failure(error))
        case .receiver(let receiver): receiver.received(.failure(error))
        }
    }
}

/// What takes a call's answer in place of a callback (``ConcordClient/send(_:relay:to:)``): an
/// object that already exists for the call, such as a proxy's request on its way, spares the
/// closure a callback would allocate per call. `received` is called once, as a callback is.
public protocol CallReceiver: AnyObject, Sendable {
    func received(_ result: Result<Response, ConcordError>)
}

/// A request on its way out, with where its answer goes. It fails only with a ``ConcordError``.
///
/// One reference to immutable storage: the pipeline carries it in a `NIOAny` without a box and
/// copies it without retaining a request's six reference-counted fields at every step. (A class
/// itself would cost a protocol-conformance lookup in each `NIOAny` cast.)
struct OutboundCall: Sendable {
    private final class Storage: Sendable {
        let request: Request
        let relay: Metadata.Relay?
        let deadline: NIODeadline
        let completion: CallCompletion
        let client: ConcordClient
        let attempt: Int
        let stream: StreamCall?

        init(
            request: Request, relay: Metadata.Relay?, deadline: NIODeadline, completion: CallCompletion, client: ConcordClient, attempt: Int,
            stream: StreamCall?
        ) {
            self.request = request
            self.relay = relay
            self.deadline = deadline
            self.completion = completion
            self.client = client
            self.attempt = attempt
            self.stream = stream
        }
    }

    private let storage: Storage

    init(
        request: Request, relay: Metadata.Relay? = nil, deadline: NIODeadline, completion: CallCompletion, client: ConcordClient, attempt: Int = 1,
        stream: StreamCall? = nil
    ) {
        self.storage = Storage(
            request: request, relay: relay, deadline: deadline, completion: completion, client: client, attempt: attempt, stream: stream
        )
    }

    var request: Request {
        _read { yield self.storage.request }
    }
    /// The envelope a proxy passes the request on with (see `Metadata.Relay`).
    var relay: Metadata.Relay? { self.storage.relay }
    var deadline: NIODeadline { self.storage.deadline }
    var completion: CallCompletion { self.storage.completion }
    /// Where a call goes when it meets a retired connection before being written: it never
    /// reached the server, so the client sends it once more on a fresh connection.
    var client: ConcordClient { self.storage.client }
    var attempt: Int { self.storage.attempt }
    /// Set for a streaming call: where its items go, and how to cancel it.
    var stream: StreamCall? { self.storage.stream }

    /// The same call, to be sent once more.
    func again() -> OutboundCall {
        OutboundCall(
            request: self.request, relay: self.relay, deadline: self.deadline, completion: self.completion, client: self.client,
            attempt: self.attempt + 1, stream: self.stream
        )
    }
}

/// Set once a connection must take no new calls (bye received, closing). Read for every call,
/// from any thread, so an atomic rather than a lock.
final class RetiredFlag: Sendable {
    private let value: Synchronization.Atomic<Bool>

    init(_ isSet: Bool = false) {
        self.value = Atomic(isSet)
    }

    var isSet: Bool { self.value.load(ordering: .acquiring) }

    func set() {
        self.value.store(true, ordering: .releasing)
    }
}

/// Multiplexes calls over one connection: gives each a wire id, matches replies by id whatever
/// their order, fails a call at its deadline, and fails every pending call when the connection
/// ends. Every decision is its `ClientConnectionState`'s; the handler frames and writes lines,
/// completes calls, moves the one deadline timer and closes, as the machine says.
final class ClientConnectionHandler: ChannelDuplexHandler, LoopFlushes.Flushing {
    typealias InboundIn = ByteBuffer
    typealias OutboundIn = OutboundCall
    typealias OutboundOut = ByteBuffer

    /// What the machine keeps of a call: where its answer goes, and its items.
    struct Call {
        var completion: CallCompletion
        var stream: StreamCall?
    }

    private var machine: ClientConnectionState<Call>
    private var logger: Logger
    /// Lines are split here rather than in a separate decoder handler: one less pipeline hop per read.
    private var framer: LineFramer
    private var output = ByteBuffer()
    private var flushScheduled = false
    /// Its part in the event loop's flushes: calls written while a connection reads leave when
    /// that read ends.
    private let burst = ReadBurst()
    private var context: ChannelHandlerContext?
    private var deadlineTimer: Scheduled<Void>?

    /// Set once the connection must take no new calls (bye received, closing); read by the client
    /// from any thread, so the machine's `isRetired` is mirrored here.
    let retired: RetiredFlag

    init(endpoint: String, maxLineLength: Int, logger: Logger, retired: RetiredFlag) {
        self.machine = ClientConnectionState(endpoint: endpoint)
        self.framer = LineFramer(maxLineLength: maxLineLength)
        self.logger = logger
        self.retired = retired
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        self.burst.join(context.eventLoop)
        self.output = context.channel.allocator.buffer(capacity: 512)
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.burst.end()
        self.context = nil
    }

    // MARK: Outbound

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        self.accept(self.unwrapOutboundIn(data), context: context, promise: promise)
    }

    /// A call from the client on this connection's event loop, handed over without the pipeline:
    /// what a call written and flushed on the channel gets.
    func send(_ call: OutboundCall) {
        guard let context = self.context else { return call.client.resend(call) }
        self.accept(call, context: context, promise: nil)
        self.flush(context: context)
    }

    private func accept(_ call: OutboundCall, context: ChannelHandlerContext, promise: EventLoopPromise<Void>?) {
        let action = self.machine.send(
            Call(completion: call.completion, stream: call.stream), callerID: call.request.id, deadline: call.deadline,
            isActive: context.channel.isActive
        )
        switch action {
        case .handBack:
            // Handed on, not lost: the write itself is done with.
            promise?.succeed()
            call.client.resend(call)
        case .write(let wireID, let armTimer):
            let text = ClientConnectionState<Call>.wireIDText(wireID)
            call.stream?.sent(wireID: text, on: context.channel)
            if let armTimer { self.armTimer(armTimer, on: context.eventLoop) }
            LineCodec.write(call.request, id: text, relay: call.relay, into: &self.output)
            promise?.succeed()
        }
    }

    func flush(context: ChannelHandlerContext) {
        // Coalesce: every call written during a read on this loop (or, outside one, during
        // this event-loop tick) leaves in one flush.
        guard !self.flushScheduled else { return }
        self.flushScheduled = true
        // Busy with more than this call: what other reads this tick write joins it.
        self.burst.flushLater(self, busy: self.machine.outstanding > 1)
    }

    func flushWaiting() {
        self.flushScheduled = false
        guard self.output.readableBytes > 0, let context = self.context else { return }
        context.writeAndFlush(self.wrapOutboundOut(self.output), promise: nil)
        self.output.clearAfterWrite(allocator: context.channel.allocator)
    }

    // MARK: Inbound

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        self.burst.read()
        self.framer.append(self.unwrapInboundIn(data))
        while let frame = self.framer.next() {
            guard case .line(let line) = frame else {
                self.machine.lineTooLong()
                context.close(promise: nil)
                return
            }
            self.received(line, context: context)
        }
    }

    private func received(_ line: ByteBuffer, context: ChannelHandlerContext) {
        let parsed: ServerLine
        do {
            parsed = try LineCodec.parseServerLine(line)
        } catch {
            self.logger.debug("unreadable line from server", metadata: [LogKey.error: "\(error)"])
            return
        }
        switch parsed {
        case .response(var response):
            let error: ConcordError? = if case .error(let error) = response.outcome { error } else { nil }
            guard case .complete(let call, let callerID, let failure) = self.machine.answerReceived(id: response.id, error: error)
            else { return }
            if self.machine.isRetired { self.retired.set() }
            response.id = callerID
            if let failure { response.outcome = .error(failure) }
            call.completion.succeed(response)
        case .item(let id, let body):
            self.machine.itemReceived(id: id)?.stream?.onItem(body)
        case .event(let event):
            switch self.machine.eventReceived(event) {
            case .pong:
                LineCodec.writePong(into: &self.output)
                self.flush(context: context)
            case .retireAndClose:
                self.retired.set()
                context.close(promise: nil)
            case .none:
                break
            }
        }
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if case .handshakeCompleted(let negotiated) = event as? TLSUserEvent, !self.machine.handshakeCompleted(negotiated: negotiated) {
            context.close(promise: nil)
        }
        context.fireUserInboundEventTriggered(event)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        self.machine.failed("\(error)")
        self.retired.set()
        context.close(promise: nil)
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        self.burst.end()
        context.fireChannelReadComplete()
    }

    func channelInactive(context: ChannelHandlerContext) {
        self.burst.end()
        let (failed, error, cancelTimer) = self.machine.closed()
        self.retired.set()
        if cancelTimer {
            self.deadlineTimer?.cancel()
            self.deadlineTimer = nil
        }
        for call in failed {
            call.completion.fail(error)
        }
        context.fireChannelInactive()
    }

    // MARK: The deadline timer

    /// Sets the one timer for every call's deadline to fire at `deadline`, in place of any earlier
    /// setting (the machine asks only for an earlier time than the one set).
    private func armTimer(_ deadline: NIODeadline, on eventLoop: any EventLoop) {
        self.deadlineTimer?.cancel()
        let this = NIOLoopBound(self, eventLoop: eventLoop)
        self.deadlineTimer = eventLoop.scheduleTask(deadline: deadline) { this.value.timerFired() }
    }

    /// Fails every call past its deadline, as the loop's clock says (a test's loop keeps its own
    /// time), and sets the timer again when the machine says.
    private func timerFired() {
        self.deadlineTimer = nil
        guard let eventLoop = self.context?.eventLoop else { return }
        let (expired, error, armTimer) = self.machine.timerFired(now: eventLoop.now)
        for call in expired {
            call.completion.fail(error)
        }
        if let armTimer { self.armTimer(armTimer, on: eventLoop) }
    }
}

/// A streaming call as the client holds it: where its items go, and, once it is on a
/// connection, the wire id and channel a `cancel` must name and go on.
final class StreamCall: Sendable {
    let onItem: @Sendable (ByteBuffer) -> Void
    private let placed = NIOLockedValueBox<(wireID: String, channel: any Channel)?>(nil)

    init(onItem: @escaping @Sendable (ByteBuffer) -> Void) {
        self.onItem = onItem
    }

    func sent(wireID: String, on channel: any Channel) {
        self.placed.withLockedValue { $0 = (wireID, channel) }
    }

    /// Where to send `cancel`, once the call was written.
    var placement: (wireID: String, channel: any Channel)? { self.placed.withLockedValue { $0 } }
}
