import ConcordFields
import ConcordProtocol
import ConcordRecords
import ConcordStorage

/// Something named as holding joint work back (monetary and banking relations, legal
/// frameworks, standards...), who raised it and where, and what it affects.
struct Obstacle: StoredRecord, Equatable {
    enum Category: String, CaseIterable {
        case banking = "banking-and-payments", legal = "legal-framework", standards = "standards-and-certification", customs,
             logistics = "logistics-and-transport", visas = "visas-and-travel", other
    }

    enum Status: String, CaseIterable {
        case open, beingAddressed = "being-addressed", resolved
    }

    struct RaisedAt: Codable, Sendable, Hashable {
        var session: Int64?
        var official: String?
        var date: String?
    }

    struct Affects: Codable, Sendable, Hashable {
        var instruments: [String]?
        var actions: [String]?
    }

    var id: String?
    var category: String
    var title: String
    var description: String?
    var raisedAt: RaisedAt?
    var status: String
    var affects: Affects?
    var source: String?
    var version: Int64?
    var createdAt: String?
    var updatedAt: String?

    enum CodingKeys: String, CodingKey, CaseIterable {
        case id, category, title, description, raisedAt, status, affects, source, version, createdAt, updatedAt
    }

    static let table = "obstacles"
    static let noun = "obstacle"
    static let filters: [RecordFilter] = [
        .oneOf("category", Category.self), .oneOf("status", Status.self), .column("session", isInteger: true),
        RecordFilter(field: "instrument", .listHolds("affected_instruments")),
        RecordFilter(field: "action", .listHolds("affected_actions")),
    ]

    var key: SQLValue { .text(self.id ?? "") }
    var columns: [(String, SQLValue)] {
        [("category", .text(self.category)), ("status", .text(self.status)),
         ("session", self.raisedAt?.session.map(SQLValue.integer) ?? .null),
         ("affected_instruments", .text(barList(self.affects?.instruments ?? []))),
         ("affected_actions", .text(barList(self.affects?.actions ?? [])))]
    }
    var searchText: String { [self.id ?? "", self.title, self.description ?? "", self.category].joined(separator: " ").lowercased() }
    var references: [OutgoingReference] {
        (self.affects?.instruments ?? []).enumerated().map { .to(Instrument.self, field: "affects.instruments[\($0)]", .text($1)) }
            + (self.affects?.actions ?? []).enumerated().map { .to(Action.self, field: "affects.actions[\($0)]", .text($1)) }
    }
    static let remoteKinds: [RemoteKind] = [.sessions(at: ["raisedAt.session"]), .officials(at: ["raisedAt.official"])]
    var remoteReferences: [RemoteReference] {
        var references: [RemoteReference] = []
        if let session = self.raisedAt?.session { references.append(.session(session, field: "raisedAt.session")) }
        if let official = self.raisedAt?.official { references.append(.official(official, field: "raisedAt.official")) }
        return references
    }

    func normalised(isNew: Bool) throws(ConcordError) -> Obstacle {
        var record = self
        record.id = try FieldRules.slugKey(self.id, isNew: isNew, prefix: "obstacle")
        record.category = try FieldRules.oneOf(self.category, Category.self, field: "category").rawValue
        record.title = try FieldRules.text(self.title, field: "title", max: 300)
        record.description = try FieldRules.optionalText(self.description, field: "description", max: 4000)
        if let raisedAt = self.raisedAt {
            record.raisedAt = RaisedAt(
                session: try sessionNumber(raisedAt.session, field: "raisedAt.session"),
                official: try raisedAt.official.map { official throws(ConcordError) in try FieldRules.slug(official, field: "raisedAt.official") },
                date: try PartialDate.optional(raisedAt.date, field: "raisedAt.date")
            )
        }
        record.status = try FieldRules.oneOf(self.status, Status.self, field: "status").rawValue
        if let affects = self.affects {
            record.affects = Affects(
                instruments: try affects.instruments.map { list throws(ConcordError) in try FieldRules.slugList(list, field: "affects.instruments", maxCount: 100) },
                actions: try affects.actions.map { list throws(ConcordError) in try FieldRules.slugList(list, field: "affects.actions", maxCount: 100) }
            )
        }
        record.source = try FieldRules.optionalText(self.source, field: "source", max: 1000)
        return record
    }
}
