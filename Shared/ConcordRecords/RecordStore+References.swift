import ConcordProtocol
import ConcordStorage
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// References between services: who names a record of another service (an index every write
/// keeps in its own transaction), whether a record may still be named (not being deleted), and
/// a delete that asks every service that may name the record before it commits.
///
/// The race between a delete and a new reference is closed by a fence of time (docs/records.md):
/// a write that names another service's record commits only within `referenceFreshness` of the
/// check that the record exists; a delete marks its record as retiring, waits longer than that,
/// and only then asks who names it. A write checked before the mark has committed by then, and
/// is counted; a write checked after it is refused, because a retiring record is not there to be
/// named.
extension RecordStore {
    /// How long a retiring mark holds: a delete that died midway leaves one that expires.
    static let retiringLifetimeMilliseconds: Int64 = 60_000

    // MARK: The index (holder side)

    /// Rewrites the index rows of the record `key` of `Record`: those of `record`, or none when
    /// it is deleted. Inside the write's transaction.
    static func indexRemoteReferences<Record: StoredRecord>(
        _ type: Record.Type, key: SQLValue, record: Record?, in session: any DatabaseSession
    ) async throws {
        guard !Record.remoteKinds.isEmpty else { return }
        let holder = Self.show(key)
        try await session.query("DELETE FROM remote_references WHERE holder_kind = $1 AND holder_key = $2", [.text(Record.table), .text(holder)])
        var seen: Set<String> = []
        for reference in record?.remoteReferences ?? [] {
            let target = Self.show(reference.key)
            guard seen.insert("\(reference.field)|\(reference.service)|\(reference.kind)|\(target)").inserted else { continue }
            try await session.query(
                """
                INSERT INTO remote_references (holder_kind, holder_key, field, service, kind, ref_key) VALUES ($1, $2, $3, $4, $5, $6)
                ON CONFLICT DO NOTHING
                """,
                [.text(Record.table), .text(holder), .text(reference.field), .text(reference.service), .text(reference.kind), .text(target)]
            )
        }
    }

    /// Fills the index from the records when it is empty and they are not (a store made before
    /// the index): one transaction, safe when several replicas start at once.
    public func rebuildRemoteReferenceIndex(kinds: [any StoredRecord.Type]) async throws {
        for kind in kinds where !kind.remoteKinds.isEmpty {
            try await self.rebuildIndex(kind)
        }
    }

    private func rebuildIndex<Record: StoredRecord>(_ type: Record.Type) async throws {
        try await self.write { session in
            guard try await session.first("SELECT 1 AS found FROM remote_references WHERE holder_kind = $1", [.text(Record.table)]) == nil else { return }
            for row in try await session.query("SELECT \(Record.keyField) AS k, version, doc, created_at, updated_at FROM \(Record.table)") {
                let record = try Self.record(Record.self, from: row)
                try await Self.indexRemoteReferences(Record.self, key: record.key, record: record, in: session)
            }
        }
    }

    /// A check of remote references is good for `referenceFreshness`: the write must commit
    /// within it, or a delete racing it could miss it. Called last inside the write's transaction.
    static func requireFresh(_ checkedAt: ContinuousClock.Instant?, within freshness: Duration) throws(RecordError) {
        guard let checkedAt, ContinuousClock.now - checkedAt > freshness else { return }
        throw RecordError(
            .notConfirmed,
            "the records this names in another service were checked more than \(freshness) before the write could commit; nothing was written, send it again"
        )
    }

    /// Every record of this store that names `kind` `key` of `service`: how many, and a few.
    public func holdings(service: String, kind: String, key: String, examples: Int = 5) async throws -> (count: Int64, examples: [RemoteHolding.Example]) {
        try await self.database.read { session in
            let count = try await session.first(
                "SELECT COUNT(*) AS n FROM remote_references WHERE service = $1 AND kind = $2 AND ref_key = $3",
                [.text(service), .text(kind), .text(key)]
            )?.integer("n") ?? 0
            let rows = try await session.query(
                """
                SELECT holder_kind, holder_key, field FROM remote_references WHERE service = $1 AND kind = $2 AND ref_key = $3
                ORDER BY holder_kind, holder_key, field LIMIT \(examples)
                """,
                [.text(service), .text(kind), .text(key)]
            )
            return (count, try rows.map { RemoteHolding.Example(kind: try $0.text("holder_kind"), key: try $0.text("holder_key"), field: try $0.text("field")) })
        }
    }

