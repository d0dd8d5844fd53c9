/// Request metadata: the `key=value` tokens between the verb and the body.
///
/// Routers and proxies read metadata without touching the body.
public struct Metadata: Sendable, Hashable {
    /// Time budget for the request in milliseconds, counted from when the receiver reads the line.
    public var deadlineMilliseconds: Int64?
    /// W3C trace context (`traceparent` value) to correlate logs end to end.
    public var trace: String?
    /// Makes a retried write safe: the same key returns the first result and writes nothing new.
    public var idempotencyKey: String?
    /// Bearer token a client presents to the gateway.
    public var auth: String?
    /// Who the gateway acts for: the name of the token's holder (percent-encoded where it is not
    /// visible ASCII). A service believes it only from the gateway's certificate.
    public var actor: String?
    /// The role of that token (reader, secretariat, admin), beside `actor`.
    public var actorRole: String?
    /// Keys this version does not know, kept in order so proxies pass them on unchanged.
    public var extensions: [Extension]

    public struct Extension: Sendable, Hashable {
        public var key: String
        public var value: String
        public init(key: String, value: String) {
            self.key = key
            self.value = value
        }
    }

    public init(
        deadlineMilliseconds: Int64? = nil,
        trace: String? = nil,
        idempotencyKey: String? = nil,
        auth: String? = nil,
        actor: String? = nil,
        actorRole: String? = nil,
        extensions: [Extension] = []
    ) {
        self.deadlineMilliseconds = deadlineMilliseconds
        self.trace = trace
        self.idempotencyKey = idempotencyKey
        self.auth = auth
        self.actor = actor
        self.actorRole = actorRole
        self.extensions = extensions
    }

    public var deadline: Duration? {
        get { self.deadlineMilliseconds.map { .milliseconds($0) } }
        set { self.deadlineMilliseconds = newValue.map { max(1, $0.wholeMilliseconds) } }
    }

    public var isEmpty: Bool {
        self.deadlineMilliseconds == nil && self.trace == nil && self.idempotencyKey == nil
            && self.auth == nil && self.actor == nil && self.actorRole == nil && self.extensions.isEmpty
    }

    /// Wire keys, fixed by the specification.
    public enum Key {
        public static let deadline = "deadline"
        public static let trace = "trace"
        public static let idempotencyKey = "idem"
        public static let auth = "auth"
        public static let actor = "actor"
        public static let actorRole = "role"
    }
}
