import ConcordProtocol
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import NIOCore

/// Maps verbs to handlers. Business code registers typed async handlers and never sees a line.
public struct Router: Sendable {
    /// A handler that answers from the request's bytes (for proxies, which keep bodies as bytes).
    public typealias RawHandler = @Sendable (Request, RequestContext) async throws -> ByteBuffer
    /// A handler that answers by calling `answer` once, from any thread, and runs on the
    /// connection's event loop without a task or a future: for proxies, whose work is writing
    /// to another connection and waiting for its reply (docs/performance.md).
    public typealias AnsweringHandler = @Sendable (Request, RequestContext, _ answer: Answer) -> Void

    /// Where an answering handler's answer goes: the connection that read the request, which
    /// takes it over to its event loop if it comes from another thread. A reference and a
    /// serial, carried without an allocation (see `Answering`).
    public struct Answer: Answering, @unchecked Sendable {
        private let connection: ServerConnectionHandler
        private let serial: UInt64

        init(connection: ServerConnectionHandler, serial: UInt64) {
            self.connection = connection
            self.serial = serial
        }

        public func callAsFunction(_ result: Result<ByteBuffer, ConcordError>) {
            self.connection.answered(serial: self.serial, result)
        }
    }
    /// A handler that pushes items through `StreamWriter` and returns its final answer. Its
    /// task is cancelled when the peer cancels the request or the server drains: it should then
    /// return what lets the peer resume (a cursor), not throw.
    public typealias StreamHandler = @Sendable (Request, RequestContext, StreamWriter) async throws -> ByteBuffer

    enum Route: Sendable {
        /// Answered on the event loop without a task: protocol verbs with no I/O.
        case inline(@Sendable (Request) -> Response.Outcome)
        case async(RawHandler, VerbKind)
        case answering(AnsweringHandler, VerbKind)
        /// Pushes items (`ID more BODY`) until it returns its final answer: when the peer sends
        /// `cancel`, when the connection drains, or when it has nothing more to say.
        case stream(StreamHandler, VerbKind)
        /// `cancel {"id": ...}`: answered by the connection itself, which holds the requests.
        case cancel

        /// What the verb does; a fallback (a proxy) cannot know, so it counts as a write.
        var kind: VerbKind {
            switch self {
            case .inline, .cancel: .builtin
            case .async(_, let kind), .answering(_, let kind), .stream(_, let kind): kind
            }
        }
    }

    private(set) var routes: [String: Route] = [:] {
        didSet {
            self.routeLengths = self.routes.keys.reduce(into: (0, 0)) { lengths, verb in
                let length = verb.utf8.count
                if length < 64 { lengths.0 |= 1 << UInt64(length) } else if length < 128 { lengths.1 |= 1 << UInt64(length - 64) }
            }
        }
    }
    /// Bit n is set when some route's verb is n bytes long (verbs have at most 128). A verb of
    /// another length has no route of its own and goes to the fallback without being hashed:
    /// behind a gateway nearly every verb does (docs/performance.md).
    private var routeLengths: (UInt64, UInt64) = (0, 0)
    /// Called for verbs with no route of their own, e.g. a gateway forwarding by prefix.
    var fallback: Route?
    /// Whether a verb the fallback takes is declared by what is behind it: only such a verb
    /// names itself in metrics.
    var fallbackDeclares: (@Sendable (String) -> Bool)?

    public init() {}

    /// Registers a typed handler: the body is decoded as `Input`, the result encoded as JSON.
    /// `kind` says whether it reads or writes: the gateway's roles and retries follow it.
    public mutating func register<Input: Decodable & Sendable, Output: Encodable & Sendable>(
        _ verb: String,
        kind: VerbKind,
        input: Input.Type = Input.self,
        _ handler: @escaping @Sendable (Input, RequestContext) async throws -> Output
    ) {
        self.registerRaw(verb, kind: kind) { request, context in
            let input = try Self.decode(Input.self, from: request.body)
            let output = try await handler(input, context)
            return try Self.encode(output, allocator: context.allocator)
        }
    }

