import ConcordProtocol
import ConcordWire
import ConcordStorage
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Create, read, update, delete and list for any `StoredRecord`, on either engine. Every write
/// is one transaction that also writes its audit entry; versions make updates optimistic;
/// references are checked inside the same transaction that writes, so nothing ever points at a
/// missing record. A kind says what it reads with values (`RecordFilter.Condition`,
/// `RecordOrder`) that the store turns into SQL. The one kind of statement outside this module is
/// trade-metrics' series totals (`SeriesTotals`: its own table, written in the import's
/// transaction through `RecordTransaction.query`).
public struct RecordStore: Sendable {
    public let database: any Database
    /// Checks references to other services' records before a write; nil: the kinds have none.
    public var remote: (any RemoteReferenceChecker)?
    /// Asks the services that may name this store's records before one is deleted; nil: such a
    /// delete is refused (`deleteNamedRecord`).
    public var holders: (any RemoteHoldersChecker)?
    /// A write naming another service's records commits within this of checking them; a delete
    /// of a record others may name waits this (and half a second) before asking them. The two
    /// sides of a deployment must agree.
    public var referenceFreshness: Duration = .seconds(2)
    /// Timestamps for createdAt, updatedAt and the audit trail; tests may pin it.
    public var now: @Sendable () -> String = { Date.ISO8601FormatStyle(includingFractionalSeconds: true).format(Date()) }

    /// What this process committed last to the change feed (`changes {wait}` answers from it).
    let recentChanges = RecentChanges()
    /// How the tables written so far are laid out (`TableLayout`).
    let schema = SchemaFacts()

    public init(database: any Database, remote: (any RemoteReferenceChecker)? = nil) {
        self.database = database
        self.remote = remote
    }

    /// Asks the other services that what `record` names there exists: before the transaction,
    /// so no lock is held across the network. Returns when it asked (nil: nothing to ask); the
    /// write must commit within `referenceFreshness` of it (`requireFresh`).
    @discardableResult
    func checkRemoteReferences<Record: StoredRecord>(of record: Record) async throws -> ContinuousClock.Instant? {
        let references = record.remoteReferences
        guard !references.isEmpty else { return nil }
        let declared = Record.remoteKinds
        for reference in references {
            let field = Self.withoutIndexes(reference.field)
            guard declared.contains(where: { $0.service == reference.service && $0.kind == reference.kind && $0.fields.contains(field) }) else {
                throw RecordError(.misdeclared, "\(Record.noun).\(field) names \(reference.service).\(reference.kind), which the kind does not declare in remoteKinds")
            }
        }
        guard let remote = self.remote else {
            throw RecordError(.misdeclared, "\(Record.noun) refers to records of another service, and this store cannot ask it")
        }
        let checkedAt = ContinuousClock.now
        try await remote.check(references)
        return checkedAt
    }

    /// `parties[2].party.official` as `parties[].party.official`, as `remoteKinds` declares it.
    static func withoutIndexes(_ field: String) -> String {
        var out = ""
        var inIndex = false
        for character in field {
            if character == "[" { inIndex = true; out.append(character) } else if character == "]" { inIndex = false; out.append(character) } else if !inIndex { out.append(character) }
        }
        return out
    }

    // MARK: Create

    /// Creates `input`. With an idempotency key, a retry of the same request returns the first
    /// result and creates nothing; the same key on a different request is a conflict.
    public func create<Record: StoredRecord>(_ input: Record, context: WriteContext) async throws -> Record {
        let verb = context.verb
        let idempotencyKey = context.idempotencyKey
        let request = try Self.canonicalJSON(input)
        var record = try input.normalised(isNew: true)
        record.version = 1
        let now = self.now()
        record.createdAt = now
        record.updatedAt = now
        let created = record
        // Found in the transaction, or by the engine when another writer got there first.
        let taken = RecordError(.exists, "\(Record.noun) \(Self.show(created.key)) already exists", field: Record.keyField)
        let checkedAt = try await self.checkRemoteReferences(of: created)
        let freshness = self.referenceFreshness
        let layout = try await self.layout(Record.self)
        do {
            return try await self.write { session in
                if let idempotencyKey,
                   let replay: Record = try await Self.replay(idempotencyKey, verb: verb, request: request, in: session) {
                    return replay
                }
                try await Self.checkReferences(of: created, in: session)
                if try await Self.exists(Record.self, key: created.key, in: session) {
                    throw taken
                }
                try await Self.insert(created, layout: layout, in: session)
                try await AuditTrail.append(
                    operation: .create, record: created, before: nil, change: try Self.jsonValue(created.withoutMeta()),
                    context: context, at: now, in: session
                )
                try await Record.afterWrite(old: nil, new: created, in: RecordTransaction(session: session, context: context, now: now, schema: self.schema))
                if let idempotencyKey {
                    try await session.query(
                        "INSERT INTO idempotency_keys (key, verb, request, response, created_at) VALUES ($1, $2, $3, $4, $5)",
                        [.text(idempotencyKey), .text(verb), .text(request), .text(try Self.canonicalJSON(created)), .text(now)]
                    )
                }
                try Self.requireFresh(checkedAt, within: freshness)
                return created
            }
        } catch let error as StorageError where error.code == .uniqueViolation {
            // Another writer got there between our check and our insert (PostgreSQL replicas).
            // With a key, that was a racing retry: answer with the winner's result.
            if let idempotencyKey,
               let replay: Record = try await self.database.read({ session in
                   try await Self.replay(idempotencyKey, verb: verb, request: request, in: session)
               }) {
                return replay
            }
            throw taken
        }
    }

