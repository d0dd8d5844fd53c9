import ConcordProtocol
import W3CTraceContext

/// Who writes, through which verb, under which trace and idempotency key: what the store needs
/// besides the record to make a write safe to retry and to audit it.
public struct WriteContext: Sendable {
    public var verb: String
    public var idempotencyKey: String?
    public var actor: Principal
    /// The W3C trace id (32 hex digits) of the request, when it carried a valid `traceparent`.
    public var traceID: String?

    public init(verb: String, idempotencyKey: String? = nil, actor: Principal, traceID: String? = nil) {
        self.verb = verb
        self.idempotencyKey = idempotencyKey
        self.actor = actor
        self.traceID = traceID
    }

    /// Seeds loaded at start-up or by `SERVICE seed`.
    public static let seed = WriteContext(verb: "seed", actor: Principal(name: "seed"))

    /// The trace id of a `traceparent` value; nil when it is not one.
    public static func traceID(ofTraceParent value: String) -> String? {
        guard let context = try? TraceContext(traceParentHeaderValue: value) else { return nil }
        return context.traceID.description
    }
}
