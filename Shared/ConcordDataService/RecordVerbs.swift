import ConcordFields
import ConcordProtocol
import ConcordRecords
import ConcordWire
import ConcordServer
import ConcordStorage
import NIOCore

/// The answer of a delete.
public struct Deleted: Codable, Sendable {
    public var deleted: String
}

extension Router {
    /// Registers `SERVICE.<table>.<create|get|update|delete|list|search>` for one kind, each
    /// declared a read or a write, each behind the kit's error boundary.
    /// `segment` names the kind in verbs when its table's name would read badly there
    /// (`trade.stated.*` for the `stated_figures` table).
    public mutating func registerRecordVerbs<Record: StoredRecord>(_ type: Record.Type, service: String, store: RecordStore, segment: String? = nil) {
        let prefix = "\(service).\(segment ?? Record.table)."
        self.registerRecordVerb(prefix + "create", kind: .write) { body, context in
            try Self.refuseKeptFields(Record.self, in: body)
            let input = try RecordBody.record(Record.self, from: body)
            return try await store.create(input, context: WriteContext(context))
        }
        if Record.decoratesOnRead {
            self.registerRaw(prefix + "get", kind: .read) { request, context in
                try await WireErrors.boundary(context) {
                    let key = try KeyBody<Record>.key(in: request.body)
                    let record = try await Record.decorate(try await store.get(Record.self, key: key), using: store)
                    return context.allocator.buffer(string: try RecordStore.canonicalJSON(record))
                }
            }
        } else {
            // The hot read: no task per request, the stored document as the answer (no decode
            // and re-encode), and gets that arrive together read in one query.
            let batcher = GetBatcher<Record>(store: store)
            self.registerAnswering(prefix + "get", kind: .read) { request, context, answer in
                let key: SQLValue
                do throws(ConcordError) {
                    key = try KeyBody<Record>.key(in: request.body)
                } catch {
                    return answer(.failure(WireErrors.placed(error)))
                }
                let allocator = context.allocator
                batcher.get(key, on: context.eventLoop) { result in
                    switch result {
                    case .success(let json): answer(.success(allocator.buffer(string: json)))
                    case .failure(let error): answer(.failure(WireErrors.wire(error, context: context)))
                    }
                }
            }
        }
        self.registerRecordVerb(prefix + "update", kind: .write) { body, context in
            let key = try RecordBody.key(Record.self, in: body)
            let version = try RecordBody.version(in: body, required: true)!
            var patch = body
            patch["version"] = nil
            try Self.refuseKeptFields(Record.self, in: patch)
            if let field = Record.fixedAfterCreate.intersection(patch.keys).sorted().first {
                throw ConcordError(.badRequest, "\(field) of a \(Record.noun) changes only through its own verb, not update", field: field)
            }
            try RecordBody.checkFieldNames(Record.self, in: patch)
            return try await store.update(Record.self, key: key, expectedVersion: version, patch: patch, context: WriteContext(context))
        }
        self.registerRecordVerb(prefix + "delete", kind: .write) { body, context in
            try RecordBody.checkFields(body, allowed: [Record.keyField, "version"])
            let key = try RecordBody.key(Record.self, in: body)
            let version = try RecordBody.version(in: body, required: false)
            try await store.delete(Record.self, key: key, expectedVersion: version, context: WriteContext(context))
            return Deleted(deleted: RecordStore.show(key))
        }
        self.registerRecordVerb(prefix + "list", kind: .read) { body, _ in
            try await Self.list(Record.self, body: body, search: false, store: store)
        }
        self.registerRecordVerb(prefix + "search", kind: .read) { body, _ in
            try await Self.list(Record.self, body: body, search: true, store: store)
        }
    }

    /// Registers `SERVICE.audit.list`: the audit trail, oldest first, by kind, key, actor and
    /// time; and `SERVICE.changes`: the change feed, by cursor (docs/records.md).
    public mutating func registerAuditVerbs(service: String, store: RecordStore, kinds: [any StoredRecord.Type]) {
        let tables = kinds.map { $0.table }
        self.registerRecordVerb("\(service).changes", kind: .read) { body, _ in
            try RecordBody.checkFields(body, allowed: ["after", "kinds", "limit", "tail", "wait", "last"])
            let after = try ChangeFeedQuery.after(in: body, service: service)
            let wanted = try ChangeFeedQuery.kinds(in: body, known: tables)
            if let last = body["last"] {
                // The latest few, newest last: nothing else goes with it.
                guard case .integer(let count) = last, (1...500).contains(count) else {
                    throw ConcordError(.badRequest, "last must be a number of changes from 1 to 500: the latest ones, oldest first", field: "last")
                }
                if let other = ["after", "tail", "wait", "limit"].first(where: { body[$0] != nil }) {
                    throw ConcordError(.badRequest, "last asks for the latest changes; it does not go with \(other)", field: other)
                }
                return try await store.latest(service: service, kinds: wanted, count: Int(count))
            }
            if case .bool(true)? = body["tail"] {
                // Only where the feed ends now: a follower that starts from now asks this first.
                return try await store.changes(service: service, after: after, kinds: wanted, limit: 1, tail: true)
            }
            let limit = try RecordBody.limit(in: body)
            if let wait = try ChangeFeedQuery.wait(in: body) {
                return try await store.changes(service: service, after: after, kinds: wanted, limit: limit, wait: wait)
            }
            return try await store.changes(service: service, after: after, kinds: wanted, limit: limit)
        }
        self.registerRecordVerb("\(service).audit.list", kind: .read) { body, _ in
            try RecordBody.checkFields(body, allowed: ["kind", "key", "actor", "from", "to", "limit", "cursor"])
            var query = AuditQuery(limit: try RecordBody.limit(in: body))
            query.kind = try RecordBody.string("kind", in: body)
            query.key = try RecordBody.string("key", in: body)
            query.actor = try RecordBody.string("actor", in: body)
            query.from = try RecordBody.string("from", in: body)
            query.to = try RecordBody.string("to", in: body)
            if case .text(let after)? = try RecordBody.cursor(in: body, integerKey: false) { query.after = after }
            return try await store.audit(query)
        }
    }