    private static func replay<Record: StoredRecord>(
        _ key: String, verb: String, request: String, in session: any DatabaseSession
    ) async throws -> Record? {
        guard let row = try await session.first(
            "SELECT verb, request, response FROM idempotency_keys WHERE key = $1", [.text(key)]
        ) else { return nil }
        guard try row.text("verb") == verb, try row.text("request") == request else {
            throw RecordError(
                .idempotencyKeyReused, "idempotency key '\(key)' was already used for a different request; use a new key for a new request"
            )
        }
        return try Self.decode(Record.self, json: try row.text("response"))
    }

    // MARK: Read

    public func get<Record: StoredRecord>(_ type: Record.Type, key: SQLValue) async throws -> Record {
        try await self.database.read { session in
            guard let record = try await Self.fetch(Record.self, key: key, in: session) else {
                throw Self.noRecord(Record.self, key)
            }
            return record
        }
    }

    /// The records with `keys`, in one query, by key; a key with no record is absent.
    public func get<Record: StoredRecord>(_ type: Record.Type, keys: [SQLValue]) async throws -> [SQLValue: Record] {
        guard !keys.isEmpty else { return [:] }
        var found: [SQLValue: Record] = [:]
        for row in try await self.rows(Record.self, keys: keys) {
            found[row["record_key"]] = try Self.record(Record.self, from: row)
        }
        return found
    }

    /// The record with `key` as the JSON its get answers: the stored document with version and
    /// timestamps added, without decoding it.
    public func getJSON<Record: StoredRecord>(_ type: Record.Type, key: SQLValue) async throws -> String {
        guard let json = try await self.getJSON(Record.self, keys: [key])[key] else {
            throw Self.noRecord(Record.self, key)
        }
        return json
    }

    /// The stored rows of `keys` (each key once), with the key as `record_key`, in one query.
    private func rows<Record: StoredRecord>(_ type: Record.Type, keys: [SQLValue]) async throws -> [SQLRow] {
        let unique = Array(Set(keys))
        let placeholders = (1...max(1, unique.count)).map { "$\($0)" }.joined(separator: ", ")
        return try await self.database.read { session in
            try await session.query(
                """
                SELECT \(Record.keyField) AS record_key, version, doc, created_at, updated_at FROM \(Record.table)
                WHERE \(Record.keyField) IN (\(placeholders))
                """,
                unique
            )
        }
    }

    /// The records with `keys` as their gets answer them, in one query; absent keys are absent.
    public func getJSON<Record: StoredRecord>(_ type: Record.Type, keys: [SQLValue]) async throws -> [SQLValue: String] {
        let rows = try await self.rows(Record.self, keys: keys)
        var found: [SQLValue: String] = [:]
        found.reserveCapacity(rows.count)
        for row in rows {
            let document = try row.text("doc")
            guard document.hasPrefix("{"), document.hasSuffix("}"), document.utf8.count > 2 else {
                throw StorageError(.corrupt, "a stored \(Record.noun) is not a JSON object")
            }
            // Timestamps are ISO 8601 and the version an integer: nothing to escape.
            found[row["record_key"]] = String(document.dropLast())
                + ",\"createdAt\":\"\(try row.text("created_at"))\",\"updatedAt\":\"\(try row.text("updated_at"))\",\"version\":\(try row.integer("version"))}"
        }
        return found
    }

