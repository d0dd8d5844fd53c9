import ConcordProtocol
import ConcordStorage

/// What a kind's `afterWrite` hook may do inside the write's transaction: read records and
/// rewrite them, each rewrite versioned and audited as part of the same write.
public struct RecordTransaction: Sendable {
    let session: any DatabaseSession
    public let context: WriteContext
    let now: String
    let schema: SchemaFacts

    /// Runs a statement of the kind's own (a rollup beside its table) in this transaction.
    @discardableResult
    public func query(_ sql: String, _ binds: [SQLValue] = []) async throws -> [SQLRow] {
        try await self.session.query(sql, binds)
    }

    /// The record with `key`, as committed so far in this transaction.
    public func get<Record: StoredRecord>(_ type: Record.Type, key: SQLValue) async throws -> Record? {
        try await RecordStore.fetch(Record.self, key: key, in: self.session)
    }

    /// Records whose filters (by body field, as `list` takes them) equal the values.
    public func all<Record: StoredRecord>(_ type: Record.Type, where values: [String: SQLValue]) async throws -> [Record] {
        let filters = try RecordStore.filters(Record.self, values)
        return try await RecordStore.select(Record.self, filters: filters, order: nil, limit: 10_000, in: self.session)
    }

    /// Writes `record` (already read in this transaction) as its next version, audited with
    /// `change`, then runs its kind's `afterWrite` in turn.
    public func rewrite<Record: StoredRecord>(_ record: Record, change: JSONValue) async throws {
        guard let version = record.version else {
            throw RecordError(.misdeclared, "a \(Record.noun) to rewrite has no version")
        }
        let old = try await self.get(Record.self, key: record.key)
        var next = try record.normalised(isNew: false)
        next.version = version + 1
        next.createdAt = record.createdAt
        next.updatedAt = self.now
        let layout = try await self.schema.layout(of: Record.table) { table in try await self.session.layout(of: table) }
        try await RecordStore.write(next, over: version, layout: layout, in: self.session)
        try await AuditTrail.append(operation: .change, record: next, before: version, change: change, context: self.context, at: self.now, in: self.session)
        try await Record.afterWrite(old: old, new: next, in: self)
    }
}
