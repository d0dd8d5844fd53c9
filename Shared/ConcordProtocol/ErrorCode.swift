/// The fixed set of error codes a response may carry. Stable: clients switch on them.
///
/// An opaque struct over a private enum, so the set can grow without breaking exhaustive switches.
public struct ErrorCode: Hashable, Sendable, CustomStringConvertible {
    private enum Base: String, CaseIterable {
        case badRequest = "bad_request"
        case unauthorized
        case forbidden
        case notFound = "not_found"
        case conflict
        case tooLarge = "too_large"
        case rateLimited = "rate_limited"
        case unavailable
        case deadlineExceeded = "deadline_exceeded"
        case `internal`
    }

    private let base: Base
    private init(_ base: Base) { self.base = base }

    /// The request is malformed: grammar, JSON body, or a field that fails validation.
    public static let badRequest = ErrorCode(.badRequest)
    /// No credentials, or credentials that are not valid.
    public static let unauthorized = ErrorCode(.unauthorized)
    /// Valid credentials whose role may not call this verb.
    public static let forbidden = ErrorCode(.forbidden)
    /// Unknown verb, or the record asked for does not exist.
    public static let notFound = ErrorCode(.notFound)
    /// Stale version, duplicate key, still-referenced record, or an id already in flight.
    public static let conflict = ErrorCode(.conflict)
    /// A line or a body over the advertised limit. The connection is closed after this reply.
    public static let tooLarge = ErrorCode(.tooLarge)
    /// The caller (a token at the gateway) is over its request rate or its concurrency cap; the
    /// request was not done. `retryAfterMs` says when to try again.
    public static let rateLimited = ErrorCode(.rateLimited)
    /// The server is shutting down, overloaded, or cannot reach what it depends on. Retry elsewhere or later.
    public static let unavailable = ErrorCode(.unavailable)
    /// The request's deadline passed before an answer was ready.
    public static let deadlineExceeded = ErrorCode(.deadlineExceeded)
    /// A bug or an unexpected failure on the server; the message says no more than is safe.
    public static let `internal` = ErrorCode(.internal)

    /// Every code, in the order the specification lists them.
    public static let all: [ErrorCode] = Base.allCases.map(ErrorCode.init)

    /// Parses a code as written on the wire.
    public init?(wire: some StringProtocol) {
        guard let base = Base(rawValue: String(wire)) else { return nil }
        self.base = base
    }

    /// The code as written on the wire, e.g. `not_found`.
    public var wire: String { self.base.rawValue }
    public var description: String { self.base.rawValue }
}

/// An error as data: a stable code, a message a person can act on, and optionally the field at
/// fault and the rule it broke (for a client to say in its reader's language).
public struct ConcordError: Error, Sendable, Hashable, CustomStringConvertible {
    public var code: ErrorCode
    public var message: String
    /// The request field the error is about, when there is one (`body.name`, `metadata.deadline`).
    public var field: String?
    /// The server did not start the request (its connection was closing or draining): sending it
    /// again, to any server and whatever the verb, cannot do anything twice.
    public var unprocessed: Bool
    /// For `rate_limited`: milliseconds until a request would be admitted.
    public var retryAfterMs: Int64?
    /// The rule the request broke, when a rule says it: the message's English as data.
    public var rule: Rule?

    public init(
        _ code: ErrorCode, _ message: String, field: String? = nil, rule: Rule? = nil, unprocessed: Bool = false, retryAfterMs: Int64? = nil
    ) {
        self.code = code
        self.message = message
        self.field = field
        self.rule = rule
        self.unprocessed = unprocessed
        self.retryAfterMs = retryAfterMs
    }

    public var description: String {
        if let field { return "\(self.code): \(self.message) (field: \(field))" }
        return "\(self.code): \(self.message)"
    }
}