    /// One page of records in key order, narrowed by filters and, for search, by text.
    public func list<Record: StoredRecord>(
        _ type: Record.Type,
        filters: [(RecordFilter, SQLValue)],
        text: String?,
        limit: Int,
        after cursor: SQLValue?
    ) async throws -> Page<Record> {
        var filters = filters
        if let text {
            filters.append((RecordFilter(field: "q", .containsText("search")), .text(text.lowercased())))
        }
        if let cursor {
            filters.append((RecordFilter(field: "cursor", .above(Record.keyField)), cursor))
        }
        let final = filters
        let records = try await self.database.read { session in
            try await Self.select(Record.self, filters: final, order: nil, limit: limit + 1, in: session)
        }
        let items = Array(records.prefix(limit))
        let nextCursor = records.count > limit ? items.last.map { Cursor.encode($0.key) } : nil
        return Page(items: items, nextCursor: nextCursor)
    }

    /// Records narrowed by filters, in the kind's declared `order` (key order without one), at
    /// most `limit`: what a kind's own read verbs (overdue actions, say) are made of.
    public func select<Record: StoredRecord>(
        _ type: Record.Type, filters: [(RecordFilter, SQLValue)], order: RecordOrder?, limit: Int
    ) async throws -> [Record] {
        try await self.database.read { session in
            try await Self.select(Record.self, filters: filters, order: order, limit: limit, in: session)
        }
    }

    /// How many records the filters leave: for a gauge, without reading a document.
    public func count<Record: StoredRecord>(_ type: Record.Type, filters: [(RecordFilter, SQLValue)]) async throws -> Int {
        let (whereClause, binds) = Self.whereClause(filters)
        let rows = try await self.database.read { session in
            try await session.query("SELECT COUNT(*) AS n FROM \(Record.table) \(whereClause)", binds)
        }
        return Int(try rows.first?.integer("n") ?? 0)
    }

    private static func whereClause(_ filters: [(RecordFilter, SQLValue)]) -> (String, [SQLValue]) {
        var conditions: [String] = []
        var binds: [SQLValue] = []
        for (filter, value) in filters {
            conditions.append(Self.sql(filter.condition, value: value, binds: &binds))
        }
        return (conditions.isEmpty ? "" : "WHERE " + conditions.joined(separator: " AND "), binds)
    }

    static func select<Record: StoredRecord>(
        _ type: Record.Type, filters: [(RecordFilter, SQLValue)], order: RecordOrder?, limit: Int, in session: any DatabaseSession
    ) async throws -> [Record] {
        let (whereClause, binds) = Self.whereClause(filters)
        let rows = try await session.query(
            """
            SELECT version, doc, created_at, updated_at FROM \(Record.table) \(whereClause)
            ORDER BY \((order?.columns ?? [Record.keyField]).joined(separator: ", ")) LIMIT \(limit)
            """,
            binds
        )
        return try rows.map { row in try Self.record(Record.self, from: row) }
    }

    /// Filters by body field, as `list` takes them: for a kind's own reads.
    public static func filters<Record: StoredRecord>(_ type: Record.Type, _ values: [String: SQLValue]) throws(RecordError) -> [(RecordFilter, SQLValue)] {
        try values.sorted { $0.key < $1.key }.map { field, value throws(RecordError) in
            guard let filter = Record.filters.first(where: { $0.field == field }) else {
                throw RecordError(.misdeclared, "\(Record.noun) has no filter '\(field)'")
            }
            return (filter, value)
        }
    }

    // MARK: Update

    /// Applies `patch` (fields to change; null clears an optional field) to the record with
    /// `key`, if its version is still `expectedVersion`.
    public func update<Record: StoredRecord>(
        _ type: Record.Type, key: SQLValue, expectedVersion: Int64, patch: JSONObject, context: WriteContext
    ) async throws -> Record {
        try await self.change(Record.self, key: key, expectedVersion: expectedVersion, operation: .update, change: .object(patch), context: context) { document in
            var document = document
            for (field, value) in patch {
                if value == .null { document[field] = nil } else { document[field] = value }
            }
            return try RecordBody.record(Record.self, from: document)
        }
    }

