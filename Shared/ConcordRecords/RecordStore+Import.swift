import ConcordProtocol
import ConcordStorage
import ConcordWire

extension RecordStore {
    /// Creates every record of a batch in one transaction: all or nothing. A record whose key
    /// exists with the same content is counted as present, so a batch sent again (after an
    /// interruption, say) writes nothing twice; the same key with other content fails the
    /// whole batch as a conflict naming it. The batch is one audit entry, with its counts and
    /// its first and last keys (the rows it created carry the entry's time as `createdAt`).
    /// Rows are written many to a statement, skipping keys already there; only those are
    /// looked up (a fresh import reads nothing: a tenth less time in the writer's lock).
    public func importAll<Record: StoredRecord>(_ inputs: [Record], context: WriteContext) async throws -> ImportOutcome {
        try await self.importAll(inputs, context: context) { _, _ in () }.outcome
    }

    /// `importAll`, running `within` in the same transaction with the records it created: what
    /// a kind keeps beside its rows (a rollup, say), committed with them or not at all.
    public func importAll<Record: StoredRecord, Extra: Sendable>(
        _ inputs: [Record], context: WriteContext,
        within: @escaping @Sendable (RecordTransaction, _ created: [Record]) async throws -> Extra
    ) async throws -> (outcome: ImportOutcome, extra: Extra) {
        let now = self.now()
        // Checking and encoding thousands of rows is tens of milliseconds of CPU: done off the
        // event loop, which meanwhile keeps reading requests and resuming the writes of other
        // batches (each statement of a write resumes there).
        let layout = try await self.layout(Record.self)
        let prepared = try await Self.offLoop { () throws -> Prepared<Record> in try Self.prepare(inputs, now: now, layout: layout) }
        var firstCheck: ContinuousClock.Instant?
        for record in prepared.records {
            let checked = try await self.checkRemoteReferences(of: record)
            firstCheck = firstCheck ?? checked
        }
        let checkedAt = firstCheck
        let freshness = self.referenceFreshness
        let batch = prepared.records
        return try await self.write { session in
            for record in batch { try await Self.checkReferences(of: record, in: session) }
            // Every row is inserted unless its key is there already, the engine's fastest way
            // (one prepared statement stepped a row on SQLite): a fresh import reads nothing. A
            // key that was there must hold the same figure, else the batch is a conflict; those
            // few are looked up after.
            let skipped = try await session.insertSkippingPresent(
                into: layout.rows, columns: prepared.columns, key: Record.keyField, binds: prepared.binds
            )
            var fresh = batch
            if !skipped.isEmpty {
                var stored: [SQLValue: String] = [:]
                for start in stride(from: 0, to: skipped.count, by: 500) {
                    let keys = skipped[start..<min(start + 500, skipped.count)].map { batch[$0].key }
                    let rows = try await session.query(Self.lookupStatement(table: Record.table, keyField: Record.keyField, keys: keys.count), keys)
                    for row in rows { stored[row["record_key"]] = try row.text("doc") }
                }
                // Compared as this process writes documents: a view that makes them from
                // columns (`TableLayout`) may escape the same fields its own way.
                for index in skipped {
                    let held = try stored[batch[index].key].map { try Self.decode(Record.self, json: $0).document() }
                    guard held != (try batch[index].document()) else { continue }
                    throw RecordError(
                        .differsFromStored,
                        "row \(index): \(Record.noun) \(Self.show(batch[index].key)) exists with other values; a revision is a new record (its own publication date)",
                        field: "rows[\(index)]"
                    )
                }
                let existing = Set(skipped)
                fresh = batch.indices.filter { !existing.contains($0) }.map { batch[$0] }
            }
            var change: JSONObject = ["created": .integer(Int64(fresh.count)), "present": .integer(Int64(skipped.count))]
            if let first = fresh.first, let last = fresh.last {
                change["firstCreated"] = .string(Self.show(first.key))
                change["lastCreated"] = .string(Self.show(last.key))
            }
            try await AuditTrail.append(
                kind: Record.table, key: "import of \(batch.count)", operation: .create, before: nil, after: nil,
                change: .object(change), context: context, at: now, in: session
            )
            if !Record.remoteKinds.isEmpty {
                for record in fresh { try await Self.indexRemoteReferences(Record.self, key: record.key, record: record, in: session) }
            }
            let extra = try await within(RecordTransaction(session: session, context: context, now: now, schema: self.schema), fresh)
            try Self.requireFresh(checkedAt, within: freshness)
            return (ImportOutcome(created: fresh.count, present: skipped.count), extra)
        }
    }
}

extension RecordStore {
    /// `SELECT key, doc ... WHERE key IN ($1, ...)` for `keys` keys.
    static func lookupStatement(table: String, keyField: String, keys: Int) -> String {
        StatementTexts.cached("lookup|\(table)|\(keys)") {
            "SELECT \(keyField) AS record_key, doc FROM \(table) WHERE \(keyField) IN (" + (1...keys).map { "$\($0)" }.joined(separator: ", ") + ")"
        }
    }

    /// A batch checked and encoded: records in stored form, the columns they are inserted
    /// into, and their values in that order, row after row.
    struct Prepared<Record: StoredRecord>: Sendable {
        var records: [Record] = []
        var columns: [String] = []
        var binds: [SQLValue] = []
    }

    static func prepare<Record: StoredRecord>(_ inputs: [Record], now: String, layout: TableLayout) throws -> Prepared<Record> {
        var prepared = Prepared<Record>()
        prepared.records.reserveCapacity(inputs.count)
        var seen: Set<SQLValue> = []
        seen.reserveCapacity(inputs.count)
        for index in inputs.indices {
            var record: Record
            do {
                record = try inputs[index].normalised(isNew: true)
            } catch {
                throw RecordError(.invalidRow, "row \(index): \(error.message)", field: "rows[\(index)]" + (error.field.map { "." + $0 } ?? ""))
            }
            guard seen.insert(record.key).inserted else {
                throw RecordError(.invalidRow, "row \(index): \(Record.noun) \(Self.show(record.key)) is twice in the batch", field: "rows[\(index)]")
            }
            record.version = 1
            record.createdAt = now
            record.updatedAt = now
            // The first row names the columns; every row gives its values in that order.
            let first = index == inputs.startIndex
            if first { prepared.columns = [Record.keyField, "version", "created_at", "updated_at"] }
            prepared.binds.append(record.key)
            prepared.binds.append(.integer(1))
            prepared.binds.append(.text(now))
            prepared.binds.append(.text(now))
            try Self.forEachContent(of: record, layout: layout) { column, value in
                if first { prepared.columns.append(column) }
                prepared.binds.append(value)
            }
            if first { prepared.binds.reserveCapacity(inputs.count * prepared.columns.count) }
            prepared.records.append(record)
        }
        return prepared
    }

    /// Runs CPU-bound work on the global executor rather than the caller's (an event loop).
    static func offLoop<Result: Sendable>(_ work: @escaping @Sendable () throws -> Result) async throws -> Result {
        try await Task.detached(priority: .medium) { try work() }.value
    }

}
