import ConcordWire
import ConcordFields
import ConcordProtocol
import ConcordRecords
import ConcordStorage

/// An agreement in the wide sense: a treaty, an agreement, a memorandum, a protocol, a
/// programme, a session's decision, a proposal. Its kind says what it is called; whether it binds
/// is its status and its parties' events (the UN Treaty Collection keeps them apart too).
struct Instrument: StoredRecord, Equatable {
    enum Kind: String, Codable, CaseIterable {
        case treaty, agreement, memorandum, `protocol`, programme, decision, proposal
    }

    enum Sector: String, CaseIterable {
        case transport, agriculture, banking = "banking-and-finance", trade, energy, industry, standards, customs,
             tourism, education, culture, health, other
    }

    static let partyRoles = ["proposer", "supporter", "signatory", "party", "implementer", "coordinator", "depositary", "observer"]

    struct Party: Codable, Sendable, Hashable {
        var party: PartyRef
        var role: String
    }

    /// One party's action on the instrument (UN Treaty Collection): signature, ratification,
    /// acceptance, approval, accession, entry into force for that party.
    struct PartyEvent: Codable, Sendable, Hashable {
        static let events = ["signature", "ratification", "acceptance", "approval", "accession", "entry-into-force"]
        var party: PartyRef
        var event: String
        var date: String
        var source: String?
    }

    /// A move of status, as the history keeps it.
    struct Transition: Codable, Sendable, Hashable {
        var from: String
        var to: String
        var date: String
        var note: String?
        var source: String?
        var by: String
        var at: String
        var forced: Bool?
    }

    var id: String?
    var kind: String
    var title: String
    /// Titles in the parties' languages, by language code: {"fa": "...", "ru": "..."}.
    var localTitles: [String: String]?
    var parties: [Party]?
    var sectors: [String]?
    /// The session where it was proposed or agreed.
    var session: Int64?
    var proposed: String?
    var signed: String?
    var inForce: String?
    var expires: String?
    var status: String
    var history: [Transition]?
    var partyEvents: [PartyEvent]?
    var summary: String?
    var source: String?
    var version: Int64?
    var createdAt: String?
    var updatedAt: String?

    enum CodingKeys: String, CodingKey, CaseIterable {
        case id, kind, title, localTitles, parties, sectors, session, proposed, signed, inForce, expires, status, history,
             partyEvents, summary, source, version, createdAt, updatedAt
    }

    static let table = "instruments"
    static let noun = "instrument"
    static let filters: [RecordFilter] = [
        .oneOf("kind", Kind.self), .oneOf("status", InstrumentStatus.self), .column("session", isInteger: true),
        .oneOf("sector", Sector.self, .listHolds("sectors")),
        RecordFilter(field: "party", .listHolds("parties")),
    ]
    static let referencedBy = [
        IncomingReference(table: "actions", column: "instrument", nouns: "actions"),
        IncomingReference(table: "relations", column: "source_instrument", nouns: "relations"),
        IncomingReference(table: "relations", column: "target_instrument", nouns: "relations"),
        IncomingReference(table: "indicators", column: "instrument", nouns: "indicators"),
    ]
    /// The history is written by `transition` only.
    static let serviceFields: Set<String> = ["history"]
    /// The status is set on create and moved by `transition` only.
    static let fixedAfterCreate: Set<String> = ["status"]

    var key: SQLValue { .text(self.id ?? "") }
    var columns: [(String, SQLValue)] {
        [("kind", .text(self.kind)), ("status", .text(self.status)), ("session", self.session.map(SQLValue.integer) ?? .null),
         ("sectors", .text(barList(self.sectors ?? []))), ("parties", .text(barList((self.parties ?? []).map(\.party.key))))]
    }
    var searchText: String {
        ([self.id ?? "", self.title, self.summary ?? ""] + (self.localTitles ?? [:]).values.sorted()).joined(separator: " ").lowercased()
    }
    static let remoteKinds = RemoteKind.parties(at: ["parties[].party", "partyEvents[].party"], sessions: ["session"])
    var remoteReferences: [RemoteReference] {
        var references = (self.parties ?? []).enumerated().compactMap { index, party in party.party.remoteReference(field: "parties[\(index)].party") }
        references += (self.partyEvents ?? []).enumerated().compactMap { index, event in event.party.remoteReference(field: "partyEvents[\(index)].party") }
        if let session { references.append(.session(session, field: "session")) }
        return references
    }

    func normalised(isNew: Bool) throws(ConcordError) -> Instrument {
        var record = self
        record.id = try FieldRules.slugKey(self.id, isNew: isNew, prefix: "instrument")
        record.kind = try FieldRules.oneOf(self.kind, Kind.self, field: "kind").rawValue
        record.title = try FieldRules.text(self.title, field: "title", max: 500)
        record.localTitles = try FieldRules.localNames(self.localTitles, field: "localTitles", max: 500)
        if let parties = self.parties {
            guard parties.count <= 50 else {
                throw ConcordError(.badRequest, "parties has \(parties.count) entries; the most allowed is 50", field: "parties", rule: .tooMany(max: 50))
            }
            record.parties = try parties.enumerated().map { index, party throws(ConcordError) in
                Party(
                    party: try party.party.normalised(field: "parties[\(index)].party"),
                    role: try FieldRules.oneOf(party.role, Self.partyRoles, field: "parties[\(index)].role")
                )
            }
        }
        record.sectors = try self.sectors.map { sectors throws(ConcordError) in
            try sectors.enumerated().map { index, sector throws(ConcordError) in
                try FieldRules.oneOf(sector, Sector.self, field: "sectors[\(index)]").rawValue
            }
        }
        record.session = try sessionNumber(self.session, field: "session")
        record.proposed = try PartialDate.optional(self.proposed, field: "proposed")
        record.signed = try PartialDate.optional(self.signed, field: "signed")
        record.inForce = try PartialDate.optional(self.inForce, field: "inForce")
        record.expires = try PartialDate.optional(self.expires, field: "expires")
        if let signed = record.signed, let inForce = record.inForce, inForce < signed {
            throw ConcordError(.badRequest, "inForce \(inForce) is before signed \(signed)", field: "inForce", rule: .notBefore(other: "signed"))
        }
        record.status = try FieldRules.oneOf(self.status, InstrumentStatus.self, field: "status").rawValue
        if let events = self.partyEvents {
            guard events.count <= 100 else {
                throw ConcordError(.badRequest, "partyEvents has \(events.count) entries; the most allowed is 100", field: "partyEvents", rule: .tooMany(max: 100))
            }
            record.partyEvents = try events.enumerated().map { index, event throws(ConcordError) in
                PartyEvent(
                    party: try event.party.normalised(field: "partyEvents[\(index)].party"),
                    event: try FieldRules.oneOf(event.event, PartyEvent.events, field: "partyEvents[\(index)].event"),
                    date: try PartialDate(parsing: event.date, field: "partyEvents[\(index)].date").description,
                    source: try FieldRules.optionalText(event.source, field: "partyEvents[\(index)].source", max: 1000)
                )
            }
        }
        record.summary = try FieldRules.optionalText(self.summary, field: "summary", max: 4000)
        record.source = try FieldRules.optionalText(self.source, field: "source", max: 1000)
        return record
    }
}
