import ConcordPool
import ConcordProtocol
import ConcordRecords
import ConcordStorage
import NIOCore

/// Checks remote references by calling each one's `may-name` on the service that keeps it, through
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
            let body = Self.keyBody(reference)
            do {
                // `may-name`, not `get`: a record being deleted is not there to be named.
                _ = try await pool.call("\(reference.service).\(reference.kind).may-name", body: ByteBuffer(string: body), deadline: self.deadline)
            } catch where error.code == .notFound {
                throw ConcordError(
                    .badRequest, "unknown \(reference.noun) \(RecordStore.show(reference.key)) (\(reference.service) has none)", field: reference.field,
                    rule: .unknownReference
                )
            } catch {
                throw ConcordError(
                    .unavailable,
                    "\(reference.service) could not be asked whether \(reference.noun) \(RecordStore.show(reference.key)) exists (\(error.code): \(error.message)); nothing was written, retry shortly"
                )
            }
        }
    }
}

extension PoolReferenceChecker {
    /// `{"<keyField>": KEY}`, the body of a get.
    static func keyBody(_ reference: RemoteReference) -> String {
        var buffer = ByteBuffer(string: "{\"\(reference.keyField)\":")
        writeKey(reference.key, into: &buffer)
        buffer.writeString("}")
        return String(buffer: buffer)
    }

    public func exists(_ reference: RemoteReference) async throws(ConcordError) -> Bool {
        guard let pool = self.pools[reference.service] else {
            throw ConcordError(.unavailable, "\(reference.service) is not configured here, so \(reference.noun) \(RecordStore.show(reference.key)) cannot be checked")
        }
        do {
            _ = try await pool.call("\(reference.service).\(reference.kind).get", body: ByteBuffer(string: Self.keyBody(reference)), deadline: self.deadline)
            return true
        } catch where error.code == .notFound {
            return false
        } catch {
            throw ConcordError(.unavailable, "\(reference.service) could not be asked whether \(reference.noun) \(RecordStore.show(reference.key)) exists (\(error.code): \(error.message))")
        }
    }
}

/// A key as JSON: a number as a number, anything else as a string.
func writeKey(_ key: SQLValue, into buffer: inout ByteBuffer) {
    switch key {
    case .integer(let value): buffer.writeString(String(value))
    default: JSONString.write(RecordStore.show(key), into: &buffer)
    }
}

/// Asks each service that may name this one's records (`holders`) who does, through its replica
/// pool, within a deadline: `SERVICE.references {kind, key}`. One that cannot answer makes the
/// delete `unavailable`, naming it: a delete is never allowed on a guess.
public struct PoolHoldersChecker: RemoteHoldersChecker {
    let service: String
    /// The services that may name this one's records: every one is asked.
    let services: [String]
    let pools: [String: ServicePool]
    let deadline: Duration

    public init(service: String, services: [String], pools: [String: ServicePool], deadline: Duration = .seconds(3)) {
        self.service = service
        self.services = services
        self.pools = pools
        self.deadline = deadline
    }

    public func holders(of kind: String, key: SQLValue) async throws(ConcordError) -> [RemoteHolding] {
        var buffer = ByteBuffer(string: "{\"kind\":")
        JSONString.write("\(self.service).\(kind)", into: &buffer)
        buffer.writeString(",\"key\":")
        writeKey(key, into: &buffer)
        buffer.writeString("}")
        var holdings: [RemoteHolding] = []
        for name in self.services.sorted() {
            guard let pool = self.pools[name] else {
                throw ConcordError(
                    .unavailable,
                    "\(name) may name \(kind) \(RecordStore.show(key)) and is not configured here (--peer \(name)=HOST:PORT); nothing was deleted"
                )
            }
            do {
                let answer = try await pool.call("\(name).references", body: buffer, deadline: self.deadline)
                let decoded = try JSONBody.decode(ReferencesAnswer.self, from: answer)
                holdings.append(RemoteHolding(service: name, count: decoded.count, examples: decoded.examples))
            } catch let error as ConcordError {
                throw ConcordError(
                    .unavailable,
                    "\(name) could not be asked whether it names \(kind) \(RecordStore.show(key)) (\(error.code): \(error.message)); nothing was deleted, retry shortly"
                )
            } catch {
                throw ConcordError(.unavailable, "\(name) answered references in a shape this service does not read (\(error)); nothing was deleted")
            }
        }
        return holdings
    }
}
