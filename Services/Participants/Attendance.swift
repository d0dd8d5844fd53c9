import ConcordFields
import ConcordProtocol
import ConcordRecords
import ConcordStorage

/// Who attended which session, in which role. One record per official per session; its id is
/// `SESSION/OFFICIAL`, e.g. `6/mehdi-dousti`.
struct Attendance: StoredRecord, Equatable {
    var id: String?
    var session: Int64
    var official: String
    var role: String
    /// The region the attendee presented or represented, when there was one.
    var region: String?
    var note: String?
    var source: String?
    var version: Int64?
    var createdAt: String?
    var updatedAt: String?

    enum CodingKeys: String, CodingKey, CaseIterable {
        case id, session, official, role, region, note, source, version, createdAt, updatedAt
    }

    static let roles = [
        "co-chair", "ambassador", "delegation-head", "delegate", "presenter", "observer", "secretariat", "guest",
    ]

    static let table = "attendance"
    static let noun = "attendance record"
    static let filters: [RecordFilter] = [
        .column("session", isInteger: true), .column("official"), .oneOf("role", Self.roles), .region("region"),
    ]

    var key: SQLValue { .text(self.id ?? "") }
    var columns: [(String, SQLValue)] {
        [("session", .integer(self.session)), ("official", .text(self.official)), ("role", .text(self.role)),
         ("region", .optional(self.region))]
    }
    var searchText: String { [self.official, self.role, self.note ?? ""].joined(separator: " ").lowercased() }
    var references: [OutgoingReference] {
        var references: [OutgoingReference] = [
            .to(CommitteeSession.self, field: "session", .integer(self.session)),
            .to(Official.self, field: "official", .text(self.official)),
        ]
        if let region {
            references.append(.to(Region.self, field: "region", .text(region)))
        }
        return references
    }

    func normalised(isNew: Bool) throws(ConcordError) -> Attendance {
        var record = self
        try FieldRules.sessionNumber(self.session, field: "session")
        record.official = try FieldRules.slug(self.official, field: "official")
        let derivedID = "\(self.session)/\(record.official)"
        if let id = self.id, id != derivedID {
            throw ConcordError(.badRequest, "id of an attendance record is SESSION/OFFICIAL (\(derivedID)); got '\(id)'", field: "id")
        }
        record.id = derivedID
        record.role = try FieldRules.oneOf(self.role, Self.roles, field: "role")
        record.region = try FieldRules.optionalText(self.region, field: "region", max: 10)?.uppercased()
        record.note = try FieldRules.optionalText(self.note, field: "note", max: 2000)
        record.source = try FieldRules.optionalText(self.source, field: "source", max: 1000)
        return record
    }
}
