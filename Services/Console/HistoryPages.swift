import ConcordProtocol
import ConcordWords
import Hummingbird

/// A record's audit trail: every write, who made it and when, and the fields it changed, each
/// from what it was to what it became.
extension Console {
    static let services = ["agreements", "participants", "trade"]

    func registerHistory(on router: Router<ConsoleContext>) {
        router.get("/history/:service/:kind/:key") { request, context in try await self.history(request, context) }
    }

    func history(_ request: Request, _ context: ConsoleContext) async throws -> Response {
        let service = context.parameters.get("service") ?? ""
        let kind = context.parameters.get("kind") ?? ""
        let key = context.parameters.get("key") ?? ""
        guard Self.services.contains(service) else { return Response(status: .notFound) }
        return try await self.personal(request) { person, pages in
            // Oldest first: each entry is read against the record as the entries before it left it.
            var entries: [JSONValue] = []
            var cursor: JSONValue?
            var failure: ConcordError?
            repeat {
                var body: [String: JSONValue] = ["kind": .string(kind), "key": .string(key), "limit": .integer(500)]
                if let cursor { body["cursor"] = cursor }
                switch await self.gateway.json("\(service).audit.list", body, person: person) {
                case .success(let page):
                    entries += page.rows
                    cursor = page[path: "nextCursor"].flatMap { $0 == .null ? nil : $0 }
                case .failure(let error):
                    failure = error
                    cursor = nil
                }
            } while cursor != nil && entries.count < 5_000
            return pages.history(session: person, service: service, kind: kind, key: key, entries: entries, failure: failure, path: request.uri.path)
        }
    }
}

extension Pages {
    /// One field's change: the value before (nil when it had none) and after (nil when cleared).
    struct FieldChange {
        var field: String
        var before: JSONValue?
        var after: JSONValue?
    }

    /// What each entry changed, field by field, against the record as the entries before it left
    /// it: a create sets every field, an update sets those of its patch (a null clears), a delete
    /// clears them all (its entry holds the record as it was). A kind's own write (a progress update, a status move) records what its verb
    /// was given, not a patch of the record: its values are shown as given (`before` nil), and
    /// not taken for the record's fields (an update's `note` is the update's, not the action's).
    static func diffs(_ entries: [JSONValue]) -> [[FieldChange]] {
        var record: [String: JSONValue] = [:]
        let kept: Set<String> = ["version", "createdAt", "updatedAt"]
        return entries.map { entry in
            let change = entry[path: "change"]?.object ?? [:]
            var changes: [FieldChange] = []
            switch entry[path: "operation"]?.string {
            case "delete":
                // A delete keeps the whole record as it was: every field, from what it was to nothing.
                let last = change.isEmpty ? record : change
                changes = last.keys.sorted().filter { !kept.contains($0) && last[$0] != .null }.map { FieldChange(field: $0, before: last[$0], after: nil) }
                record = [:]
            case "change":
                changes = change.keys.sorted().filter { !kept.contains($0) && $0 != "id" }.map { FieldChange(field: $0, before: nil, after: change[$0]) }
            case "create":
                record = [:]
                fallthrough
            default:
                for field in change.keys.sorted() where !kept.contains(field) {
                    let after = change[field] == .null ? nil : change[field]
                    if record[field] != after { changes.append(FieldChange(field: field, before: record[field], after: after)) }
                    record[field] = after
                }
            }
            return changes
        }
    }

    func history(session: SessionCookie, service: String, kind: String, key: String, entries: [JSONValue], failure: ConcordError?, path: String) -> HTML {
        let words = self.words
        var body: HTML = "<h1>\(words(.historyTitle, Words.isolated(kind + "/" + key)))</h1>"
        if let failure { body = body + self.failed(service, failure) }
        let diffs = Self.diffs(entries)
        let items: [HTML] = zip(entries, diffs).reversed().map { entry, changes in
            let given = entry[path: "operation"]?.string == "change"
            let rows: [HTML] = changes.map { change in
                given
                    ? "<tr><th scope=\"row\"><bdi>\(change.field)</bdi></th><td class=\"after\"><bdi>\(change.after.map(self.shown) ?? "–")</bdi></td></tr>"
                    : """
                    <tr><th scope="row"><bdi>\(change.field)</bdi></th><td class="before"><bdi>\(change.before.map(self.shown) ?? "–")</bdi></td>\
                    <td class="after"><bdi>\(change.after.map(self.shown) ?? "–")</bdi></td></tr>
                    """
            }
            let head: HTML = given
                ? "<tr><th>\(words(.colField))</th><th>\(words(.colGiven))</th></tr>"
                : "<tr><th>\(words(.colField))</th><th>\(words(.colBefore))</th><th>\(words(.colAfter))</th></tr>"
            let role = entry[path: "actorRole"]?.string.map { " (" + self.role($0) + ")" } ?? ""
            return """
                <li><p><time datetime="\(entry[path: "at"]?.cell ?? "")">\(self.moment(entry[path: "at"]?.cell ?? ""))</time> · \
                <strong><bdi>\(entry[path: "actor"]?.cell ?? "")</bdi></strong>\(role) · <bdi>\(entry[path: "verb"]?.cell ?? "")</bdi>\
                \(entry[path: "versionAfter"]?.integer.map { " · v\($0)" } ?? "")</p>\
                \(rows.isEmpty ? "" : HTML("<table class=\"diff\"><thead>\(head)</thead><tbody>\(rows)</tbody></table>"))</li>
                """
        }
        body = body + "<section id=\"live-history\" data-live>" + (items.isEmpty ? self.nothing(.noneRecorded) : "<ol class=\"history\">\(items)</ol>") + "</section>"
        return self.layout(title: words(.historyTitle, kind + "/" + key), session: session, path: path, body: body)
    }

    /// A value as a person reads it: text as it is, lists and objects as compact JSON.
    func shown(_ value: JSONValue) -> String {
        switch value {
        case .string(let text): text
        case .array, .object: Gateway.json(value)
        default: value.cell
        }
    }
}
