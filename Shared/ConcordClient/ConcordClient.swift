import ConcordProtocol
import ConcordTLS
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import NIOSSL

/// A client for one endpoint: one multiplexed TLS connection, opened on first use and again on
/// the next use after it drops. Safe to share; calls from many tasks go out on the same connection.
public final class ConcordClient: Sendable {
    public struct Configuration: Sendable {
        public var host: String
        public var port: Int
        public var tls: TLSIdentity
        /// The name the server's certificate must carry; nil checks the IP address instead.
        public var serverName: String?
        public var connectTimeout: Duration
        /// The deadline of a call that sets none.
        public var defaultDeadline: Duration
        public var maxLineLength: Int

        public init(
            host: String,
            port: Int,
            tls: TLSIdentity,
            serverName: String? = nil,
            connectTimeout: Duration = .seconds(5),
            defaultDeadline: Duration = .seconds(30),
            maxLineLength: Int = 16 << 20
        ) {
            self.host = host
            self.port = port
            self.tls = tls
            self.serverName = serverName
            self.connectTimeout = connectTimeout
            self.defaultDeadline = defaultDeadline
            self.maxLineLength = maxLineLength
        }
    }

    private struct Connection: Sendable {
        var channel: any Channel
        /// Its handler, which a call written on the channel's own event loop is handed to directly.
        var handler: NIOLoopBound<ClientConnectionHandler>
        var retired: RetiredFlag
        var isUsable: Bool { self.channel.isActive && !self.retired.isSet }
    }

    private enum State {
        case idle
        case connecting(EventLoopFuture<Connection>)
        case connected(Connection)
        case closed
    }

    public let configuration: Configuration
    /// Rebuilt from the files when they change (certificate rotation); each new connection takes the current one.
    private let tls: ReloadingTLSContext
    private let eventLoopGroup: any EventLoopGroup
    private let state = NIOLockedValueBox(State.idle)
    private let logger: Logger

    public var endpoint: String { "\(self.configuration.host):\(self.configuration.port)" }

    public init(
        configuration: Configuration,
        eventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        logger: Logger = Logger(label: "concord.client")
    ) throws {
        self.configuration = configuration
        self.tls = try ReloadingTLSContext.client(configuration.tls)
        self.eventLoopGroup = eventLoopGroup
        self.logger = logger
    }

    // MARK: Calls

    /// Sends `request` (its id is replaced on the wire and restored in the response) and waits for
    /// the answer. Errors the server returns come back as a response, not thrown; a deadline that
    /// passes or a connection that cannot be used throws a ``ConcordError``.
    public func send(_ request: Request) async throws(ConcordError) -> Response {
        do {
            return try await self.sendFuture(request).get()
        } catch let error as ConcordError {
            throw error
        } catch {
            throw ConcordError(.unavailable, "call to \(self.endpoint) failed: \(error)")
        }
    }

    /// ``send(_:)`` without a task. The future fails only with a ``ConcordError``; it completes
    /// on the connection's event loop when one is open.
    public func sendFuture(_ request: Request) -> EventLoopFuture<Response> {
        let eventLoop = self.state.withLockedValue { state -> (any EventLoop)? in
            if case .connected(let connection) = state { return connection.channel.eventLoop }
            return nil
        }
        let promise = (eventLoop ?? self.eventLoopGroup.any()).makePromise(of: Response.self)
        self.send(request, completion: .promise(promise))
        return promise.futureResult
    }

    /// ``send(_:)`` without a task or a future, for proxies that forward on the event loop:
    /// `completion` is called once, with the answer or a ``ConcordError``, on the connection's
    /// event loop (on another thread if the call never reached a connection). With `relay`, the
    /// request goes in that envelope (see `Metadata.Relay`), unchanged itself.
    public func send(
        _ request: consuming Request, relay: Metadata.Relay? = nil, completion: @escaping @Sendable (Result<Response, ConcordError>) -> Void
    ) {
        self.send(request, relay: relay, completion: .callback(completion))
    }

    /// ``send(_:relay:completion:)`` with the answer given to `receiver`.
    public func send(_ request: consuming Request, relay: Metadata.Relay? = nil, to receiver: any CallReceiver) {
        self.send(request, relay: relay, completion: .receiver(receiver))
    }

