#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Logging
import NIOCore
import PostgresNIO

/// One PostgreSQL connection as a store's transaction sees it: statements with binds, a
/// table's layout, and bulk inserts by COPY. Lent by `PostgresDatabase` for one body.
struct PostgresSession: DatabaseSession, @unchecked Sendable {
    // A session lives only inside the `withConnection` closure that lent the connection.
    let connection: PostgresConnection
    let logger: Logger

    func query(_ sql: String, _ binds: [SQLValue]) async throws -> [SQLRow] {
        var bindings = PostgresBindings(capacity: binds.count)
        for bind in binds {
            switch bind {
            case .text(let text): bindings.append(text)
            case .integer(let integer): bindings.append(integer)
            case .real(let real): bindings.append(real)
            case .null: bindings.appendNull()
            }
        }
        let rows = try await self.connection.query(PostgresQuery(unsafeSQL: sql, binds: bindings), logger: self.logger)
        var result: [SQLRow] = []
        for try await row in rows {
            var values: [String: SQLValue] = [:]
            for cell in row {
                values[cell.columnName] = try Self.value(cell)
            }
            result.append(SQLRow(values))
        }
        return result
    }

    func layout(of table: String) async throws -> TableLayout {
        let kind = try await self.query(
            "SELECT table_type::text AS kind FROM information_schema.tables WHERE table_schema = current_schema() AND table_name = $1",
            [.text(table)]
        ).first?.text("kind")
        return try await TableLayout.of(table, isView: kind == "VIEW") { name in
            let rows = try await self.query(
                "SELECT column_name::text AS name FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = $1",
                [.text(name)]
            )
            return Set(try rows.map { try $0.text("name") })
        }
    }

    /// `COPY` of the rows straight into the table, in the caller's transaction: the rows cross
    /// as text, unparsed by the planner and unbound one by one. A key there already stops the
    /// COPY (a batch sent again): back to before it, the rows go through a temporary table of the
    /// same columns and one `INSERT ... SELECT ... ON CONFLICT (key) DO NOTHING RETURNING key`.
    func insertSkippingPresent(into table: String, columns: [String], key: String, binds: [SQLValue]) async throws -> [Int] {
        let width = columns.count
        guard width > 0, !binds.isEmpty, let keyColumn = columns.firstIndex(of: key) else { return [] }
        let rows = binds.count / width
        try await self.query("SAVEPOINT concord_bulk")
        do {
            try await self.copy(binds, width: width, into: table, columns: columns)
            try await self.query("RELEASE SAVEPOINT concord_bulk")
            return []
        } catch {
            guard (PostgresDatabase.translate(error) as? StorageError)?.code == .uniqueViolation else { throw error }
            try await self.query("ROLLBACK TO SAVEPOINT concord_bulk")
        }
        // Lives as long as the connection; emptied at every commit or rollback.
        let staging = "concord_staging_\(table)"
        let list = columns.joined(separator: ", ")
        try await self.query("CREATE TEMPORARY TABLE IF NOT EXISTS \(staging) (LIKE \(table) INCLUDING DEFAULTS) ON COMMIT DELETE ROWS")
        try await self.query("TRUNCATE \(staging)")
        try await self.copy(binds, width: width, into: staging, columns: columns)
        let returned = try await self.query(
            "INSERT INTO \(table) (\(list)) SELECT \(list) FROM \(staging) ON CONFLICT (\(key)) DO NOTHING RETURNING \(key) AS record_key"
        )
        return StatementTexts.rowsSkipped(0..<rows, returned: returned, binds: binds, width: width, keyColumn: keyColumn)
    }

    /// `COPY table (columns) FROM STDIN`, the rows in COPY's text format, a megabyte at a time.
    private func copy(_ binds: [SQLValue], width: Int, into table: String, columns: [String]) async throws {
        try await self.connection.copyFrom(table: table, columns: columns, logger: self.logger) { writer in
            var buffer = ByteBuffer()
            buffer.reserveCapacity(1 << 20)
            for row in 0..<(binds.count / width) {
                for column in 0..<width {
                    if column > 0 { buffer.writeInteger(UInt8(ascii: "\t")) }
                    Self.writeCopyText(binds[row * width + column], into: &buffer)
                }
                buffer.writeInteger(UInt8(ascii: "\n"))
                if buffer.readableBytes >= 1 << 20 {
                    try await writer.write(buffer)
                    buffer.clear()
                }
            }
            if buffer.readableBytes > 0 { try await writer.write(buffer) }
        }
    }

    /// A value as COPY's text format reads it: `\N` for NULL; backslash, tab, newline and
    /// carriage return escaped.
    static func writeCopyText(_ value: SQLValue, into buffer: inout ByteBuffer) {
        switch value {
        case .null:
            buffer.writeStaticString("\\N")
        case .integer(let integer):
            buffer.writeString(String(integer))
        case .real(let real):
            // Shortest text that reads back as the same double.
            buffer.writeString(real.isFinite ? "\(real)" : real.isNaN ? "NaN" : real > 0 ? "Infinity" : "-Infinity")
        case .text(let text):
            let utf8 = text.utf8
            guard utf8.contains(where: { $0 == UInt8(ascii: "\\") || $0 == UInt8(ascii: "\t") || $0 == UInt8(ascii: "\n") || $0 == UInt8(ascii: "\r") }) else {
                buffer.writeString(text)
                return
            }
            for byte in utf8 {
                switch byte {
                case UInt8(ascii: "\\"): buffer.writeStaticString("\\\\")
                case UInt8(ascii: "\t"): buffer.writeStaticString("\\t")
                case UInt8(ascii: "\n"): buffer.writeStaticString("\\n")
                case UInt8(ascii: "\r"): buffer.writeStaticString("\\r")
                default: buffer.writeInteger(byte)
                }
            }
        }
    }

    static func value(_ cell: PostgresCell) throws -> SQLValue {
        guard cell.bytes != nil else { return .null }
        switch cell.dataType {
        case .int2, .int4, .int8:
            return .integer(try cell.decode(Int64.self))
        case .float4, .float8:
            return .real(try cell.decode(Double.self))
        case .bool:
            return .integer(try cell.decode(Bool.self) ? 1 : 0)
        default:
            return .text(try cell.decode(String.self))
        }
    }
}