    /// Rewrites the record with `key` at `expectedVersion` through `transform`, which gets the
    /// stored document and returns the new record (checked with `normalised`): the one path of
    /// every change to an existing record, a kind's own verbs included. `change` is what the
    /// audit trail keeps.
    public func change<Record: StoredRecord>(
        _ type: Record.Type,
        key: SQLValue,
        expectedVersion: Int64,
        operation: AuditEntry.Operation = .change,
        change: JSONValue,
        context: WriteContext,
        _ transform: @escaping @Sendable (JSONObject) throws -> Record
    ) async throws -> Record {
        // Read and check outside the transaction (another service may be asked about
        // references); the write then commits only if the version is still the one read.
        guard let row = try await self.database.read({ session in
            try await session.first("SELECT version, doc, created_at, updated_at FROM \(Record.table) WHERE \(Record.keyField) = $1", [key])
        }) else {
            throw Self.noRecord(Record.self, key)
        }
        let current = try row.integer("version")
        guard current == expectedVersion else {
            throw RecordError(
                .versionMoved,
                "\(Record.noun) \(Self.show(key)) is at version \(current), not \(expectedVersion); read it again and reapply the change",
                field: "version"
            )
        }
        let old = try Self.record(Record.self, from: row)
        var record = try transform(try Self.decode(JSONObject.self, json: try row.text("doc"))).normalised(isNew: false)
        guard record.key == key else {
            throw RecordError(.keyChanged, "\(Record.keyField) cannot change; create a new \(Record.noun) instead", field: Record.keyField)
        }
        let checkedAt = try await self.checkRemoteReferences(of: record)
        let freshness = self.referenceFreshness
        let now = self.now()
        record.version = current + 1
        record.createdAt = try row.text("created_at")
        record.updatedAt = now
        let written = record
        let layout = try await self.layout(Record.self)
        return try await self.write { session in
            try await Self.checkReferences(of: written, in: session)
            try await Self.write(written, over: current, layout: layout, in: session)
            try await AuditTrail.append(
                operation: operation, record: written, before: current, change: change, context: context, at: now, in: session
            )
            try await Record.afterWrite(old: old, new: written, in: RecordTransaction(session: session, context: context, now: now, schema: self.schema))
            try Self.requireFresh(checkedAt, within: freshness)
            return written
        }
    }

    /// Replaces the stored record with `record` if it is still at `version`; else a conflict.
    static func write<Record: StoredRecord>(
        _ record: Record, over version: Int64, layout: TableLayout, in session: any DatabaseSession
    ) async throws {
        var assignments = ["version = $1", "updated_at = $2"]
        var binds: [SQLValue] = [.integer(record.version ?? version + 1), .text(record.updatedAt ?? "")]
        try Self.forEachContent(of: record, layout: layout) { column, value in
            binds.append(value)
            assignments.append("\(column) = $\(binds.count)")
        }
        binds.append(record.key)
        binds.append(.integer(version))
        let updated = try await session.query(
            """
            UPDATE \(layout.rows) SET \(assignments.joined(separator: ", "))
            WHERE \(Record.keyField) = $\(binds.count - 1) AND version = $\(binds.count) RETURNING version
            """,
            binds
        )
        guard !updated.isEmpty else {
            throw RecordError(
                .versionMoved, "\(Record.noun) \(Self.show(record.key)) changed meanwhile; read it again and reapply the change", field: "version"
            )
        }
        try await Self.indexRemoteReferences(Record.self, key: record.key, record: record, in: session)
    }

    // MARK: Delete

    /// Deletes the record with `key` (at `expectedVersion`, when given), unless something still refers to it.
    public func delete<Record: StoredRecord>(_ type: Record.Type, key: SQLValue, expectedVersion: Int64?, context: WriteContext) async throws {
        if Record.namedByOtherServices {
            try await self.deleteNamedRecord(Record.self, key: key, expectedVersion: expectedVersion, context: context)
        } else {
            try await self.deleteNow(Record.self, key: key, expectedVersion: expectedVersion, context: context) { _ in }
        }
    }

    /// The delete itself, in one transaction, with `also` (clearing a retiring mark) in it.
    func deleteNow<Record: StoredRecord>(
        _ type: Record.Type, key: SQLValue, expectedVersion: Int64?, context: WriteContext,
        also: @escaping @Sendable (any DatabaseSession) async throws -> Void
    ) async throws {
        let now = self.now()
        let layout = try await self.layout(Record.self)
        try await self.write { session in
            let row = try await Self.rowToDelete(Record.self, key: key, expectedVersion: expectedVersion, in: session)
            let current = try row.integer("version")
            let old = try Self.decode(Record.self, json: try row.text("doc"))
            try await session.query("DELETE FROM \(layout.rows) WHERE \(Record.keyField) = $1", [key])
            try await Self.indexRemoteReferences(Record.self, key: key, record: nil, in: session)
            try await also(session)
            try await AuditTrail.append(
                kind: Record.table, key: Self.show(key), operation: .delete, before: current, after: nil,
                change: .object(try Self.decode(JSONObject.self, json: try row.text("doc"))), context: context, at: now, in: session
            )
            try await Record.afterWrite(old: old, new: nil, in: RecordTransaction(session: session, context: context, now: now, schema: self.schema))
        }
    }