    /// Registers a handler that works on the raw body bytes.
    public mutating func registerRaw(_ verb: String, kind: VerbKind, _ handler: @escaping RawHandler) {
        precondition(LineCodec.isValidVerb(ByteBuffer(string: verb).readableBytesView[...]), "invalid verb '\(verb)'")
        precondition(kind != .builtin || Self.builtins.contains(verb), "only the protocol's own verbs are built-ins")
        self.routes[verb] = .async(handler, kind)
    }

    /// The protocol's own verbs, which every server answers.
    public static let builtins: Set<String> = ["ping", "health", "ready", "hello", "verbs", "cancel"]

    /// Every verb with a route of its own, and its kind.
    public var catalogue: [String: VerbKind] {
        self.routes.mapValues(\.kind)
    }

    /// Sends every verb without a route of its own to `handler`. Such verbs count as writes.
    public mutating func setFallback(_ handler: @escaping RawHandler) {
        self.fallback = .async(handler, .write)
    }

    /// Sends every verb without a route of its own to `handler`, which answers through its
    /// `Answer`. `declares` says which of those verbs exist behind it (for metrics' labels).
    public mutating func setFallback(answering handler: @escaping AnsweringHandler, declares: (@Sendable (String) -> Bool)? = nil) {
        self.fallback = .answering(handler, .write)
        self.fallbackDeclares = declares
    }

    /// Registers a handler that answers through its `Answer`, on the connection's event loop
    /// with no task per request: for verbs whose work is handing the request to something that
    /// answers later (a proxy, a batch of reads).
    public mutating func registerAnswering(_ verb: String, kind: VerbKind, _ handler: @escaping AnsweringHandler) {
        precondition(LineCodec.isValidVerb(ByteBuffer(string: verb).readableBytesView[...]), "invalid verb '\(verb)'")
        self.routes[verb] = .answering(handler, kind)
    }

    /// Registers a streaming verb (`watch`): see ``StreamHandler``.
    public mutating func registerStream(_ verb: String, kind: VerbKind, _ handler: @escaping StreamHandler) {
        precondition(LineCodec.isValidVerb(ByteBuffer(string: verb).readableBytesView[...]), "invalid verb '\(verb)'")
        self.routes[verb] = .stream(handler, kind)
    }

    mutating func registerCancel() {
        self.routes["cancel"] = .cancel
    }

    mutating func registerInline(_ verb: String, _ handler: @escaping @Sendable (Request) -> Response.Outcome) {
        self.routes[verb] = .inline(handler)
    }

    func route(for verb: String) -> Route? {
        let length = verb.utf8.count
        let mayHaveRoute = length < 64
            ? self.routeLengths.0 & (1 << UInt64(length)) != 0
            : length >= 128 || self.routeLengths.1 & (1 << UInt64(length - 64)) != 0
        guard mayHaveRoute else { return self.fallback }
        return self.routes[verb] ?? self.fallback
    }

    /// The verb as metrics name it: itself when a route or what is behind the fallback declares
    /// it, else `other` (a caller's invented verbs must not grow the labels).
    func meterLabel(for verb: String) -> String {
        if self.routes[verb] != nil { return verb }
        if self.fallback != nil, self.fallbackDeclares?(verb) == true { return verb }
        return RequestMeters.undeclared
    }

    // MARK: JSON

    static func decode<T: Decodable>(_ type: T.Type, from body: ByteBuffer) throws -> T {
        do {
            return try JSONBody.decode(T.self, from: body)
        } catch let error as DecodingError {
            throw ConcordError(decoding: error)
        }
    }

    static func encode<T: Encodable>(_ value: T, allocator: ByteBufferAllocator) throws -> ByteBuffer {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .iso8601
        return try JSONBody.encode(value, using: encoder, allocator: allocator)
    }
}

extension Router.Route {
    /// What the connection's machine needs to know of the route.
    var routing: ServerConnectionStateMachine.Routing {
        switch self {
        case .inline, .cancel: .inline
        case .async(_, let kind), .answering(_, let kind): ServerConnectionStateMachine.Routing(kind: kind, isInline: false)
        case .stream(_, let kind): ServerConnectionStateMachine.Routing(kind: kind, isInline: false, isStream: true)
        }
    }
}