    /// Takes the request (`consuming`): a caller that is done with it hands it over without a copy.
    private func send(_ request: consuming Request, relay: Metadata.Relay? = nil, completion: CallCompletion) {
        // In whole milliseconds, as the wire carries it (Duration arithmetic costs more per call).
        let budget: Int64
        if let deadline = relay.map(\.deadlineMilliseconds) ?? request.metadata.deadlineMilliseconds {
            budget = deadline
        } else {
            request.metadata.deadline = self.configuration.defaultDeadline
            budget = request.metadata.deadlineMilliseconds ?? 1
        }
        self.dispatch(OutboundCall(
            request: request, relay: relay, deadline: .now() + .milliseconds(budget + Self.grace(budget)), completion: completion, client: self
        ))
    }

    /// How long past the deadline it sends a client waits for the answer, in milliseconds. The
    /// server counts the deadline from when it reads the line, later than the client sent it,
    /// and answers `deadline_exceeded` (or a brief with what came in time) by then: an answer
    /// given on time is not lost to the trip back or a busy machine. The client's own timer is
    /// the backstop for a server that does not answer at all. A fifth of the budget, from 100 ms
    /// to 1 s.
    static func grace(_ budget: Int64) -> Int64 {
        min(1_000, max(100, budget / 5))
    }

    /// Writes `call` on the open connection, or once the next one is open.
    private func dispatch(_ call: OutboundCall) {
        switch self.nextConnection() {
        case .use(let connection): self.write(call, on: connection)
        case .wait(let connecting): self.write(call, once: connecting)
        case .fail: call.completion.fail(ConcordError(.unavailable, "client for \(self.endpoint) is closed"))
        }
    }

    /// Sends a call that met a retired connection before it was written (so it never reached
    /// the server) once more, on the next connection. A second refusal fails it.
    func resend(_ call: OutboundCall) {
        guard call.attempt == 1 else {
            return call.completion.fail(ConcordError(.unavailable, "connection to \(self.endpoint) closed before the call was sent"))
        }
        self.dispatch(call.again())
    }

    private func write(_ call: OutboundCall, once connecting: EventLoopFuture<Connection>) {
        connecting.whenComplete { result in
            switch result {
            case .success(let connection):
                self.write(call, on: connection)
            case .failure(let error):
                call.completion.fail(ConcordError(.unavailable, "cannot connect to \(self.endpoint): \(error)"))
            }
        }
    }

    /// On the connection's own thread, the call is handed to its handler directly: through the
    /// pipeline it is wrapped, cast back and walked past the handler's neighbours
    /// (docs/performance.md).
    private func write(_ call: OutboundCall, on connection: Connection) {
        guard connection.channel.eventLoop.inEventLoop else { return self.write(call, on: connection.channel) }
        guard connection.channel.isActive else { return self.resend(call) }
        connection.handler.value.send(call)
    }

    private func write(_ call: OutboundCall, on channel: any Channel) {
        if channel.eventLoop.inEventLoop {
            // On the connection's own thread an active connection has its handler in the
            // pipeline, which answers the call one way or another.
            guard channel.isActive else { return self.resend(call) }
            channel.writeAndFlush(call, promise: nil)
        } else {
            // By the time the write runs on the connection's thread the connection may be gone,
            // and its handler with it: then nothing else would ever answer the call.
            let written = channel.eventLoop.makePromise(of: Void.self)
            let endpoint = self.endpoint
            written.futureResult.whenFailure { _ in
                // Only when the handler never saw the call, so this is its one answer.
                call.completion.fail(ConcordError(.unavailable, "connection to \(endpoint) closed before the call was sent"))
            }
            channel.writeAndFlush(call, promise: written)
        }
    }

    /// Calls `verb` with a raw JSON body and returns the raw JSON answer; a server error is thrown.
    public func call(_ verb: String, body: ByteBuffer = Request.emptyBody, metadata: Metadata = Metadata()) async throws(ConcordError) -> ByteBuffer {
        let response = try await self.send(Request(id: "c", verb: verb, metadata: metadata, body: body))
        switch response.outcome {
        case .ok(let body): return body
        case .error(let error): throw error
        }
    }

    /// Calls a streaming verb (`watch`): `onItem` gets each item's body as it comes (on the
    /// connection's event loop), and the final answer's body is returned. Cancelling the calling
    /// task sends `cancel` for the call; the stream then ends with its final answer (for a watch,
    /// the cursor to resume from), which is still returned. A stream has no deadline.
    public func stream(
        _ verb: String, body: ByteBuffer = Request.emptyBody, metadata: Metadata = Metadata(),
        onItem: @escaping @Sendable (ByteBuffer) -> Void
    ) async throws(ConcordError) -> ByteBuffer {
        let stream = StreamCall(onItem: onItem)
        let promise = self.eventLoopGroup.any().makePromise(of: Response.self)
        self.dispatch(OutboundCall(
            request: Request(id: "s", verb: verb, metadata: metadata, body: body), deadline: .distantFuture,
            completion: .promise(promise), client: self, stream: stream
        ))
        let response: Response
        do {
            response = try await withTaskCancellationHandler {
                try await promise.futureResult.get()
            } onCancel: {
                self.cancel(stream)
            }
        } catch let error as ConcordError {
            throw error
        } catch {
            throw ConcordError(.unavailable, "stream from \(self.endpoint) failed: \(error)")
        }
        switch response.outcome {
        case .ok(let body): return body
        case .error(let error): throw error
        }
    }

