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
    /// whole batch as a conflict naming it. The batch is one audit entry, listing the keys.
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
            var outcome = ImportOutcome(created: 0, present: 0)
            var created: [JSONValue] = []
            for (index, record) in batch.enumerated() {
                let document = try Self.canonicalJSON(record.withoutMeta())
                if let existing = try await session.first(
                    "SELECT doc FROM \(Record.table) WHERE \(Record.keyField) = $1", [record.key]
                ) {
                    guard try existing.text("doc") == document else {
                        throw ConcordError(
                            .conflict,
                            "row \(index): \(Record.noun) \(Self.show(record.key)) exists with other values; a revision is a new record (its own publication date)",
                            field: "rows[\(index)]"
                        )
                    }
                    outcome.present += 1
                    continue
                }
                try await Self.checkReferences(of: record, in: session)
                try await Self.insert(record, in: session)
                created.append(.string(Self.show(record.key)))
                outcome.created += 1
            }
            try await AuditTrail.append(
                kind: Record.table, key: "import of \(batch.count)", operation: .create, before: nil, after: nil,
                change: .object(["created": .array(created), "present": .integer(Int64(outcome.present))]),
                context: context, at: now, in: session
            )
            return outcome
        }
    }
}