    /// The stored row (version and document) of a record about to be deleted, or why it may not
    /// be: not found, not at `expectedVersion` (when given), or still named by records of this
    /// store.
    static func rowToDelete<Record: StoredRecord>(
        _ type: Record.Type, key: SQLValue, expectedVersion: Int64?, in session: any DatabaseSession
    ) async throws -> SQLRow {
        guard let row = try await session.first("SELECT version, doc FROM \(Record.table) WHERE \(Record.keyField) = $1", [key]) else {
            throw Self.noRecord(Record.self, key)
        }
        let current = try row.integer("version")
        if let expectedVersion, current != expectedVersion {
            throw RecordError(.versionMoved, "\(Record.noun) \(Self.show(key)) is at version \(current), not \(expectedVersion)", field: "version")
        }
        try await Self.refuseWhileReferenced(Record.self, key: key, in: session)
        return row
    }

    /// A conflict while records of this store still name `key`.
    static func refuseWhileReferenced<Record: StoredRecord>(_ type: Record.Type, key: SQLValue, in session: any DatabaseSession) async throws {
        var holders: [String] = []
        for reference in Record.referencedBy {
            let count = try await session.first(
                "SELECT COUNT(*) AS n FROM \(reference.table) WHERE \(reference.column) = $1", [key]
            )?.integer("n") ?? 0
            if count > 0 { holders.append("\(count) \(reference.nouns)") }
        }
        guard holders.isEmpty else {
            throw RecordError(
                .stillNamed,
                "\(Record.noun) \(Self.show(key)) is still referenced by \(holders.joined(separator: ", ")); delete or change those first",
                field: Record.keyField
            )
        }
    }

    // MARK: Rows

    public static func fetch<Record: StoredRecord>(_ type: Record.Type, key: SQLValue, in session: any DatabaseSession) async throws -> Record? {
        try await session.first(
            "SELECT version, doc, created_at, updated_at FROM \(Record.table) WHERE \(Record.keyField) = $1", [key]
        ).map { try Self.record(Record.self, from: $0) }
    }

    public static func exists<Record: StoredRecord>(_ type: Record.Type, key: SQLValue, in session: any DatabaseSession) async throws -> Bool {
        try await session.first("SELECT 1 AS found FROM \(Record.table) WHERE \(Record.keyField) = $1", [key]) != nil
    }

    static func record<Record: StoredRecord>(_ type: Record.Type, from row: SQLRow) throws -> Record {
        var record = try Self.decode(Record.self, json: try row.text("doc"))
        record.version = try row.integer("version")
        record.createdAt = try row.text("created_at")
        record.updatedAt = try row.text("updated_at")
        return record
    }

    static func insert<Record: StoredRecord>(_ record: Record, layout: TableLayout, in session: any DatabaseSession) async throws {
        var columns = [Record.keyField, "version", "created_at", "updated_at"]
        var binds: [SQLValue] = [record.key, .integer(record.version ?? 1), .text(record.createdAt ?? ""), .text(record.updatedAt ?? "")]
        try Self.forEachContent(of: record, layout: layout) { column, value in
            columns.append(column)
            binds.append(value)
        }
        let placeholders = (1...binds.count).map { "$\($0)" }.joined(separator: ", ")
        try await session.query(
            "INSERT INTO \(layout.rows) (\(columns.joined(separator: ", "))) VALUES (\(placeholders))", binds
        )
        try await Self.indexRemoteReferences(Record.self, key: record.key, record: record, in: session)
    }

    static func checkReferences<Record: StoredRecord>(of record: Record, in session: any DatabaseSession) async throws {
        for reference in record.references {
            let found = try await session.first(
                "SELECT 1 AS found FROM \(reference.table) WHERE \(reference.keyColumn) = $1", [reference.value]
            )
            if found == nil {
                throw RecordError(.unknownReference, "unknown \(reference.noun) \(Self.show(reference.value))", field: reference.field)
            }
        }
    }

    // MARK: JSON

