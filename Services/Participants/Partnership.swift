import ConcordFields
import ConcordProtocol
import ConcordRecords
import ConcordStorage

/// Two regions that cooperate under an instrument (agreement, memorandum, sister-region ties...).
struct Partnership: StoredRecord, Equatable {
    var id: String?
    var regionA: String
    var regionB: String
    /// As precise as the source: 1994, 2017-05 or 2017-05-12.
    var since: String?
    var instrument: String
    var note: String?
    var source: String?
    var version: Int64?
    var createdAt: String?
    var updatedAt: String?

    enum CodingKeys: String, CodingKey, CaseIterable {
        case id, regionA, regionB, since, instrument, note, source, version, createdAt, updatedAt
    }

    static let table = "partnerships"
    static let noun = "partnership"
    static let filters: [RecordFilter] = [
        RecordFilter(field: "region", .equalsAny(["region_a", "region_b"]), normalise: { $0.uppercased() }),
    ]

    var key: SQLValue { .text(self.id ?? "") }
    var columns: [(String, SQLValue)] { [("region_a", .text(self.regionA)), ("region_b", .text(self.regionB))] }
    var searchText: String { [self.regionA, self.regionB, self.instrument, self.note ?? ""].joined(separator: " ").lowercased() }
    var references: [OutgoingReference] {
        [.to(Region.self, field: "regionA", .text(self.regionA)), .to(Region.self, field: "regionB", .text(self.regionB))]
    }

    func normalised(isNew: Bool) throws(ConcordError) -> Partnership {
        var record = self
        record.id = try FieldRules.slugKey(self.id, isNew: isNew, prefix: "partnership")
        record.regionA = try FieldRules.text(self.regionA, field: "regionA", max: 10).uppercased()
        record.regionB = try FieldRules.text(self.regionB, field: "regionB", max: 10).uppercased()
        guard record.regionA != record.regionB else {
            throw ConcordError(.badRequest, "regionB must differ from regionA (\(record.regionA))", field: "regionB", rule: .differs(other: "regionA"))
        }
        record.since = try PartialDate.optional(self.since, field: "since")
        record.instrument = try FieldRules.text(self.instrument, field: "instrument")
        record.note = try FieldRules.optionalText(self.note, field: "note", max: 2000)
        record.source = try FieldRules.optionalText(self.source, field: "source", max: 1000)
        return record
    }
}
