import ConcordFields
import ConcordProtocol
import ConcordRecords
import ConcordStorage

/// How one instrument stands to another (IATI's related activities, the UN Treaty
/// Collection's amending protocols): `from` amends, extends, supersedes or implements `to`.
/// Its id is derived: `FROM--KIND--TO`.
struct Relation: StoredRecord, Equatable {
    enum Kind: String, CaseIterable {
        case amends, extends, supersedes, implements
    }

    var id: String?
    var from: String
    var kind: String
    var to: String
    var note: String?
    var source: String?
    var version: Int64?
    var createdAt: String?
    var updatedAt: String?

    enum CodingKeys: String, CodingKey, CaseIterable {
        case id, from, kind, to, note, source, version, createdAt, updatedAt
    }

    static let table = "relations"
    static let noun = "relation"
    static let filters: [RecordFilter] = [
        .oneOf("kind", Kind.self),
        RecordFilter(field: "instrument", .equalsAny(["source_instrument", "target_instrument"])),
    ]

    var key: SQLValue { .text(self.id ?? "") }
    var columns: [(String, SQLValue)] {
        [("source_instrument", .text(self.from)), ("target_instrument", .text(self.to)), ("kind", .text(self.kind))]
    }
    var searchText: String { [self.from, self.kind, self.to, self.note ?? ""].joined(separator: " ").lowercased() }
    var references: [OutgoingReference] {
        [.to(Instrument.self, field: "from", .text(self.from)), .to(Instrument.self, field: "to", .text(self.to))]
    }

    func normalised(isNew: Bool) throws(ConcordError) -> Relation {
        var record = self
        record.from = try FieldRules.slug(self.from, field: "from")
        record.to = try FieldRules.slug(self.to, field: "to")
        guard record.from != record.to else {
            throw ConcordError(.badRequest, "an instrument cannot relate to itself", field: "to", rule: .differs(other: "from"))
        }
        record.kind = try FieldRules.oneOf(self.kind, Kind.self, field: "kind").rawValue
        let derived = "\(record.from)--\(record.kind)--\(record.to)"
        if let id = self.id, id != derived {
            throw ConcordError(.badRequest, "id of a relation is FROM--KIND--TO (\(derived)); got '\(id)'", field: "id")
        }
        record.id = derived
        record.note = try FieldRules.optionalText(self.note, field: "note", max: 2000)
        record.source = try FieldRules.optionalText(self.source, field: "source", max: 1000)
        return record
    }
}
