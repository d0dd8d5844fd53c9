import ConcordFields
import ConcordProtocol
import ConcordRecords
import ConcordStorage

/// A first-level subdivision of a country: an Iranian province, a Russian oblast, republic, krai...
struct Region: StoredRecord, Equatable {
    /// ISO 3166-2, e.g. IR-01 (Gilan) or RU-AST (Astrakhan).
    var code: String
    var country: String
    var kind: String
    var name: String
    /// Names in the local language(s), by language code: {"fa": "گیلان"}.
    var localNames: [String: String]?
    var capital: String?
    var sectors: [String]?
    var profile: String?
    var source: String?
    var version: Int64?
    var createdAt: String?
    var updatedAt: String?

    enum CodingKeys: String, CodingKey, CaseIterable {
        case code, country, kind, name, localNames, capital, sectors, profile, source, version, createdAt, updatedAt
    }

    static let kinds = [
        "province", "oblast", "republic", "krai", "federal-city", "autonomous-okrug", "autonomous-oblast", "other",
    ]

    static let table = "regions"
    /// Agreements and trade-metrics name them: a delete asks them first.
    static let namedByOtherServices = true
    static let noun = "region"
    static let keyField = "code"
    static let filters: [RecordFilter] = [
        .country("country"),
        .oneOf("kind", Self.kinds),
        RecordFilter(field: "sector", .listHolds("sectors")),
    ]
    static let referencedBy = [
        IncomingReference(table: "partnerships", column: "region_a", nouns: "partnerships"),
        IncomingReference(table: "partnerships", column: "region_b", nouns: "partnerships"),
        IncomingReference(table: "attendance", column: "region", nouns: "attendance records"),
    ]

    static func normaliseKey(_ text: String) -> String { text.uppercased() }

    var key: SQLValue { .text(self.code) }
    var columns: [(String, SQLValue)] {
        // Sectors as |a|b|, so one sector matches exactly with LIKE on either engine.
        [("country", .text(self.country)), ("kind", .text(self.kind)),
         ("sectors", .text("|" + (self.sectors ?? []).joined(separator: "|") + "|"))]
    }
    var searchText: String {
        ([self.code, self.name, self.capital ?? ""] + (self.localNames ?? [:]).values.sorted()).joined(separator: " ").lowercased()
    }
    var references: [OutgoingReference] {
        [.to(Country.self, field: "country", .text(self.country))]
    }

    func normalised(isNew: Bool) throws(ConcordError) -> Region {
        var record = self
        record.country = try FieldRules.countryCode(self.country, field: "country")
        record.code = try FieldRules.regionCode(self.code, field: "code")
        guard record.code.hasPrefix(record.country + "-") else {
            throw ConcordError(.badRequest, "code \(record.code) does not belong to country \(record.country)", field: "code")
        }
        record.kind = try FieldRules.oneOf(self.kind, Self.kinds, field: "kind")
        record.name = try FieldRules.text(self.name, field: "name")
        record.localNames = try FieldRules.localNames(self.localNames, field: "localNames")
        record.capital = try FieldRules.optionalText(self.capital, field: "capital")
        record.sectors = try self.sectors.map { sectors throws(ConcordError) in try FieldRules.slugList(sectors, field: "sectors") }
        record.profile = try FieldRules.optionalText(self.profile, field: "profile", max: 2000)
        record.source = try FieldRules.optionalText(self.source, field: "source", max: 1000)
        return record
    }
}
