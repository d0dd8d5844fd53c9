import ConcordProtocol
import ConcordStorage
import NIOConcurrencyHelpers

/// What a batch import did.
public struct ImportOutcome: Codable, Sendable, Equatable {
    public var created: Int
    public var present: Int
}

extension RecordStore {
    /// Creates every record of a batch in one transaction: all or nothing. A record whose key
    /// exists with the same content is counted as present, so a batch sent again (after an
    /// interruption, say) writes nothing twice; the same key with other content fails the
    /// whole batch as a conflict naming it. The batch is one audit entry, with its counts and
    /// its first and last keys (the rows it created carry the entry's time as `createdAt`).
    /// Rows are looked up and written many to a statement.
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
        let prepared = try await Self.offLoop { () throws -> Prepared<Record> in try Self.prepare(inputs, now: now) }
        for record in prepared.records { try await self.checkRemoteReferences(of: record) }
        let batch = prepared.records
        let batchDocuments = prepared.documents
        let batchRows = prepared.rows
        return try await self.database.write { session in
            for record in batch { try await Self.checkReferences(of: record, in: session) }
            // What is there already must be the same figure; else the batch is a conflict. The
            // keys are looked up many to a statement: a fresh import finds none, and reads no row.
            var stored: [SQLValue: String] = [:]
            for chunk in stride(from: 0, to: batch.count, by: 500).map({ $0..<min($0 + 500, batch.count) }) {
                let rows = try await session.query(Self.lookupStatement(table: Record.table, keyField: Record.keyField, keys: chunk.count), chunk.map { batch[$0].key })
                for row in rows { stored[row["record_key"]] = try row.text("doc") }
            }
            var fresh: [Record] = []
            var freshRows: [[SQLValue]] = []
            var present: [Int] = []
            if stored.isEmpty {
                fresh = batch
                freshRows = batchRows
            } else {
                for (index, record) in batch.enumerated() {
                    guard let known = stored[record.key] else {
                        fresh.append(record)
                        freshRows.append(batchRows[index])
                        continue
                    }
                    guard known == batchDocuments[index] else {
                        throw ConcordError(
                            .conflict,
                            "row \(index): \(Record.noun) \(Self.show(record.key)) exists with other values; a revision is a new record (its own publication date)",
                            field: "rows[\(index)]"
                        )
                    }
                    present.append(index)
                }
            }
            if let first = fresh.first { try await Self.insertAll(freshRows, columns: Self.columns(of: first), table: Record.table, in: session) }
            var change: JSONObject = ["created": .integer(Int64(fresh.count)), "present": .integer(Int64(present.count))]
            if let first = fresh.first, let last = fresh.last {
                change["firstCreated"] = .string(Self.show(first.key))
                change["lastCreated"] = .string(Self.show(last.key))
            }
            try await AuditTrail.append(
                kind: Record.table, key: "import of \(batch.count)", operation: .create, before: nil, after: nil,
                change: .object(change), context: context, at: now, in: session
            )
            let extra = try await within(RecordTransaction(session: session, context: context, now: now), fresh)
            return (ImportOutcome(created: fresh.count, present: present.count), extra)
        }
    }
}

/// Statements by kind and size: a batch's full chunks share one text.
private let statements = NIOLockedValueBox<[String: String]>([:])

extension RecordStore {
    /// `INSERT ... VALUES ($1, ...), (...)` for `rows` rows; built once for each size.
    static func insertStatement(table: String, columns: [String], rows: Int) -> String {
        Self.cachedStatement("insert|\(table)|\(columns.joined(separator: ","))|\(rows)") {
            var sql = "INSERT INTO \(table) (\(columns.joined(separator: ", "))) VALUES "
            var bind = 1
            for row in 0..<rows {
                sql += row == 0 ? "(" : ", ("
                for column in 0..<columns.count {
                    sql += column == 0 ? "$\(bind)" : ", $\(bind)"
                    bind += 1
                }
                sql += ")"
            }
            return sql
        }
    }

    /// `SELECT key, doc ... WHERE key IN ($1, ...)` for `keys` keys.
    static func lookupStatement(table: String, keyField: String, keys: Int) -> String {
        Self.cachedStatement("lookup|\(table)|\(keys)") {
            "SELECT \(keyField) AS record_key, doc FROM \(table) WHERE \(keyField) IN (" + (1...keys).map { "$\($0)" }.joined(separator: ", ") + ")"
        }
    }

    private static func cachedStatement(_ key: String, build: () -> String) -> String {
        if let known = statements.withLockedValue({ $0[key] }) { return known }
        let sql = build()
        statements.withLockedValue { cache in
            if cache.count > 64 { cache.removeAll() }
            cache[key] = sql
        }
        return sql
    }

    /// A batch checked and encoded: records in stored form, their documents, and each one's
    /// values in `columns(of:)` order.
    struct Prepared<Record: StoredRecord>: Sendable {
        var records: [Record] = []
        var documents: [String] = []
        var rows: [[SQLValue]] = []
    }

    static func prepare<Record: StoredRecord>(_ inputs: [Record], now: String) throws -> Prepared<Record> {
        var prepared = Prepared<Record>()
        prepared.records.reserveCapacity(inputs.count)
        prepared.documents.reserveCapacity(inputs.count)
        prepared.rows.reserveCapacity(inputs.count)
        var seen: Set<SQLValue> = []
        seen.reserveCapacity(inputs.count)
        for (index, input) in inputs.enumerated() {
            var record: Record
            do {
                record = try input.normalised(isNew: true)
            } catch {
                throw ConcordError(.badRequest, "row \(index): \(error.message)", field: "rows[\(index)]" + (error.field.map { "." + $0 } ?? ""))
            }
            guard seen.insert(record.key).inserted else {
                throw ConcordError(.badRequest, "row \(index): \(Record.noun) \(Self.show(record.key)) is twice in the batch", field: "rows[\(index)]")
            }
            record.version = 1
            record.createdAt = now
            record.updatedAt = now
            let document = try record.document()
            var row: [SQLValue] = [record.key, .integer(1), .text(document), .text(record.searchText), .text(now), .text(now)]
            for (_, value) in record.columns { row.append(value) }
            prepared.documents.append(document)
            prepared.rows.append(row)
            prepared.records.append(record)
        }
        return prepared
    }

    /// Runs CPU-bound work on the global executor rather than the caller's (an event loop).
    static func offLoop<Result: Sendable>(_ work: @escaping @Sendable () throws -> Result) async throws -> Result {
        try await Task.detached(priority: .medium) { try work() }.value
    }

    /// The columns a record is inserted into, in the order `prepare` gives its values.
    static func columns<Record: StoredRecord>(of record: Record) -> [String] {
        [Record.keyField, "version", "doc", "search", "created_at", "updated_at"] + record.columns.map(\.0)
    }

    /// Inserts rows of values many to a statement (each statement is a trip to the engine).
    static func insertAll(_ rows: [[SQLValue]], columns: [String], table: String, in session: any DatabaseSession) async throws {
        // SQLite allows 32,766 binds a statement, PostgreSQL 65,535.
        let perStatement = max(1, min(500, 30_000 / columns.count))
        var start = 0
        while start < rows.count {
            let end = min(start + perStatement, rows.count)
            var binds: [SQLValue] = []
            binds.reserveCapacity((end - start) * columns.count)
            for row in rows[start..<end] { binds.append(contentsOf: row) }
            try await session.query(Self.insertStatement(table: table, columns: columns, rows: end - start), binds)
            start = end
        }
    }
}
