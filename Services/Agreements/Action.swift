import ConcordFields
import ConcordProtocol
import ConcordRecords
import ConcordStorage

/// A follow-up action: what someone must do about an instrument or a session's decisions, by
/// when, and how far it has got. A parent's progress is rolled up from its children (Decidim's
/// accountability results), recomputed in the transaction of every child's change.
struct Action: StoredRecord, Equatable {
    enum Status: String, Codable, CaseIterable {
        case planned, inProgress = "in-progress", done, blocked, cancelled
    }

    /// One dated progress update (`agreements.actions.progress`).
    struct ProgressUpdate: Codable, Sendable, Hashable {
        var date: String
        var progress: Int
        var status: String?
        var note: String?
        var source: String?
        var by: String
    }

    var id: String?
    var title: String
    var instrument: String?
    var session: Int64?
    var owner: PartyRef
    var counterpart: PartyRef?
    /// As precise as the source: an action due in 2026-03 is due at the end of March 2026.
    var due: String?
    var status: String
    var progress: Int?
    var timeline: [ProgressUpdate]?
    var parent: String?
    /// Obstacles blocking it.
    var obstacles: [String]?
    var note: String?
    var source: String?
    var version: Int64?
    var createdAt: String?
    var updatedAt: String?

    enum CodingKeys: String, CodingKey, CaseIterable {
        case id, title, instrument, session, owner, counterpart, due, status, progress, timeline, parent, obstacles, note, source,
             version, createdAt, updatedAt
    }

    static let table = "actions"
    static let noun = "action"
    static let filters: [RecordFilter] = [
        .column("instrument"), .column("session", isInteger: true), .oneOf("status", Status.self), .column("parent"),
        // `official:kazem-jalali`, or the bare `kazem-jalali`.
        RecordFilter(field: "owner", .equalsAny(["owner", "owner_label"]), normalise: { $0.lowercased() }),
        RecordFilter(field: "obstacle", .listHolds("obstacles")),
    ]
    /// Neither done nor cancelled (the value is not used).
    static let isOpen = RecordFilter(field: "open", .noneOf("status", ["done", "cancelled"]))
    /// Overdue on a day: due before it, and open.
    static let overdueOn = RecordFilter(field: "asOf", .all([.below("due_by"), Self.isOpen.condition]))
    static let oldestDueFirst = RecordOrder("due_by", "id")
    static let referencedBy = [IncomingReference(table: "actions", column: "parent", nouns: "child actions"),
                               IncomingReference(table: "indicators", column: "action", nouns: "indicators")]
    /// Written by `progress` only, and rolled up into a parent.
    static let serviceFields: Set<String> = ["timeline"]
    static let fixedAfterCreate: Set<String> = ["progress"]

    var key: SQLValue { .text(self.id ?? "") }
    var columns: [(String, SQLValue)] {
        [("instrument", .optional(self.instrument)), ("session", self.session.map(SQLValue.integer) ?? .null),
         ("owner", .text(self.owner.key.lowercased())), ("owner_label", .text(self.owner.label.lowercased())), ("status", .text(self.status)), ("parent", .optional(self.parent)),
         ("due_by", .optional(self.dueBy)), ("obstacles", .text(barList(self.obstacles ?? [])))]
    }
    var searchText: String { [self.id ?? "", self.title, self.owner.label, self.note ?? ""].joined(separator: " ").lowercased() }
    var references: [OutgoingReference] {
        var references: [OutgoingReference] = []
        if let instrument { references.append(.to(Instrument.self, field: "instrument", .text(instrument))) }
        if let parent { references.append(.to(Action.self, field: "parent", .text(parent))) }
        for (index, obstacle) in (self.obstacles ?? []).enumerated() {
            references.append(.to(Obstacle.self, field: "obstacles[\(index)]", .text(obstacle)))
        }
        return references
    }
    static let remoteKinds = RemoteKind.parties(at: ["owner", "counterpart"], sessions: ["session"])
    var remoteReferences: [RemoteReference] {
        var references = [self.owner.remoteReference(field: "owner"), self.counterpart?.remoteReference(field: "counterpart")].compactMap { $0 }
        if let session { references.append(.session(session, field: "session")) }
        return references
    }

    /// The last day of the due date (YYYY-MM-DD): the action is overdue from the day after.
    var dueBy: String? {
        guard let due else { return nil }
        return (try? PartialDate(parsing: due, field: "due"))?.lastDayText
    }

    func normalised(isNew: Bool) throws(ConcordError) -> Action {
        var record = self
        record.id = try FieldRules.slugKey(self.id, isNew: isNew, prefix: "action")
        record.title = try FieldRules.text(self.title, field: "title", max: 500)
        record.instrument = try self.instrument.map { instrument throws(ConcordError) in try FieldRules.slug(instrument, field: "instrument") }
        record.session = try sessionNumber(self.session, field: "session")
        record.owner = try self.owner.normalised(field: "owner")
        record.counterpart = try self.counterpart?.normalised(field: "counterpart")
        record.due = try PartialDate.optional(self.due, field: "due")
        record.status = try FieldRules.oneOf(self.status, Status.self, field: "status").rawValue
        let progress = self.progress ?? 0
        guard (0...100).contains(progress) else {
            throw ConcordError(.badRequest, "progress is a percentage from 0 to 100; got \(progress)", field: "progress",
                rule: .range(low: "0", high: "100", got: "\(progress)"))
        }
        record.progress = progress
        record.parent = try self.parent.map { parent throws(ConcordError) in try FieldRules.slug(parent, field: "parent") }
        if let parent = record.parent, parent == record.id {
            throw ConcordError(.badRequest, "an action cannot be its own parent", field: "parent", rule: .differs(other: "id"))
        }
        record.obstacles = try self.obstacles.map { obstacles throws(ConcordError) in
            try FieldRules.slugList(obstacles, field: "obstacles")
        }
        record.note = try FieldRules.optionalText(self.note, field: "note", max: 2000)
        record.source = try FieldRules.optionalText(self.source, field: "source", max: 1000)
        return record
    }

    /// A parent's progress is the average of its children's (cancelled children left out),
    /// recomputed in the transaction of every child's create, change and delete, and up the
    /// chain of parents in turn.
    static func afterWrite(old: Action?, new: Action?, in transaction: RecordTransaction) async throws {
        if let new, let start = new.parent {
            // Up the chain of parents: meeting this action again would be a cycle.
            var seen: Set<String> = []
            var cursor: String? = start
            while let id = cursor, seen.insert(id).inserted {
                if id == new.id {
                    throw ConcordError(.badRequest, "parent \(start) would make a cycle of actions", field: "parent", rule: .cycle)
                }
                cursor = try await transaction.get(Action.self, key: .text(id))?.parent
            }
        }
        let parents = Set([old?.parent, new?.parent].compactMap { $0 })
        for parentID in parents.sorted() {
            guard var parent = try await transaction.get(Action.self, key: .text(parentID)) else { continue }
            let children = try await transaction.all(Action.self, where: ["parent": .text(parentID)])
            let counted = children.filter { $0.status != Status.cancelled.rawValue }
            guard !counted.isEmpty else { continue }
            let rolledUp = Int((Double(counted.map { $0.progress ?? 0 }.reduce(0, +)) / Double(counted.count)).rounded())
            guard parent.progress != rolledUp else { continue }
            parent.progress = rolledUp
            try await transaction.rewrite(parent, change: .object(["progress": .integer(Int64(rolledUp)), "rolledUpFrom": .integer(Int64(counted.count))]))
        }
    }
}
