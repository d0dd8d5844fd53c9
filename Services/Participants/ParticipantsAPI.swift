import ConcordProtocol
import ConcordServer
import ConcordStorage
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Logging
import NIOCore

/// The participants service's verbs: `participants.<kind>.<create|get|update|delete|list|search>`
/// for countries, regions, officials, sessions, attendance and partnerships, plus
/// `participants.sessions.attendees`.
struct ParticipantsAPI: Sendable {
    let store: RecordStore

    static let defaultLimit = 50
    static let maximumLimit = 500

    func router() -> Router {
        var router = Router()
        self.register(Country.self, in: &router)
        self.register(Region.self, in: &router)
        self.register(Official.self, in: &router)
        self.register(CommitteeSession.self, in: &router)
        self.register(Attendance.self, in: &router)
        self.register(Partnership.self, in: &router)
        router.register("participants.sessions.attendees") { (body: JSONObject, context: RequestContext) in
            try await Self.boundary(context) {
                try Self.checkFields(body, allowed: ["number"])
                let number = try Self.key(CommitteeSession.self, in: body)
                return try await self.store.attendees(session: number)
            }
        }
        return router
    }

    private func register<Record: StoredRecord>(_ type: Record.Type, in router: inout Router) {
        let prefix = "participants.\(Record.table)."
        let store = self.store
        router.register(prefix + "create") { (body: JSONObject, context: RequestContext) in
            try await Self.boundary(context) {
                let input = try RecordStore.decodeInput(Record.self, from: body)
                return try await store.create(input, verb: context.verb, idempotencyKey: context.metadata.idempotencyKey)
            }
        }
        router.registerRaw(prefix + "get") { request, context in
            try await Self.boundary(context) {
                let body = try Self.decodeObject(request.body)
                try Self.checkFields(body, allowed: [Record.keyField])
                let key = try Self.key(Record.self, in: body)
                guard Record.self != CommitteeSession.self else {
                    // A session shows its co-chairs, derived on read: the typed path.
                    let session = try await store.withCoChairs(try await store.get(CommitteeSession.self, key: key))
                    return context.allocator.buffer(string: try RecordStore.canonicalJSON(session))
                }
                // The stored document is the answer: no decode and re-encode on the hot read.
                return context.allocator.buffer(string: try await store.getJSON(Record.self, key: key))
            }
        }
        router.register(prefix + "update") { (body: JSONObject, context: RequestContext) in
            try await Self.boundary(context) {
                let key = try Self.key(Record.self, in: body)
                guard case .integer(let version)? = body["version"] else {
                    throw ConcordError(.badRequest, "version is required: the version you read, so a stale update is refused", field: "version")
                }
                var patch = body
                patch["version"] = nil
                for field in ["createdAt", "updatedAt", "coChairs"] where patch[field] != nil {
                    throw ConcordError(.badRequest, "\(field) is kept by the service and cannot be set", field: field)
                }
                try RecordStore.checkFieldNames(Record.self, in: patch)
                return try await store.update(Record.self, key: key, expectedVersion: version, patch: patch)
            }
        }
        router.register(prefix + "delete") { (body: JSONObject, context: RequestContext) in
            try await Self.boundary(context) {
                try Self.checkFields(body, allowed: [Record.keyField, "version"])
                let key = try Self.key(Record.self, in: body)
                let version: Int64?
                switch body["version"] {
                case nil, .null?: version = nil
                case .integer(let value)?: version = value
                default: throw ConcordError(.badRequest, "version must be an integer", field: "version")
                }
                try await store.delete(Record.self, key: key, expectedVersion: version)
                return Deleted(deleted: RecordStore.show(key))
            }
        }
        router.register(prefix + "list") { (body: JSONObject, context: RequestContext) in
            try await Self.boundary(context) {
                try await self.list(Record.self, body: body, search: false)
            }
        }
        router.register(prefix + "search") { (body: JSONObject, context: RequestContext) in
            try await Self.boundary(context) {
                try await self.list(Record.self, body: body, search: true)
            }
        }
    }

    private func list<Record: StoredRecord>(_ type: Record.Type, body: JSONObject, search: Bool) async throws -> Page<Record> {
        let known = Record.filters.map(\.field) + ["limit", "cursor"] + (search ? ["q"] : [])
        try Self.checkFields(body, allowed: Set(known))
        var filters: [(RecordFilter, SQLValue)] = []
        for filter in Record.filters {
            switch body[filter.field] {
            case nil, .null?: continue
            case .integer(let value)? where filter.isInteger: filters.append((filter, .integer(value)))
            case .string(let text)? where !filter.isInteger:
                let value = ["country", "hostCountry", "region"].contains(filter.field) ? text.uppercased() : text
                filters.append((filter, .text(value)))
            default:
                throw ConcordError(.badRequest, "filter \(filter.field) must be \(filter.isInteger ? "an integer" : "a string")", field: filter.field)
            }
        }
        var limit = Self.defaultLimit
        switch body["limit"] {
        case nil, .null?: break
        case .integer(let value)? where (1...Int64(Self.maximumLimit)).contains(value): limit = Int(value)
        default: throw ConcordError(.badRequest, "limit must be an integer from 1 to \(Self.maximumLimit)", field: "limit")
        }
        var cursor: SQLValue?
        switch body["cursor"] {
        case nil, .null?: break
        case .string(let text)?: cursor = try Cursor.decode(text, integerKey: Record.keyIsInteger)
        default: throw ConcordError(.badRequest, "cursor must be the nextCursor string of the previous page", field: "cursor")
        }
        var text: String?
        if search {
            guard case .string(let query)? = body["q"], !query.trimmingSpaces().isEmpty else {
                throw ConcordError(.badRequest, "q is required: the text to search for", field: "q")
            }
            guard query.count <= 200 else {
                throw ConcordError(.badRequest, "q is \(query.count) characters long; the most allowed is 200", field: "q")
            }
            text = query.trimmingSpaces()
        }
        return try await self.store.list(Record.self, filters: filters, text: text, limit: limit, after: cursor)
    }

