/// Request metadata: the `key=value` tokens between the verb and the body.
///
/// Routers and proxies read metadata without touching the body.
public struct Metadata: Sendable, Hashable {
    /// Time budget for the request in milliseconds, counted from when the receiver reads the line.
    public var deadlineMilliseconds: Int64?
    /// The keys below, held by one reference: a request is copied and destroyed several times on
    /// its way, and seven strings and an array cost a reference count each every time, even
    /// when absent (docs/performance.md). Nil while none is set; copied on write.
    private var storage: Storage?

    /// W3C trace context (`traceparent` value) to correlate logs end to end.
    public var trace: String? {
        get { self.storage?.fields.trace }
        set { self.update { $0.trace = newValue } }
    }
    /// Makes a retried write safe: the same key returns the first result and writes nothing new.
    public var idempotencyKey: String? {
        get { self.storage?.fields.idempotencyKey }
        set { self.update { $0.idempotencyKey = newValue } }
    }
    /// Bearer token a client presents to the gateway.
    public var auth: String? {
        get { self.storage?.fields.auth }
        set { self.update { $0.auth = newValue } }
    }
    /// Who the gateway acts for: the name of the token's holder (percent-encoded where it is not
    /// visible ASCII). A service believes it only from the gateway's certificate.
    public var actor: String? {
        get { self.storage?.fields.actor }
        set { self.update { $0.actor = newValue } }
    }
    /// The role of that token (reader, secretariat, admin), beside `actor`.
    public var actorRole: String? {
        get { self.storage?.fields.actorRole }
        set { self.update { $0.actorRole = newValue } }
    }
    /// Keys this version does not know, kept in order so proxies pass them on unchanged.
    public var extensions: [Extension] {
        get { self.storage?.fields.extensions ?? [] }
        set { self.update { $0.extensions = newValue } }
    }

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
        let fields = Fields(trace: trace, idempotencyKey: idempotencyKey, auth: auth, actor: actor, actorRole: actorRole, extensions: extensions)
        self.storage = fields.isEmpty ? nil : Storage(fields)
    }

    private struct Fields: Hashable {
        var trace: String?
        var idempotencyKey: String?
        var auth: String?
        var actor: String?
        var actorRole: String?
        var extensions: [Extension] = []

        var isEmpty: Bool {
            self.trace == nil && self.idempotencyKey == nil && self.auth == nil && self.actor == nil && self.actorRole == nil
                && self.extensions.isEmpty
        }
    }

    /// Written only while uniquely referenced (`update`), so sharing it between threads is safe.
    private final class Storage: @unchecked Sendable {
        var fields: Fields
        init(_ fields: consuming Fields) { self.fields = fields }
    }

    private mutating func update(_ change: (inout Fields) -> Void) {
        if self.storage == nil {
            var fields = Fields()
            change(&fields)
            if !fields.isEmpty { self.storage = Storage(fields) }
        } else if isKnownUniquelyReferenced(&self.storage) {
            change(&self.storage!.fields)
        } else {
            var fields = self.storage!.fields
            change(&fields)
            self.storage = Storage(consume fields)
        }
    }

    private var fields: Fields { self.storage?.fields ?? Fields() }

    public static func == (lhs: Metadata, rhs: Metadata) -> Bool {
        lhs.deadlineMilliseconds == rhs.deadlineMilliseconds && (lhs.storage === rhs.storage || lhs.fields == rhs.fields)
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(self.deadlineMilliseconds)
        hasher.combine(self.fields)
    }

    public var deadline: Duration? {
        get { self.deadlineMilliseconds.map { .milliseconds($0) } }
        set { self.deadlineMilliseconds = newValue.map { max(1, $0.wholeMilliseconds) } }
    }

    public var isEmpty: Bool {
        self.deadlineMilliseconds == nil && self.fields.isEmpty
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

extension Metadata {
    /// What a proxy (the gateway) writes in place of a request's own envelope as it passes the
    /// request on: the deadline left, who it acts for (`actor`, `role`) and no `auth`, the
    /// token having stopped at the proxy; and a `trace` where the request brought none. The rest
    /// goes as received. The request is not changed on its way through: its metadata is still
    /// held by the request's context there, so a change would copy it, with an allocation.
    public struct Relay: Sendable, Hashable {
        public var deadlineMilliseconds: Int64
        /// Who it acts for, as `actor` and `role` carry them.
        public var actor: String?, actorRole: String?
        /// Written only for a request without a trace of its own.
        public var trace: String?

        public init(deadlineMilliseconds: Int64, actor: String? = nil, actorRole: String? = nil, trace: String? = nil) {
            (self.deadlineMilliseconds, self.actor, self.actorRole, self.trace) = (deadlineMilliseconds, actor, actorRole, trace)
        }
    }
}
