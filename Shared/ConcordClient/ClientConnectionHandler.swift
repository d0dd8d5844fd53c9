import ConcordProtocol
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOTLS
import Synchronization

/// Where a call's answer goes: a promise (``ConcordClient/sendFuture(_:)``) or a callback
/// (``ConcordClient/send(_:completion:)``, which spares a future per call). Completed once.
enum CallCompletion: Sendable {
    case promise(EventLoopPromise<Response>)
    case callback(@Sendable (Result<Response, ConcordError>) -> Void)

    func succeed(_ response: Response) {
        switch self {
        case .promise(let promise): promise.succeed(response)
        case .callback(let callback): callback(.success(response))
        }
    }

    func fail(_ error: ConcordError) {
        switch self {
        case .promise(let promise): promise.fail(error)
        case .callback(let callback): callback(.failure(error))
        }
    }
}

/// A request on its way out, with where its answer goes. It fails only with a ``ConcordError``.
///
/// One reference to immutable storage: the pipeline carries it in a `NIOAny` without a box and
/// copies it without retaining a request's six reference-counted fields at every step. (A class
/// itself would cost a protocol-conformance lookup in each `NIOAny` cast.)
struct OutboundCall: Sendable {
    private final class Storage: Sendable {
        let request: Request
        let deadline: NIODeadline
        let completion: CallCompletion
        let client: ConcordClient
        let attempt: Int
        let stream: StreamCall?

        init(request: Request, deadline: NIODeadline, completion: CallCompletion, client: ConcordClient, attempt: Int, stream: StreamCall?) {
            self.request = request
            self.deadline = deadline
            self.completion = completion
            self.client = client
            self.attempt = attempt
            self.stream = stream
        }
    }

    private let storage: Storage

    init(request: Request, deadline: NIODeadline, completion: CallCompletion, client: ConcordClient, attempt: Int = 1, stream: StreamCall? = nil) {
        self.storage = Storage(request: request, deadline: deadline, completion: completion, client: client, attempt: attempt, stream: stream)
    }

    var request: Request {
        _read { yield self.storage.request }
    }
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
        OutboundCall(request: self.request, deadline: self.deadline, completion: self.completion, client: self.client, attempt: self.attempt + 1, stream: self.stream)
    }
}

/// Multiplexes calls over one connection: gives each a wire id, matches replies by id whatever
/// their order, fails a call at its deadline, and fails every pending call when the connection ends.
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