    // MARK: Bodies

    static func decodeObject(_ body: ByteBuffer) throws(ConcordError) -> JSONObject {
        do {
            return try JSONBody.decode(JSONObject.self, from: body)
        } catch let error as DecodingError {
            throw ConcordError(decoding: error)
        } catch {
            throw ConcordError(.badRequest, "body is not a JSON object", field: "body")
        }
    }

    static func checkFields(_ body: JSONObject, allowed: Set<String>) throws(ConcordError) {
        if let field = Set(body.keys).subtracting(allowed).sorted().first {
            throw ConcordError(.badRequest, "unknown field '\(field)'; this verb takes \(allowed.sorted().joined(separator: ", "))", field: field)
        }
    }

    static func key<Record: StoredRecord>(_ type: Record.Type, in body: JSONObject) throws(ConcordError) -> SQLValue {
        switch body[Record.keyField] {
        case .integer(let value)? where Record.keyIsInteger:
            return .integer(value)
        case .string(let text)? where !Record.keyIsInteger && !text.isEmpty:
            // Codes are stored upper-case, slugs lower-case: look up as stored.
            return .text(Record.keyField == "code" ? text.uppercased() : text)
        case nil, .null?:
            throw ConcordError(.badRequest, "\(Record.keyField) is required to name the \(Record.noun)", field: Record.keyField)
        default:
            throw ConcordError(.badRequest, "\(Record.keyField) must be \(Record.keyIsInteger ? "an integer" : "a non-empty string")", field: Record.keyField)
        }
    }

    /// Turns store failures into protocol errors with stable codes; the rest pass through.
    static func boundary<Output: Sendable>(_ context: RequestContext, _ work: () async throws -> Output) async throws -> Output {
        do {
            return try await work()
        } catch var error as ConcordError {
            // On the wire a field is named by where it is in the request, as docs/protocol.md says.
            if let field = error.field, !field.hasPrefix("body"), !field.hasPrefix("metadata") {
                error.field = field == "idem" ? "metadata.idem" : "body." + field
            }
            throw error
        } catch let error as StorageError {
            switch error.code {
            case .uniqueViolation:
                throw ConcordError(.conflict, "a record with the same key already exists (\(error.constraint ?? error.message))")
            case .foreignKeyViolation:
                throw ConcordError(.conflict, "the change would leave a reference to a missing record (\(error.message))")
            case .unavailable:
                context.logger.warning("store unavailable", metadata: [LogKey.error: "\(error)"])
                throw ConcordError(.unavailable, "the store is unavailable; retry shortly")
            default:
                context.logger.error("store failed", metadata: [LogKey.error: "\(error)"])
                throw ConcordError(.internal, "the store failed while handling '\(context.verb)'; the server log has details")
            }
        }
    }
}

struct Deleted: Codable, Sendable {
    var deleted: String
}

extension RecordStore {
    /// A session as `sessions.get` shows it: with its co-chairs, derived from attendance.
    func withCoChairs(_ session: CommitteeSession) async throws -> CommitteeSession {
        var session = session
        let number = session.number
        let rows = try await self.database.read { db in
            try await db.query(
                "SELECT official FROM attendance WHERE session = $1 AND role = 'co-chair' ORDER BY official",
                [.integer(number)]
            )
        }
        session.coChairs = try rows.map { try $0.text("official") }
        return session
    }

    /// Everyone who attended a session, each with the official's record.
    func attendees(session key: SQLValue) async throws -> [Attendee] {
        try await self.database.read { db in
            guard try await Self.exists(CommitteeSession.self, key: key, in: db) else {
                throw ConcordError(.notFound, "no session \(Self.show(key))", field: "number")
            }
            let rows = try await db.query(
                """
                SELECT a.version, a.doc, a.created_at, a.updated_at, o.version AS o_version, o.doc AS o_doc,
                       o.created_at AS o_created_at, o.updated_at AS o_updated_at
                FROM attendance a JOIN officials o ON o.id = a.official
                WHERE a.session = $1 ORDER BY a.role, a.official
                """,
                [key]
            )
            return try rows.map { row in
                let official = SQLRow([
                    "version": row["o_version"], "doc": row["o_doc"],
                    "created_at": row["o_created_at"], "updated_at": row["o_updated_at"],
                ])
                return Attendee(
                    attendance: try Self.record(Attendance.self, from: row),
                    official: try Self.record(Official.self, from: official)
                )
            }
        }
    }
}

/// An attendance record with the official it names.
struct Attendee: Codable, Sendable {
    var attendance: Attendance
    var official: Official
}