    /// Registers a verb whose body is a JSON object, behind the kit's error boundary: what a
    /// kind's own verbs (a transition, a progress update) are written with.
    public mutating func registerRecordVerb<Output: Encodable & Sendable>(
        _ verb: String,
        kind: VerbKind,
        _ handler: @escaping @Sendable (JSONObject, RequestContext) async throws -> Output
    ) {
        self.register(verb, kind: kind) { (body: JSONObject, context: RequestContext) in
            try await WireErrors.boundary(context) { try await handler(body, context) }
        }
    }

    private static func refuseKeptFields<Record: StoredRecord>(_ type: Record.Type, in body: JSONObject) throws(ConcordError) {
        if let field = Record.keptFields.intersection(body.keys).sorted().first {
            throw ConcordError(.badRequest, "\(field) is kept by the service and cannot be set", field: field)
        }
    }

    private static func list<Record: StoredRecord>(_ type: Record.Type, body: JSONObject, search: Bool, store: RecordStore) async throws -> Page<Record> {
        let known = Record.filters.map(\.field) + ["limit", "cursor"] + (search ? ["q"] : [])
        try RecordBody.checkFields(body, allowed: Set(known))
        var filters: [(RecordFilter, SQLValue)] = []
        for filter in Record.filters {
            switch body[filter.field] {
            case nil, .null?: continue
            case .integer(let value)? where filter.isInteger: filters.append((filter, .integer(value)))
            case .string(let text)? where !filter.isInteger: filters.append((filter, .text(try filter.normalise?(text) ?? text)))
            default:
                throw ConcordError(.badRequest, "filter \(filter.field) must be \(filter.isInteger ? "an integer" : "a string")", field: filter.field,
                    rule: .type(expected: filter.isInteger ? .integer : .string))
            }
        }
        var text: String?
        if search {
            guard case .string(let query)? = body["q"], !query.trimmingSpaces().isEmpty else {
                throw ConcordError(.badRequest, "q is required: the text to search for", field: "q", rule: .required)
            }
            guard query.count <= 200 else {
                throw ConcordError(.badRequest, "q is \(query.count) characters long; the most allowed is 200", field: "q", rule: .tooLong(max: 200))
            }
            text = query.trimmingSpaces()
        }
        return try await store.list(
            Record.self, filters: filters, text: text, limit: try RecordBody.limit(in: body),
            after: try RecordBody.cursor(in: body, integerKey: Record.keyIsInteger)
        )
    }
}

/// The body of `SERVICE.changes`, read with an error that names what was wrong.
enum ChangeFeedQuery {
    static func after(in body: JSONObject, service: String) throws(ConcordError) -> Int64 {
        guard let text = try RecordBody.string("after", in: body) else { return 0 }
        guard let cursor = FeedCursor(parsing: text) else {
            throw ConcordError(.badRequest, "after must be a cursor of this feed, written \(service):POSITION (the cursor of a change), got '\(text)'", field: "after",
                rule: .form(.cursor, got: text))
        }
        guard cursor.service == service else {
            // Not a cursor of this feed: said in other languages as the form this feed's takes.
            throw ConcordError(.badRequest, "after is a cursor of the \(cursor.service) feed; this is \(service)'s: ask \(cursor.service).changes with it", field: "after",
                rule: .form(.cursor, got: text))
        }
        return cursor.position
    }

    /// The longest a `changes` call may wait for a commit: well inside a caller's deadline.
    static let longestWait = 10_000

    /// `wait`: milliseconds to wait for a change when none is there yet (0 to 10,000).
    static func wait(in body: JSONObject) throws(ConcordError) -> Duration? {
        switch body["wait"] {
        case nil, .null?:
            return nil
        case .integer(let milliseconds)? where (0...Int64(Self.longestWait)).contains(milliseconds):
            return .milliseconds(milliseconds)
        default:
            throw ConcordError(.badRequest, "wait must be a number of milliseconds from 0 to \(Self.longestWait): how long to wait for a change when none is there yet", field: "wait")
        }
    }

    static func kinds(in body: JSONObject, known: [String]) throws(ConcordError) -> [String]? {
        switch body["kinds"] {
        case nil, .null?:
            return nil
        case .array(let values)?:
            return try values.enumerated().map { index, value throws(ConcordError) in
                guard case .string(let kind) = value, known.contains(kind) else {
                    throw ConcordError(.badRequest, "kinds[\(index)]: unknown kind \(value); this feed's kinds: \(known.joined(separator: ", "))", field: "kinds[\(index)]")
                }
                return kind
            }
        default:
            throw ConcordError(.badRequest, "kinds must be a list of kinds, e.g. [\"\(known.first ?? "actions")\"]", field: "kinds")
        }
    }
}