final class ClientConnectionHandler: ChannelDuplexHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundIn = OutboundCall
    typealias OutboundOut = ByteBuffer

    private struct Pending {
        var completion: CallCompletion
        var deadline: NIODeadline
        var callerID: String
        var stream: StreamCall?
    }

    private let endpoint: String
    private var logger: Logger
    /// Lines are split here rather than in a separate decoder handler: one less pipeline hop per read.
    private var framer: LineFramer
    /// By wire id, the number whose base-36 form the line carries: an integer key hashes far
    /// cheaper than the string.
    private var pending: [UInt64: Pending] = [:]
    private var nextID: UInt64 = 0
    private var output = ByteBuffer()
    private var flushScheduled = false
    private var context: ChannelHandlerContext?
    private var closeReason: String?
    private var refusal: ConcordError?
    private var deadlineTimer = EarliestDeadlineTimer()

    /// Set once the connection must take no new calls (bye received, closing); read by the client.
    let retired: RetiredFlag

    init(endpoint: String, maxLineLength: Int, logger: Logger, retired: RetiredFlag) {
        self.endpoint = endpoint
        self.framer = LineFramer(maxLineLength: maxLineLength)
        self.logger = logger
        self.retired = retired
    }

    private func retire() {
        self.retired.set()
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        self.output = context.channel.allocator.buffer(capacity: 512)
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.context = nil
    }

    // MARK: Outbound

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        let call = self.unwrapOutboundIn(data)
        guard context.channel.isActive, !self.retired.isSet else {
            // Handed on, not lost: the write itself is done with.
            promise?.succeed()
            call.client.resend(call)
            return
        }
        self.nextID &+= 1
        let wireID = self.nextID
        self.pending[wireID] = Pending(completion: call.completion, deadline: call.deadline, callerID: call.request.id, stream: call.stream)
        call.stream?.sent(wireID: String(wireID, radix: 36), on: context.channel)
        if !self.deadlineTimer.covers(call.deadline) {
            let this = NIOLoopBound(self, eventLoop: context.eventLoop)
            self.deadlineTimer.cover(call.deadline, on: context.eventLoop) { this.value.expireOverdue() }
        }
        LineCodec.write(call.request, id: String(wireID, radix: 36), into: &self.output)
        promise?.succeed()
    }

    func flush(context: ChannelHandlerContext) {
        // Coalesce: every call written during this event-loop tick leaves in one flush.
        guard !self.flushScheduled else { return }
        self.flushScheduled = true
        let this = NIOLoopBound(self, eventLoop: context.eventLoop)
        context.eventLoop.execute { this.value.flushNow() }
    }

    private func flushNow() {
        self.flushScheduled = false
        guard self.output.readableBytes > 0, let context = self.context else { return }
        let bytes = self.output
        self.output = context.channel.allocator.buffer(capacity: 512)
        context.writeAndFlush(self.wrapOutboundOut(bytes), promise: nil)
    }

    // MARK: Inbound

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        self.framer.append(self.unwrapInboundIn(data))
        while let frame = self.framer.next() {
            guard case .line(let line) = frame else {
                // Nothing after an oversized line can be trusted to start a line.
                self.closeReason = "server sent a line longer than this client accepts"
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
            guard let wireID = Self.wireID(response.id), let entry = self.pending.removeValue(forKey: wireID) else {
                if response.id == unsolicitedID, case .error(let error) = response.outcome {
                    self.closeReason = "\(error.code): \(error.message)"
                    // The server refused this client's credentials (a revoked certificate): no other
                    // replica or retry will take them, so calls fail with that code, not `unavailable`.
                    if error.code == .unauthorized { self.refusal = error }
                }
                return
            }
            response.id = entry.callerID
            if case .error(let error) = response.outcome, error.unprocessed {
                // The server is closing this connection: later calls go on a new one.
                self.retire()
                // It refused this client's certificate: that, not the closing, is the answer.
                if let refusal = self.refusal { response.outcome = .error(self.refused(refusal)) }
            }
            entry.completion.succeed(response)
        case .item(let id, let body):
            guard let wireID = Self.wireID(id), let stream = self.pending[wireID]?.stream else { return }
            stream.onItem(body)
        case .event(let event):
            switch event.name {
            case .ping:
                LineCodec.writePong(into: &self.output)
                self.flush(context: context)
            case .bye:
                self.closeReason = "server said bye: \(String(buffer: event.body))"
                // The server is closing: take no new calls here; close from this side too.
                self.retire()
                context.close(promise: nil)
            default:
                break
            }
        }
    }

    /// The number behind a wire id exactly as this handler writes them: base 36, lower case, no
    /// sign or leading zero. Anything else answers no call of ours.
    static func wireID(_ text: String) -> UInt64? {
        let digits = text.utf8
        guard (1...12).contains(digits.count), digits.first != UInt8(ascii: "0") else { return nil }
        var value: UInt64 = 0
        for byte in digits {
            let digit: UInt8
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = byte - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "z"): digit = byte - UInt8(ascii: "a") + 10
            default: return nil
            }
            value = value * 36 + UInt64(digit)
        }
        return value
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if case .handshakeCompleted(let negotiated) = event as? TLSUserEvent, negotiated != ConcordProtocolVersion.alpn {
            self.closeReason = "server did not agree to ALPN \(ConcordProtocolVersion.alpn)"
            context.close(promise: nil)
        }
        context.fireUserInboundEventTriggered(event)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        self.retire()
        if self.closeReason == nil { self.closeReason = "\(error)" }
        context.close(promise: nil)
    }

    func channelInactive(context: ChannelHandlerContext) {
        self.retire()
        let error = self.connectionError()
        let pending = self.pending
        self.pending.removeAll()
        self.deadlineTimer.cancel()
        for (_, entry) in pending {
            entry.completion.fail(error)
        }
        context.fireChannelInactive()
    }

    /// Fails every call past its deadline, then covers the earliest deadline still pending.
    private func expireOverdue() {
        self.deadlineTimer.fired()
        // The loop's clock, which the timer ran on: a test's loop keeps its own time.
        let now = self.context?.eventLoop.now ?? .now()
        let (overdue, earliest) = EarliestDeadlineTimer.partition(self.pending, now: now, deadline: \.deadline)
        for wireID in overdue {
            guard let entry = self.pending.removeValue(forKey: wireID) else { continue }
            entry.completion.fail(ConcordError(.deadlineExceeded, "no answer from \(self.endpoint) before the deadline"))
        }
        if let earliest, let eventLoop = self.context?.eventLoop {
            let this = NIOLoopBound(self, eventLoop: eventLoop)
            self.deadlineTimer.cover(earliest, on: eventLoop) { this.value.expireOverdue() }
        }
    }

    private func refused(_ refusal: ConcordError) -> ConcordError {
        ConcordError(.unauthorized, "\(self.endpoint) refused this client: \(refusal.message)")
    }

    private func connectionError() -> ConcordError {
        if let refusal = self.refusal { return self.refused(refusal) }
        return ConcordError(.unavailable, "connection to \(self.endpoint) closed" + (self.closeReason.map { ": \($0)" } ?? ""))
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
