import ConcordProtocol
import ConcordStorage

/// One committed write, as the audit trail keeps it: written in the same transaction as the
/// write itself, so a write that failed or rolled back leaves none, and no verb changes it.
public struct AuditEntry: Codable, Sendable, Hashable {
    public enum Operation: String, Codable, Sendable, Hashable {
        case create, update, delete
        /// A write of a kind's own verb (a status transition, a progress update...).
        case change
    }

    public var id: String
    /// When it committed, ISO 8601 with milliseconds (UTC).
    public var at: String
    public var verb: String
    public var operation: Operation
    /// The record's kind (its table) and key.
    public var kind: String
    public var key: String
    public var versionBefore: Int64?
    public var versionAfter: Int64?
    /// The patch of an update; the whole record for a create or a delete.
    public var change: JSONValue
    public var traceID: String?
    /// Who: the token holder's name when the gateway vouches for it, else the peer's identity.
    public var actor: String
    public var actorRole: String?
    /// The certificate identity the write came in on.
    public var via: String?
}

/// The filters of `SERVICE.audit.list`.
public struct AuditQuery: Sendable {
    public var kind: String?
    public var key: String?
    public var actor: String?
    /// Inclusive bounds on `at`, as ISO 8601 text (a date alone is its first instant).
    public var from: String?
    public var to: String?
    public var limit: Int
    public var after: String?

    public init(kind: String? = nil, key: String? = nil, actor: String? = nil, from: String? = nil, to: String? = nil, limit: Int = 50, after: String? = nil) {
        self.kind = kind
        self.key = key
        self.actor = actor
        self.from = from
        self.to = to
        self.limit = limit
        self.after = after
    }
}