    /// Every remote record the index names, once each: what `concord doctor` checks.
    public func namedRemoteRecords() async throws -> [(service: String, kind: String, key: String, holders: Int64)] {
        try await self.database.read { session in
            try await session.query(
                "SELECT service, kind, ref_key, COUNT(*) AS n FROM remote_references GROUP BY service, kind, ref_key ORDER BY service, kind, ref_key"
            ).map { (try $0.text("service"), try $0.text("kind"), try $0.text("ref_key"), try $0.integer("n")) }
        }
    }

    // MARK: The owner side

    /// Whether `key` of `Record` may be named now: it exists and no delete of it is under way.
    public func mayBeNamed<Record: StoredRecord>(_ type: Record.Type, key: SQLValue) async throws -> Bool {
        let fresh = Self.epochMilliseconds() - Self.retiringLifetimeMilliseconds
        return try await self.database.read { session in
            guard try await Self.exists(Record.self, key: key, in: session) else { return false }
            return try await session.first(
                "SELECT 1 AS found FROM retiring WHERE kind = $1 AND record_key = $2 AND since_ms >= $3",
                [.text(Record.table), .text(Self.show(key)), .integer(fresh)]
            ) == nil
        }
    }

    /// A delete of a record other services may name: mark it retiring, wait out the fence, ask
    /// them, and delete only if none does. The mark goes whatever the outcome.
    func deleteNamedRecord<Record: StoredRecord>(
        _ type: Record.Type, key: SQLValue, expectedVersion: Int64?, context: WriteContext
    ) async throws {
        guard let holders = self.holders else {
            throw RecordError(
                .notConfirmed,
                "other services may name this \(Record.noun), and none is configured to be asked (--peer for each); nothing was deleted",
                field: Record.keyField
            )
        }
        let shown = Self.show(key)
        let now = Self.epochMilliseconds()
        try await self.write { session in
            // This store's own references first: no need to ask anyone when they refuse.
            _ = try await Self.rowToDelete(Record.self, key: key, expectedVersion: expectedVersion, in: session)
            try await session.query(
                "DELETE FROM retiring WHERE kind = $1 AND record_key = $2 AND since_ms < $3",
                [.text(Record.table), .text(shown), .integer(now - Self.retiringLifetimeMilliseconds)]
            )
            do {
                try await session.query(
                    "INSERT INTO retiring (kind, record_key, since_ms) VALUES ($1, $2, $3)", [.text(Record.table), .text(shown), .integer(now)]
                )
            } catch let error as StorageError where error.code == .uniqueViolation {
                throw RecordError(.stillNamed, "\(Record.noun) \(shown) is being deleted by another request", field: Record.keyField)
            }
        }
        do {
            // Every write that checked this record before the mark commits within the freshness.
            try await Task.sleep(for: self.referenceFreshness + .milliseconds(500))
            let holdings = try await holders.holders(of: Record.table, key: key).filter { $0.count > 0 }
            guard holdings.isEmpty else {
                let named = holdings.map { holding in
                    "\(holding.service) (\(holding.count): " + holding.examples.map { "\($0.kind) \($0.key) by \($0.field)" }.joined(separator: ", ")
                        + (holding.count > Int64(holding.examples.count) ? ", ..." : "") + ")"
                }
                throw RecordError(
                    .stillNamed,
                    "\(Record.noun) \(shown) is named by \(named.joined(separator: "; ")); change those first; nothing was deleted",
                    field: Record.keyField
                )
            }
            try await self.deleteNow(Record.self, key: key, expectedVersion: expectedVersion, context: context) { session in
                try await session.query("DELETE FROM retiring WHERE kind = $1 AND record_key = $2", [.text(Record.table), .text(shown)])
            }
        } catch {
            _ = try? await self.write { session in
                try await session.query("DELETE FROM retiring WHERE kind = $1 AND record_key = $2 AND since_ms = $3", [.text(Record.table), .text(shown), .integer(now)])
            }
            throw error
        }
    }

    static func epochMilliseconds() -> Int64 {
        Int64((Date().timeIntervalSince1970 * 1000).rounded())
    }
}

/// The holders of a store whose records no other service names (one service on its own, in a
/// test or a tool): it asks nobody, so deletes go ahead on the store's own references alone.
public struct NoOtherServices: RemoteHoldersChecker {
    public init() {}

    public func holders(of kind: String, key: SQLValue) async throws(ConcordError) -> [RemoteHolding] { [] }
}
