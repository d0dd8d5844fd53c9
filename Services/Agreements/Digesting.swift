import ConcordProtocol
import ConcordRecords
import ConcordStorage
import ConcordWire
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// `agreements.digest {since, until?}`: what happened to the agreements in a window, both days
/// included, read from the audit trail and the records (docs/agreements.md, "Digest").
struct Digesting: Sendable {
    let store: RecordStore
    let today: @Sendable () -> String

    func digest(_ body: JSONObject) async throws -> AgreementsDigest {
        try RecordBody.checkFields(body, allowed: ["since", "until"])
        guard let since = try RecordBody.day("since", in: body) else {
            throw ConcordError(.badRequest, "since is required: the first day of the digest, YYYY-MM-DD", field: "since", rule: .required)
        }
        let until = try RecordBody.day("until", in: body) ?? self.today()
        guard since <= until else {
            throw ConcordError(.badRequest, "since (\(since)) is after until (\(until))", field: "since", rule: .notAfter(other: "until"))
        }
        let transitions = try await self.entries(kind: Instrument.table, since: since, until: until).filter { $0.verb == "agreements.instruments.transition" }
        let updates = try await self.entries(kind: Action.table, since: since, until: until).filter { $0.verb == "agreements.actions.progress" }
        let obstacleWrites = try await self.entries(kind: Obstacle.table, since: since, until: until)
        let instruments = try await self.store.get(Instrument.self, keys: transitions.map { .text($0.key) })
        let actions = try await self.store.get(Action.self, keys: updates.map { .text($0.key) })
        let obstacles = try await self.store.get(Obstacle.self, keys: obstacleWrites.map { .text($0.key) })

        let moved = transitions.map { entry in
            AgreementsDigest.Entry(
                id: entry.key, title: instruments[.text(entry.key)]?.title ?? entry.key, localTitles: instruments[.text(entry.key)]?.localTitles,
                to: entry.changeFields["to"]?.text,
                date: entry.changeFields["date"]?.text, by: entry.actor, at: entry.at
            )
        }
        let progress = updates.map { entry in
            AgreementsDigest.Entry(
                id: entry.key, title: actions[.text(entry.key)]?.title ?? entry.key,
                progress: entry.changeFields["progress"].flatMap { if case .integer(let value) = $0 { Int(value) } else { nil } },
                note: entry.changeFields["note"]?.text, date: entry.changeFields["date"]?.text, by: entry.actor, at: entry.at
            )
        }
        func obstacle(_ entry: AuditEntry) -> AgreementsDigest.Entry {
            let record = obstacles[.text(entry.key)]
            return AgreementsDigest.Entry(id: entry.key, title: record?.title ?? entry.key, to: record?.category, by: entry.actor, at: entry.at)
        }
        let raised = obstacleWrites.filter { $0.operation == .create }.map(obstacle)
        let resolved = obstacleWrites.filter { $0.operation != .create && $0.changeFields["status"]?.text == Obstacle.Status.resolved.rawValue }.map(obstacle)

        // Overdue from the day after its due date: due on the day before `since` up to the day
        // before `until`, and still neither done nor cancelled.
        let overdue = try await self.store.select(
            Action.self,
            filters: [
                (RecordFilter(field: "since", .atLeast("due_by")), .text(Self.dayBefore(since))),
                (RecordFilter(field: "until", .below("due_by")), .text(until)),
                (Action.isOpen, .null),
            ],
            order: Action.oldestDueFirst, limit: RecordBody.maximumLimit
        ).map { action in
            AgreementsDigest.Entry(id: action.id ?? "", title: action.title, due: action.due, owner: action.owner.label)
        }
        return AgreementsDigest(moved: moved, progress: progress, becameOverdue: overdue, obstaclesRaised: raised, obstaclesResolved: resolved)
    }

    /// Every audit entry of `kind` written from `since` to `until`, both days included, oldest first.
    private func entries(kind: String, since: String, until: String) async throws -> [AuditEntry] {
        var entries: [AuditEntry] = []
        var query = AuditQuery(kind: kind, from: since, to: until, limit: RecordBody.maximumLimit)
        while true {
            let page = try await self.store.audit(query)
            entries += page.items
            guard let next = page.nextCursor, case .text(let after) = try Cursor.decode(next, integerKey: false) else { return entries }
            query.after = after
        }
    }

    /// The day before a YYYY-MM-DD date.
    static func dayBefore(_ day: String) -> String {
        guard let date = try? Date(day + "T00:00:00Z", strategy: .iso8601) else { return day }
        return String(date.addingTimeInterval(-86_400).ISO8601Format().prefix(10))
    }
}

extension JSONValue {
    /// The value's text, when it is a string.
    fileprivate var text: String? {
        if case .string(let text) = self { text } else { nil }
    }
}

extension AuditEntry {
    /// The change as an object (a create's record, an update's patch, a verb's body).
    fileprivate var changeFields: [String: JSONValue] {
        if case .object(let fields) = self.change { fields } else { [:] }
    }
}