    /// Sends `cancel` for a streaming call on its connection (nothing if it was never written:
    /// then its connection failing ends it).
    private func cancel(_ stream: StreamCall) {
        guard let (wireID, channel) = stream.placement else { return }
        var body = ByteBuffer(string: #"{"id":"#)
        JSONString.write(wireID, into: &body)
        body.writeString("}")
        let call = OutboundCall(
            request: Request(id: "cancel", verb: "cancel", metadata: Metadata(deadlineMilliseconds: 5_000), body: body),
            deadline: .now() + .seconds(6), completion: .callback { _ in }, client: self
        )
        self.write(call, on: channel)
    }

    /// Calls `verb` with `input` encoded as JSON and decodes the answer as `Output`.
    public func call<Input: Encodable, Output: Decodable>(
        _ verb: String,
        _ input: Input,
        as output: Output.Type = Output.self,
        metadata: Metadata = Metadata()
    ) async throws(ConcordError) -> Output {
        let body: ByteBuffer
        do {
            body = try JSONBody.encode(input)
        } catch {
            throw ConcordError(.badRequest, "cannot encode request body: \(error)")
        }
        let answer = try await self.call(verb, body: body, metadata: metadata)
        do {
            return try JSONBody.decode(Output.self, from: answer)
        } catch {
            throw ConcordError(.internal, "cannot decode answer to \(verb): \(error)")
        }
    }

    /// Closes the connection; pending calls fail with `unavailable`. Later calls fail too.
    public func close() async {
        let channel: (any Channel)? = self.state.withLockedValue { state in
            defer { state = .closed }
            if case .connected(let connection) = state { return connection.channel }
            return nil
        }
        try? await channel?.close()
    }

    // MARK: Connection

    /// Whether a connection is open and taking calls right now (it opens again on the next call).
    public var hasOpenConnection: Bool {
        self.state.withLockedValue { state in
            if case .connected(let connection) = state { return connection.isUsable }
            return false
        }
    }

    private enum NextConnection {
        case use(Connection)
        case wait(EventLoopFuture<Connection>)
        case fail
    }

    /// The open connection, or the one being opened (opening one if there is none).
    private func nextConnection() -> NextConnection {
        self.state.withLockedValue { state in
            switch state {
            case .connected(let connection) where connection.isUsable:
                return .use(connection)
            case .connecting(let future):
                return .wait(future)
            case .closed:
                return .fail
            case .idle, .connected:
                let future = self.connect()
                state = .connecting(future)
                return .wait(future)
            }
        }
    }

    private func connect() -> EventLoopFuture<Connection> {
        let configuration = self.configuration
        let sslContext = self.tls.current()
        let endpoint = self.endpoint
        let logger = self.logger
        let serverName = configuration.serverName ?? (CertificateAuthority.addressBytes(configuration.host) == nil ? configuration.host : nil)
        let retired = RetiredFlag()
        let future = ClientBootstrap(group: self.eventLoopGroup)
            .connectTimeout(TimeAmount(configuration.connectTimeout))
            .channelOption(.tcpOption(.tcp_nodelay), value: 1)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandlers([
                        try NIOSSLClientHandler(context: sslContext, serverHostname: serverName),
                        ClientConnectionHandler(
                            endpoint: endpoint, maxLineLength: configuration.maxLineLength, logger: logger, retired: retired
                        ),
                    ])
                }
            }
            .connect(host: configuration.host, port: configuration.port)
            .flatMapThrowing { channel in
                let handler = try channel.pipeline.syncOperations.handler(type: ClientConnectionHandler.self)
                return Connection(channel: channel, handler: NIOLoopBound(handler, eventLoop: channel.eventLoop), retired: retired)
            }
        let state = self.state
        future.whenComplete { result in
            state.withLockedValue { state in
                guard case .connecting = state else { return }
                switch result {
                case .success(let channel): state = .connected(channel)
                case .failure: state = .idle
                }
            }
        }
        return future
    }
}
