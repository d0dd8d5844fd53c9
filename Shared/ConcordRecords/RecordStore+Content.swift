import ConcordStorage
import NIOConcurrencyHelpers

/// What a write stores of a record besides its key, version and timestamps: its document and
/// search text, and its own columns. Where a kind's table is a view that makes the document
/// and search text from columns on read (the observations an import writes in millions), the
/// record's `documentColumns` are written in their place, to the view's rows.
extension RecordStore {
    /// Calls `body` with each column written and its value, in the same order for every record
    /// of a kind.
    @inline(__always)
    static func forEachContent<Record: StoredRecord>(
        of record: Record, layout: TableLayout, _ body: (String, SQLValue) throws -> Void
    ) throws {
        let computed = layout.computed.contains("doc")
        if !computed { try body("doc", .text(try record.document())) }
        if !layout.computed.contains("search") { try body("search", .text(record.searchText)) }
        for (column, value) in record.columns { try body(column, value) }
        if computed {
            for (column, value) in record.documentColumns { try body(column, value) }
        }
    }

    /// How `Record.table` is written, read from the schema once a store (a store writes only
    /// after its migrations have run).
    func layout<Record: StoredRecord>(_ type: Record.Type) async throws -> TableLayout {
        try await self.schema.layout(of: Record.table) { table in
            try await self.database.read { session in try await session.layout(of: table) }
        }
    }
}

/// How each table a store has written is laid out, as its schema says.
final class SchemaFacts: Sendable {
    private let layouts = NIOLockedValueBox<[String: TableLayout]>([:])

    /// `table`'s layout: the one learnt, or what `asking` reads from the schema, kept.
    func layout(of table: String, asking: (String) async throws -> TableLayout) async throws -> TableLayout {
        if let known = self.layouts.withLockedValue({ $0[table] }) { return known }
        let found = try await asking(table)
        self.layouts.withLockedValue { $0[table] = found }
        return found
    }
}
