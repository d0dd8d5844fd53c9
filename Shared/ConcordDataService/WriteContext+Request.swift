import ConcordRecords
import ConcordServer

extension WriteContext {
    /// The context of a request: its verb, idempotency key, actor and trace.
    public init(_ context: RequestContext) {
        self.init(
            verb: context.verb,
            idempotencyKey: context.metadata.idempotencyKey,
            actor: context.actor,
            traceID: context.metadata.trace.flatMap(Self.traceID(ofTraceParent:))
        )
    }
}
