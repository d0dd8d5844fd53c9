#if canImport(Glibc)
import Glibc
#endif
import NIOPosix
import SQLiteNIO
import VaporCSQLite

// The one file of ConcordStorage that uses SQLite's C API: the copy SQLiteNIO ships as its
// `VaporCSQLite` module (functions prefixed `sqlite_nio_`), never a second copy of SQLite, which
// would break its file locking. It is used for one thing SQLiteNIO does not offer: a statement
// prepared once and stepped for each row of an import, instead of statements of thousands of
// placeholders parsed and bound afresh for every few hundred rows. `SQLiteBulkTests` fails if
// the module, its prefix or the way to the connection's handle changes with an upgrade.

/// The `sqlite3*` of a SQLiteNIO connection.
struct SQLiteHandle: @unchecked Sendable {
    let raw: OpaquePointer

    /// The handle of `connection`, which has the file at `path` open. SQLiteNIO keeps the handle
    /// in an internal property (`handle.raw`); it is read by reflection, and refused unless the
    /// connection it names has `path` open, so a change in SQLiteNIO fails here, at open, and
    /// never reaches another file.
    static func of(_ connection: SQLiteConnection, path: String) throws -> SQLiteHandle {
        guard let found = Mirror(reflecting: connection).descendant("handle", "raw"), let raw = found as? OpaquePointer else {
            throw StorageError(.configuration, "this SQLiteNIO keeps its connection's handle elsewhere than handle.raw: the bulk import path needs it (ConcordStorage/SQLiteBulkInsert.swift)")
        }
        let open = sqlite_nio_sqlite3_db_filename(raw, "main").map { String(cString: $0) } ?? ""
        guard !open.isEmpty, Self.resolved(open) == Self.resolved(path) else {
            throw StorageError(.configuration, "the handle found in SQLiteNIO's connection has '\(open)' open, not \(path)")
        }
        return SQLiteHandle(raw: raw)
    }

    private static func resolved(_ path: String) -> String {
        guard let real = realpath(path, nil) else { return path }
        defer { free(real) }
        return String(cString: real)
    }

    /// Inserts rows of `columns.count` values each (`binds`, row after row) into `table` with one
    /// prepared `INSERT ... ON CONFLICT (key) DO NOTHING`, stepped once a row, and returns the
    /// indices of the rows whose key was there already. Runs on SQLiteNIO's thread pool, inside
    /// the caller's transaction: the caller holds the writer.
    func insertSkippingPresent(into table: String, columns: [String], key: String, binds: [SQLValue]) async throws -> [Int] {
        try await NIOThreadPool.singleton.runIfActive {
            try self.insertNow(into: table, columns: columns, key: key, binds: binds)
        }
    }

    private func insertNow(into table: String, columns: [String], key: String, binds: [SQLValue]) throws -> [Int] {
        guard !columns.isEmpty, !binds.isEmpty else { return [] }
        let sql = "INSERT INTO \(table) (\(columns.joined(separator: ", "))) VALUES ("
            + (1...columns.count).map { "?\($0)" }.joined(separator: ", ") + ") ON CONFLICT (\(key)) DO NOTHING"
        var prepared: OpaquePointer?
        guard sqlite_nio_sqlite3_prepare_v3(self.raw, sql, -1, 0, &prepared, nil) == SQLITE_OK, let statement = prepared else {
            throw self.failure()
        }
        defer { sqlite_nio_sqlite3_finalize(statement) }
        var skipped: [Int] = []
        let width = columns.count
        for row in 0..<(binds.count / width) {
            for column in 0..<width {
                // A binding outlives `sqlite3_reset`: a value the row before had in the same
                // column (an import's publication day, source, unit, absent amounts) is bound
                // once, not copied into SQLite again under its mutex.
                let value = binds[row * width + column]
                if row > 0, binds[(row - 1) * width + column] == value { continue }
                guard self.bind(value, at: Int32(column + 1), in: statement) == SQLITE_OK else {
                    throw self.failure()
                }
            }
            let stepped = sqlite_nio_sqlite3_step(statement)
            guard stepped == SQLITE_DONE else {
                let error = self.failure()
                sqlite_nio_sqlite3_reset(statement)
                throw error
            }
            if sqlite_nio_sqlite3_changes(self.raw) == 0 { skipped.append(row) }
            sqlite_nio_sqlite3_reset(statement)
        }
        return skipped
    }

    private func bind(_ value: SQLValue, at index: Int32, in statement: OpaquePointer) -> Int32 {
        switch value {
        case .text(let text) where text.isEmpty:
            // A pointer of its own: NULL would bind SQL NULL.
            return sqlite_nio_sqlite3_bind_text(statement, index, "", 0, Self.transient)
        case .text(var text):
            // SQLite copies the bytes (SQLITE_TRANSIENT) before this returns.
            return text.withUTF8 { bytes in
                bytes.withMemoryRebound(to: CChar.self) { sqlite_nio_sqlite3_bind_text(statement, index, $0.baseAddress, Int32($0.count), Self.transient) }
            }
        case .integer(let integer): return sqlite_nio_sqlite3_bind_int64(statement, index, integer)
        case .real(let real): return sqlite_nio_sqlite3_bind_double(statement, index, real)
        case .null: return sqlite_nio_sqlite3_bind_null(statement, index)
        }
    }

    private static let transient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)
    // Extended result codes (sqlite3.h's macros, which Swift does not import).
    private static let constraintUnique = SQLITE_CONSTRAINT | (8 << 8)
    private static let constraintPrimaryKey = SQLITE_CONSTRAINT | (6 << 8)
    private static let constraintForeignKey = SQLITE_CONSTRAINT | (3 << 8)

    /// The connection's last error, as the store's other SQLite errors read.
    private func failure() -> StorageError {
        let message = sqlite_nio_sqlite3_errmsg(self.raw).map { String(cString: $0) } ?? "unknown error"
        let code = sqlite_nio_sqlite3_extended_errcode(self.raw)
        switch code {
        case Self.constraintUnique, Self.constraintPrimaryKey:
            return StorageError(.uniqueViolation, message, constraint: SQLiteDatabase.constraintName(message))
        case Self.constraintForeignKey:
            return StorageError(.foreignKeyViolation, message)
        default:
            switch code & 0xff {
            case SQLITE_BUSY, SQLITE_LOCKED, SQLITE_CANTOPEN: return StorageError(.unavailable, "SQLite: \(message)")
            default: return StorageError(.failed, "SQLite: \(message)")
            }
        }
    }

    /// SQLite's version, as the library SQLiteNIO ships reports it.
    static var libraryVersion: String {
        String(cString: sqlite_nio_sqlite3_libversion())
    }
}
