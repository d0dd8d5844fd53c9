import ConcordFields
import ConcordProtocol
import ConcordRecords
import ConcordStorage

/// A country taking part, by its ISO 3166-1 code.
struct Country: StoredRecord, Equatable {
    var code: String
    var name: String
    var localName: String?
    var source: String?
    var version: Int64?
    var createdAt: String?
    var updatedAt: String?

    enum CodingKeys: String, CodingKey, CaseIterable {
        case code, name, localName, source, version, createdAt, updatedAt
    }

    static let table = "countries"
    /// Agreements and trade-metrics name them: a delete asks them first.
    static let namedByOtherServices = true
    static let noun = "country"
    static let keyField = "code"
    static let filters: [RecordFilter] = []
    static let referencedBy = [
        IncomingReference(table: "regions", column: "country", nouns: "regions"),
        IncomingReference(table: "officials", column: "country", nouns: "officials"),
        IncomingReference(table: "sessions", column: "host_country", nouns: "sessions"),
    ]

    static func normaliseKey(_ text: String) -> String { text.uppercased() }

    var key: SQLValue { .text(self.code) }
    var columns: [(String, SQLValue)] { [] }
    var searchText: String { [self.code, self.name, self.localName ?? ""].joined(separator: " ").lowercased() }

    func normalised(isNew: Bool) throws(ConcordError) -> Country {
        var record = self
        record.code = try FieldRules.countryCode(self.code, field: "code")
        record.name = try FieldRules.text(self.name, field: "name")
        record.localName = try FieldRules.optionalText(self.localName, field: "localName")
        record.source = try FieldRules.optionalText(self.source, field: "source", max: 1000)
        return record
    }
}
