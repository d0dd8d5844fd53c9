import ConcordPool
import ConcordProtocol
import ConcordRecords
import ConcordStorage
import NIOCore

/// Checks remote references by calling each one's `get` on the service that keeps it, through
/// that service's replica pool, within a deadline. A reference that does not exist is the
/// caller's `bad_request`; a service that cannot answer makes the write `unavailable`, naming it:
/// nothing is written either way.
public struct PoolReferenceChecker: RemoteReferenceChecker {
    let pools: [String: ServicePool]
    let deadline: Duration

    public init(pools: [String: ServicePool], deadline: Duration = .seconds(3)) {
        self.pools = pools
        self.deadline = deadline
    }

    public func check(_ references: [RemoteReference]) async throws(ConcordError) {
        var seen: Set<RemoteReference> = []
        for reference in references where seen.insert(reference).inserted {
            guard let pool = self.pools[reference.service] else {
                throw ConcordError(.unavailable, "\(reference.service) is not configured here, so \(reference.noun) \(RecordStore.show(reference.key)) cannot be checked; nothing was written")
            }
            let body: String
            switch reference.key {
            case .integer(let value): body = "{\"\(reference.keyField)\":\(value)}"
            default:
                var buffer = ByteBuffer(string: "{\"\(reference.keyField)\":")
                JSONString.write(RecordStore.show(reference.key), into: &buffer)
                buffer.writeString("}")
                body = String(buffer: buffer)
            }
            do {
                _ = try await pool.call("\(reference.service).\(reference.kind).get", body: ByteBuffer(string: body), deadline: self.deadline)
            } catch where error.code == .notFound {
                throw ConcordError(.badRequest, "unknown \(reference.noun) \(RecordStore.show(reference.key)) (\(reference.service) has none)", field: reference.field)
            } catch {
                throw ConcordError(
                    .unavailable,
                    "\(reference.service) could not be asked whether \(reference.noun) \(RecordStore.show(reference.key)) exists (\(error.code): \(error.message)); nothing was written, retry shortly"
                )
            }
        }
    }
}
