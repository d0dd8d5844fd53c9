import ConcordProtocol
import ConcordStorage

/// What a batch import did.
public struct ImportOutcome: Codable, Sendable, Equatable {
    public var created: Int
    public var present: Int
}

extension RecordStore {
    /// Creates every record of a batch in one transaction: all or nothing. A record whose key
    /// exists with the same content is counted as present, so a batch sent again (after an
    /// interruption, say) writes nothing twice; the same key with other content fails the
    /// whole batch as a conflict naming it. The batch is one audit entry, listing the keys
    /// created. Rows are read and written many to a statement.
    public func importAll<Record: StoredRecord>(_ inputs: [Record], context: WriteContext) async throws -> ImportOutcome {
        var records: [Record] = []
        records.reserveCapacity(inputs.count)
        let now = self.now()
        for (index, input) in inputs.enumerated() {
            do {
                var record = try input.normalised(isNew: true)
                record.version = 1
                record.createdAt = now
                record.updatedAt = now
                records.append(record)
            } catch {
                throw ConcordError(.badRequest, "row \(index): \(error.message)", field: "rows[\(index)]" + (error.field.map { "." + $0 } ?? ""))
            }
        }
        for record in records { try await self.checkRemoteReferences(of: record) }
        let batch = records
        return try await self.database.write { session in
            // What exists already, in a few queries rather than one a row (each statement is a
            // trip to the engine's thread or server).
            var existing: [SQLValue: String] = [:]
            for chunk in stride(from: 0, to: batch.count, by: 500).map({ Array(batch[$0..<min($0 + 500, batch.count)]) }) {
                let placeholders = (1...chunk.count).map { "$\($0)" }.joined(separator: ", ")
                let rows = try await session.query(
                    "SELECT \(Record.keyField) AS record_key, doc FROM \(Record.table) WHERE \(Record.keyField) IN (\(placeholders))",
                    chunk.map(\.key)
                )
                for row in rows { existing[row["record_key"]] = try row.text("doc") }
            }
            var outcome = ImportOutcome(created: 0, present: 0)
            var fresh: [Record] = []
            var seen: Set<SQLValue> = []
            for (index, record) in batch.enumerated() {
                if let stored = existing[record.key] {
                    guard try Self.canonicalJSON(record.withoutMeta()) == stored else {
                        throw ConcordError(
                            .conflict,
                            "row \(index): \(Record.noun) \(Self.show(record.key)) exists with other values; a revision is a new record (its own publication date)",
                            field: "rows[\(index)]"
                        )
                    }
                    outcome.present += 1
                } else if !seen.insert(record.key).inserted {
                    throw ConcordError(.badRequest, "row \(index): \(Record.noun) \(Self.show(record.key)) is twice in the batch", field: "rows[\(index)]")
                } else {
                    try await Self.checkReferences(of: record, in: session)
                    fresh.append(record)
                }
            }
            try await Self.insertAll(fresh, in: session)
            outcome.created = fresh.count
            try await AuditTrail.append(
                kind: Record.table, key: "import of \(batch.count)", operation: .create, before: nil, after: nil,
                change: .object(["created": .array(fresh.map { .string(Self.show($0.key)) }), "present": .integer(Int64(outcome.present))]),
                context: context, at: now, in: session
            )
            return outcome
        }
    }
}

extension RecordStore {
    /// Inserts records many to a statement (each statement is a trip to the engine).
    static func insertAll<Record: StoredRecord>(_ records: [Record], in session: any DatabaseSession) async throws {
        guard let first = records.first else { return }
        let columns = [Record.keyField, "version", "doc", "search", "created_at", "updated_at"] + first.columns.map(\.0)
        // SQLite allows 32,766 binds a statement, PostgreSQL 65,535.
        let perStatement = max(1, min(500, 30_000 / columns.count))
        var start = 0
        while start < records.count {
            let chunk = records[start..<min(start + perStatement, records.count)]
            var binds: [SQLValue] = []
            binds.reserveCapacity(chunk.count * columns.count)
            var tuples: [String] = []
            for record in chunk {
                let first = binds.count + 1
                binds += [
                    record.key, .integer(record.version ?? 1), .text(try Self.canonicalJSON(record.withoutMeta())), .text(record.searchText),
                    .text(record.createdAt ?? ""), .text(record.updatedAt ?? ""),
                ]
                binds += record.columns.map(\.1)
                tuples.append("(" + (first..<(first + columns.count)).map { "$\($0)" }.joined(separator: ", ") + ")")
            }
            try await session.query(
                "INSERT INTO \(Record.table) (\(columns.joined(separator: ", "))) VALUES \(tuples.joined(separator: ", "))", binds
            )
            start += chunk.count
        }
    }
}
