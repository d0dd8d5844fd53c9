import ConcordFields
import ConcordProtocol
import ConcordRecords
import ConcordStorage

/// A person who takes part: a minister, an ambassador, a governor's representative...
struct Official: StoredRecord, Equatable {
    /// A slug such as `mehdi-dousti`; generated when a create leaves it out.
    var id: String?
    var name: String
    var localName: String?
    /// The name as each language writes it, by language code: {"fa": "مهدی دوستی", "ru": "..."}.
    var localNames: [String: String]?
    var title: String
    var organisation: String
    var country: String
    var source: String?
    var version: Int64?
    var createdAt: String?
    var updatedAt: String?

    enum CodingKeys: String, CodingKey, CaseIterable {
        case id, name, localName, localNames, title, organisation, country, source, version, createdAt, updatedAt
    }

    static let table = "officials"
    /// Agreements and trade-metrics name them: a delete asks them first.
    static let namedByOtherServices = true
    static let noun = "official"
    static let filters: [RecordFilter] = [.country("country"), .column("organisation")]
    static let referencedBy = [IncomingReference(table: "attendance", column: "official", nouns: "attendance records")]

    var key: SQLValue { .text(self.id ?? "") }
    var columns: [(String, SQLValue)] { [("country", .text(self.country)), ("organisation", .text(self.organisation))] }
    var searchText: String {
        ([self.id ?? "", self.name, self.localName ?? "", self.title, self.organisation] + (self.localNames ?? [:]).values.sorted())
            .joined(separator: " ").lowercased()
    }
    var references: [OutgoingReference] {
        [.to(Country.self, field: "country", .text(self.country))]
    }

    func normalised(isNew: Bool) throws(ConcordError) -> Official {
        var record = self
        record.id = try FieldRules.slugKey(self.id, isNew: isNew, prefix: "official")
        record.name = try FieldRules.text(self.name, field: "name")
        record.localName = try FieldRules.optionalText(self.localName, field: "localName")
        record.localNames = try FieldRules.localNames(self.localNames, field: "localNames")
        record.title = try FieldRules.text(self.title, field: "title", max: 300)
        record.organisation = try FieldRules.text(self.organisation, field: "organisation", max: 300)
        record.country = try FieldRules.countryCode(self.country, field: "country")
        record.source = try FieldRules.optionalText(self.source, field: "source", max: 1000)
        return record
    }
}
