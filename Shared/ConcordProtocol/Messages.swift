import NIOCore

/// A request: the client's id, the verb, metadata, and the JSON body kept as bytes.
public struct Request: Sendable, Hashable {
    public var id: String
    /// `service.method`, e.g. `participants.sessions.list`; built-in verbs have no dot (`ping`).
    public var verb: String
    public var metadata: Metadata
    /// The JSON body exactly as received; `{}` when the line carried none.
    public var body: ByteBuffer

    public init(id: String, verb: String, metadata: Metadata = Metadata(), body: ByteBuffer = Request.emptyBody) {
        self.id = id
        self.verb = verb
        self.metadata = metadata
        self.body = body
    }

    public static let emptyBody = ByteBuffer(string: "{}")

    /// The part of the verb before its first dot: the service that owns it.
    public var service: Substring {
        // Verbs are ASCII (the codec checks), so a UTF-8 offset is a character offset. Searched in
        // the string's contiguous bytes: a generic search of its UTF-8 view cost several times as
        // much, at every forward (docs/performance.md).
        let utf8 = self.verb.utf8
        let dot: Int? = utf8.withContiguousStorageIfAvailable { $0.firstIndex(of: UInt8(ascii: ".")) }
            ?? utf8.firstIndex(of: UInt8(ascii: ".")).map { utf8.distance(from: utf8.startIndex, to: $0) }
        guard let dot else { return self.verb[...] }
        return self.verb[..<utf8.index(utf8.startIndex, offsetBy: dot)]
    }
}

/// A response: the id of the request it answers and either a JSON body or an error.
public struct Response: Sendable, Hashable {
    public enum Outcome: Sendable, Hashable {
        case ok(ByteBuffer)
        case error(ConcordError)
    }

    public var id: String
    public var outcome: Outcome

    public init(id: String, outcome: Outcome) {
        self.id = id
        self.outcome = outcome
    }

    public static func ok(_ id: String, _ body: ByteBuffer) -> Response {
        Response(id: id, outcome: .ok(body))
    }

    public static func error(_ id: String, _ error: ConcordError) -> Response {
        Response(id: id, outcome: .error(error))
    }
}

/// A line from a server that is not the answer to a request: the greeting, keepalive, goodbye.
public struct ServerEvent: Sendable, Hashable {
    public struct Name: RawRepresentable, Hashable, Sendable {
        public var rawValue: String
        public init(rawValue: String) { self.rawValue = rawValue }
        /// Sent once after the handshake: server identity, version and limits.
        public static let hello = Name(rawValue: "hello")
        /// Keepalive; the client answers `* pong`.
        public static let ping = Name(rawValue: "ping")
        /// Sent before the server closes the connection on purpose, with the reason.
        public static let bye = Name(rawValue: "bye")
    }

    public var name: Name
    public var body: ByteBuffer

    public init(name: Name, body: ByteBuffer) {
        self.name = name
        self.body = body
    }
}

/// What a server can receive on one line.
public enum ClientLine: Sendable, Hashable {
    case request(Request)
    /// The client's answer to `* ping`.
    case pong
    /// Nothing: an empty line, ignored (but it shows the peer is alive).
    case empty
    /// A line that breaks the grammar. `id` is the request id when it could still be read.
    case invalid(id: String?, ConcordError)
}

/// What a client can receive on one line.
public enum ServerLine: Sendable, Hashable {
    case response(Response)
    case event(ServerEvent)
    /// `ID more BODY`: one item a streaming request (`watch`) pushes before its final answer.
    case item(id: String, body: ByteBuffer)
}

/// The id used on lines that answer no particular request.
public let unsolicitedID = "*"
