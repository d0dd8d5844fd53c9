#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Which engine holds a service's data, from one setting:
/// `sqlite:PATH` (the embedded default) or
/// `postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE[?schema=NAME][&connections=N]`.
public enum DatabaseLocation: Sendable, Hashable, CustomStringConvertible {
    case sqlite(path: String)
    case postgres(PostgresLocation)

    public struct PostgresLocation: Sendable, Hashable {
        public var host: String
        public var port: Int
        public var username: String
        public var password: String?
        public var database: String
        /// Tables live in this schema (created if missing); replicas of one service share it.
        public var schema: String?
        /// How many connections the process keeps open (16 unless given). A test that opens
        /// many stores at once on one cluster gives each a few.
        public var connections: Int?

        public init(
            host: String, port: Int = 5432, username: String, password: String? = nil, database: String, schema: String? = nil,
            connections: Int? = nil
        ) {
            self.host = host
            self.port = port
            self.username = username
            self.password = password
            self.database = database
            self.schema = schema
            self.connections = connections
        }
    }

    public init(parsing text: String) throws(StorageError) {
        if text.hasPrefix("sqlite:") {
            var path = String(text.dropFirst("sqlite:".count))
            if path.hasPrefix("//") { path.removeFirst(2) }
            guard !path.isEmpty else {
                throw StorageError(.configuration, "database 'sqlite:' needs a file path, as in sqlite:data/participants.sqlite")
            }
            self = .sqlite(path: path)
            return
        }
        guard text.hasPrefix("postgres://") || text.hasPrefix("postgresql://"), let url = URLComponents(string: text) else {
            throw StorageError(.configuration, "database must be sqlite:PATH or postgres://USER@HOST:PORT/DATABASE, got '\(text)'")
        }
        guard let host = url.host, !host.isEmpty else {
            throw StorageError(.configuration, "database URL '\(text)' names no host")
        }
        guard let user = url.user, !user.isEmpty else {
            throw StorageError(.configuration, "database URL '\(text)' names no user")
        }
        let database = url.path.hasPrefix("/") ? String(url.path.dropFirst()) : url.path
        guard !database.isEmpty else {
            throw StorageError(.configuration, "database URL '\(text)' names no database")
        }
        let schema = url.queryItems?.first(where: { $0.name == "schema" })?.value
        if let schema, !Self.isPlainIdentifier(schema) {
            throw StorageError(.configuration, "schema '\(schema)' must be lowercase letters, digits and _, starting with a letter")
        }
        var connections: Int?
        if let text = url.queryItems?.first(where: { $0.name == "connections" })?.value {
            guard let count = Int(text), (1...256).contains(count) else {
                throw StorageError(.configuration, "connections must be a number from 1 to 256, got '\(text)'")
            }
            connections = count
        }
        self = .postgres(PostgresLocation(
            host: host, port: url.port ?? 5432, username: user, password: url.password,
            database: database, schema: schema, connections: connections
        ))
    }

    /// Lowercase identifiers only, so a schema name never needs quoting.
    static func isPlainIdentifier(_ name: String) -> Bool {
        guard let first = name.unicodeScalars.first, ("a"..."z").contains(first), name.count <= 63 else { return false }
        return name.unicodeScalars.allSatisfy { ("a"..."z").contains($0) || ("0"..."9").contains($0) || $0 == "_" }
    }

    /// The location without a password, for logs.
    public var description: String {
        switch self {
        case .sqlite(let path): "sqlite:\(path)"
        case .postgres(let pg):
            "postgres://\(pg.username)@\(pg.host):\(pg.port)/\(pg.database)" + pg.query
        }
    }
}

extension DatabaseLocation.PostgresLocation {
    /// `?schema=…&connections=…` as given, or nothing.
    public var query: String {
        let items = [self.schema.map { "schema=\($0)" }, self.connections.map { "connections=\($0)" }].compactMap { $0 }
        return items.isEmpty ? "" : "?" + items.joined(separator: "&")
    }
}