    public static func canonicalJSON<Value: Encodable>(_ value: Value) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(value), as: UTF8.self)
    }

    public static func decode<Value: Decodable>(_ type: Value.Type, json: String) throws -> Value {
        do {
            return try JSONDecoder().decode(Value.self, from: Data(json.utf8))
        } catch {
            throw StorageError(.corrupt, "a stored \(Value.self) could not be decoded: \(error)")
        }
    }

    /// A value as the JSON tree the audit trail keeps.
    static func jsonValue<Value: Encodable>(_ value: Value) throws -> JSONValue {
        try Self.decode(JSONValue.self, json: try Self.canonicalJSON(value))
    }

    /// No record of `Record` has `key`: what every read and write of one record says then.
    static func noRecord<Record: StoredRecord>(_ type: Record.Type, _ key: SQLValue) -> RecordError {
        RecordError(.notFound, "no \(Record.noun) \(Self.show(key))", field: Record.keyField)
    }

    public static func show(_ key: SQLValue) -> String {
        switch key {
        case .text(let text): text
        case .integer(let value): String(value)
        case .real(let value): String(value)
        case .null: "(none)"
        }
    }

    static func escapeLike(_ text: String) -> String {
        var escaped = ""
        for character in text {
            if character == "%" || character == "_" || character == "\\" { escaped.append("\\") }
            escaped.append(character)
        }
        return escaped
    }
}

extension StoredRecord {
    /// The document as stored: version and timestamps live in their own columns.
    public func withoutMeta() -> Self {
        var copy = self
        copy.version = nil
        copy.createdAt = nil
        copy.updatedAt = nil
        return copy
    }
}

extension RecordStore {
    /// Records of a kind whose filters (by body field, as `list` takes them) equal the values:
    /// what a kind's hooks and extra verbs read with, so no SQL leaves the store.
    public func all<Record: StoredRecord>(_ type: Record.Type, where values: [String: SQLValue], limit: Int = RecordBody.maximumLimit) async throws -> [Record] {
        try await self.select(Record.self, filters: try Self.filters(Record.self, values), order: nil, limit: limit)
    }

    public func exists<Record: StoredRecord>(_ type: Record.Type, key: SQLValue) async throws -> Bool {
        try await self.database.read { session in try await Self.exists(Record.self, key: key, in: session) }
    }
}

extension RecordStore {
    /// A filter's condition as SQL, its values appended to `binds` (`$n` placeholders: both
    /// engines take them). Column and table names come from the kinds' declarations, never
    /// from a request; every value is bound.
    static func sql(_ condition: RecordFilter.Condition, value: SQLValue, binds: inout [SQLValue]) -> String {
        func bind(_ value: SQLValue) -> String {
            binds.append(value)
            return "$\(binds.count)"
        }
        switch condition {
        case .equals(let column): return "\(column) = \(bind(value))"
        case .equalsAny(let columns):
            let placeholder = bind(value)
            return "(" + columns.map { "\($0) = \(placeholder)" }.joined(separator: " OR ") + ")"
        case .atLeast(let column): return "\(column) >= \(bind(value))"
        case .atMost(let column): return "\(column) <= \(bind(value))"
        case .below(let column): return "\(column) < \(bind(value))"
        case .above(let column): return "\(column) > \(bind(value))"
        case .listHolds(let column): return "\(column) LIKE '%|' || \(bind(value)) || '|%'"
        case .subdivisionOf(let column): return "\(column) LIKE \(bind(value)) || '-%'"
        case .containsText(let column):
            let pattern: SQLValue = if case .text(let text) = value { .text("%" + Self.escapeLike(text) + "%") } else { value }
            return "\(column) LIKE \(bind(pattern)) ESCAPE '\\'"
        case .all(let conditions):
            return conditions.map { Self.sql($0, value: value, binds: &binds) }.joined(separator: " AND ")
        case .noneOf(let column, let values):
            return "\(column) NOT IN (" + values.map { bind(.text($0)) }.joined(separator: ", ") + ")"
        case .namesRecordOf(let column, let table, let key, let whereColumn):
            return "\(column) IN (SELECT \(key) FROM \(table) WHERE \(whereColumn) = \(bind(value)))"
        case .listNamesRecordOf(let column, let table, let key, let whereColumn):
            return "EXISTS (SELECT 1 FROM \(table) WHERE \(table).\(whereColumn) = \(bind(value)) AND \(column) LIKE '%|' || \(table).\(key) || '|%')"
        }
    }
}
