import ConcordFields
import ConcordProtocol
import ConcordWire
import ConcordStorage

/// Writes and reads the audit table. Entries are appended inside the transaction of the write
/// they record, and nothing updates or deletes them.
enum AuditTrail {
    static func append<Record: StoredRecord>(
        operation: AuditEntry.Operation, record: Record, before: Int64?, change: JSONValue,
        context: WriteContext, at now: String, in session: any DatabaseSession
    ) async throws {
        try await Self.append(
            kind: Record.table, key: RecordStore.show(record.key), operation: operation, before: before,
            after: record.version, change: change, context: context, at: now, in: session
        )
    }

    static func append(
        kind: String, key: String, operation: AuditEntry.Operation, before: Int64?, after: Int64?, change: JSONValue,
        context: WriteContext, at now: String, in session: any DatabaseSession
    ) async throws {
        // Time first, so ids sort as the writes happened; a random tail keeps ids of writes in
        // the same millisecond (other replicas') distinct.
        let id = now + "-" + FieldRules.randomCharacters(8)
        try await session.query(
            """
            INSERT INTO audit (id, at, verb, operation, kind, record_key, version_before, version_after, change,
                trace_id, actor, actor_role, via)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
            """,
            [
                .text(id), .text(now), .text(context.verb), .text(operation.rawValue), .text(kind), .text(key),
                before.map(SQLValue.integer) ?? .null, after.map(SQLValue.integer) ?? .null,
                .text(try RecordStore.canonicalJSON(change)), .optional(context.traceID), .text(context.actor.name),
                .optional(context.actor.role), .optional(context.actor.via),
            ]
        )
    }
}

extension RecordStore {
    /// One page of the audit trail, oldest first, narrowed by the query's filters.
    public func audit(_ query: AuditQuery) async throws -> Page<AuditEntry> {
        var conditions: [String] = []
        var binds: [SQLValue] = []
        func add(_ condition: String, _ value: String?) {
            guard let value else { return }
            binds.append(.text(value))
            conditions.append(condition.replacingPlaceholder(with: "$\(binds.count)"))
        }
        add("kind = ?", query.kind)
        add("record_key = ?", query.key)
        add("actor = ?", query.actor)
        add("at >= ?", query.from)
        // A bound without a time covers its whole day: "to 2026-12-01" includes that day.
        add("at <= ?", query.to.map { $0.count == 10 ? $0 + "T23:59:59.999Z" : $0 })
        add("id > ?", query.after)
        let whereClause = conditions.isEmpty ? "" : "WHERE " + conditions.joined(separator: " AND ")
        let sql = """
            SELECT id, at, verb, operation, kind, record_key, version_before, version_after, change, trace_id,
                actor, actor_role, via
            FROM audit \(whereClause) ORDER BY id LIMIT \(query.limit + 1)
            """
        let finalBinds = binds
        let rows = try await self.database.read { session in try await session.query(sql, finalBinds) }
        let entries = try rows.prefix(query.limit).map { row in
            AuditEntry(
                id: try row.text("id"),
                at: try row.text("at"),
                verb: try row.text("verb"),
                operation: AuditEntry.Operation(rawValue: try row.text("operation")) ?? .change,
                kind: try row.text("kind"),
                key: try row.text("record_key"),
                versionBefore: row["version_before"] == .null ? nil : try row.integer("version_before"),
                versionAfter: row["version_after"] == .null ? nil : try row.integer("version_after"),
                change: try Self.decode(JSONValue.self, json: try row.text("change")),
                traceID: row["trace_id"] == .null ? nil : try row.text("trace_id"),
                actor: try row.text("actor"),
                actorRole: row["actor_role"] == .null ? nil : try row.text("actor_role"),
                via: row["via"] == .null ? nil : try row.text("via")
            )
        }
        let next = rows.count > query.limit ? entries.last.map { Cursor.encode(.text($0.id)) } : nil
        return Page(items: entries, nextCursor: next)
    }
}

extension String {
    /// The condition with its single `?` replaced.
    func replacingPlaceholder(with placeholder: String) -> String {
        var result = ""
        for character in self {
            if character == "?" { result += placeholder } else { result.append(character) }
        }
        return result
    }
}
