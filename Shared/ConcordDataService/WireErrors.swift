import ConcordProtocol
import ConcordRecords
import ConcordServer
import ConcordStorage

/// The one place where what the store and the field rules throw becomes what the wire says.
public enum WireErrors {
    /// Runs `work`, giving its errors their final shape: a validation error names its field by
    /// where it is in the request (`body.name`, `metadata.idem`); a store failure becomes a
    /// stable code (`conflict`, `unavailable`, `internal`, logged here with details).
    public static func boundary<Output: Sendable>(_ context: RequestContext, _ work: () async throws -> Output) async throws -> Output {
        do {
            return try await work()
        } catch let error as ConcordError {
            throw Self.placed(error)
        } catch let error as RecordError {
            throw Self.translate(error, context: context)
        } catch let error as StorageError {
            throw Self.translate(error, context: context)
        }
    }

    /// Any error as the wire says it: a `ConcordError` placed, a store failure translated,
    /// anything else `internal` (logged).
    public static func wire(_ error: any Error, context: RequestContext) -> ConcordError {
        switch error {
        case let error as ConcordError: return Self.placed(error)
        case let error as RecordError: return Self.translate(error, context: context)
        case let error as StorageError: return Self.translate(error, context: context)
        default:
            context.logger.error("handler failed", metadata: [LogKey.error: "\(error)"])
            return ConcordError(.internal, "internal error while handling '\(context.verb)'; the server log has details")
        }
    }

    /// A field name as the request has it: a field rule names a body field by its name alone
    /// (`name`), which becomes `body.name`; a field already placed (`body.…`, `metadata.…`,
    /// `verb`) stays as it is.
    public static func placed(_ error: ConcordError) -> ConcordError {
        var error = error
        if let field = error.field, !field.hasPrefix("body"), !field.hasPrefix("metadata."), field != "verb" {
            error.field = "body." + field
        }
        return error
    }

    /// What the record store refused, as the wire says it: a stable code for each reason, and
    /// the field placed in the request (the idempotency key is the request's metadata, by the
    /// reason itself). A kind's declaration that does not hold is logged, and `internal`.
    static func translate(_ error: RecordError, context: RequestContext) -> ConcordError {
        let said = Self.said(error)
        guard said.code == .internal else { return said }
        context.logger.error("a kind's declaration does not hold", metadata: [LogKey.error: "\(error)"])
        return ConcordError(.internal, "internal error while handling '\(context.verb)'; the server log has details")
    }

    /// `translate` without the log: what the wire says of each reason.
    static func said(_ error: RecordError) -> ConcordError {
        let field = error.field.map { "body." + $0 }
        let rule = Self.rule(of: error.reason)
        switch error.reason {
        case .notFound:
            return ConcordError(.notFound, error.message, field: field, rule: rule)
        case .exists, .versionMoved, .stillNamed, .differsFromStored:
            return ConcordError(.conflict, error.message, field: field, rule: rule)
        case .idempotencyKeyReused:
            return ConcordError(.conflict, error.message, field: "metadata." + Metadata.Key.idempotencyKey)
        case .unknownReference, .keyChanged, .invalidRow, .pastTheEnd:
            return ConcordError(.badRequest, error.message, field: field, rule: rule)
        case .notConfirmed:
            return ConcordError(.unavailable, error.message, field: field, unprocessed: true)
        case .misdeclared:
            return ConcordError(.internal, error.message)
        }
    }

    /// The rule a reason is, where the protocol has one (docs/protocol.md, Rules).
    static func rule(of reason: RecordError.Reason) -> Rule? {
        switch reason {
        case .notFound: .noRecord
        case .exists: .exists
        case .versionMoved: .versionMoved
        case .stillNamed: .stillNamed
        case .unknownReference: .unknownReference
        default: nil
        }
    }

        static func translate(_ error: StorageError, context: RequestContext) -> ConcordError {
        switch error.code {
        case .uniqueViolation:
            return ConcordError(.conflict, "a record with the same key already exists (\(error.constraint ?? error.message))", rule: .exists)
        case .foreignKeyViolation:
            return ConcordError(.conflict, "the change would leave a reference to a missing record (\(error.message))", rule: .unknownReference)
        case .unavailable:
            context.logger.warning("store unavailable", metadata: [LogKey.error: "\(error)"])
            return ConcordError(.unavailable, "the store is unavailable; retry shortly")
        default:
            context.logger.error("store failed", metadata: [LogKey.error: "\(error)"])
            return ConcordError(.internal, "the store failed while handling '\(context.verb)'; the server log has details")
        }
    }
}
