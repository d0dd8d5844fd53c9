import ConcordFields
import ConcordProtocol
import ConcordTradeCodes
import ConcordRecords
import ConcordStorage

/// One trade figure in UN Comtrade's model: a reporter's imports or exports with a partner, of
/// a commodity, in a period, as one source published it on one day. A revision of a figure is
/// a new observation (same series, period and source; a later `published`): every revision is
/// kept; reads answer with the latest, or the latest published on or before a given day.
struct Observation: StoredRecord, Equatable {
    /// The reporting area: an ISO 3166-1 country, or an ISO 3166-2 region where a source
    /// reports by region.
    var reporter: String
    /// The partner area, or `W0`: the world.
    var partner: String
    var flow: String
    /// Comtrade's classification code (HS, H6...); `TOTAL` commodities have it too.
    var classification: String?
    /// `TOTAL` or an HS code of 2, 4 or 6 digits.
    var commodity: String?
    /// `YYYY` (annual) or `YYYYMM` (monthly); the frequency follows from it.
    var period: String
    /// USD, a decimal as text (exact).
    var primaryValue: String
    var cifValue: String?
    var fobValue: String?
    var netWeightKg: String?
    var quantity: String?
    var quantityUnit: String?
    /// Who published it: UN Comtrade, a customs service...
    var source: String
    /// The day the source published this figure (YYYY-MM-DD).
    var published: String
    var estimate: Bool?
    /// Generated for tests or benchmarks (`concord trade synth`), never a fact.
    var synthetic: Bool?
    var note: String?
    /// Derived: reporter, partner, flow, commodity, period, source, published.
    var id: String?
    var version: Int64?
    var createdAt: String?
    var updatedAt: String?

    enum CodingKeys: String, CodingKey, CaseIterable {
        case reporter, partner, flow, classification, commodity, period, primaryValue, cifValue, fobValue, netWeightKg, quantity,
             quantityUnit, source, published, estimate, synthetic, note, id, version, createdAt, updatedAt
    }

    static let table = "observations"
    static let noun = "observation"
    static let keyField = "id"
    static let keyIsInteger = false
    static let filters: [RecordFilter] = [
        .code("reporter"), .code("partner"), .code("flow"), .code("commodity"), .column("period"),
        RecordFilter(field: "source", condition: "source_key = ?", normalise: { $0.lowercased() }),
        .column("frequency"),
    ]
    /// For the reads: a span of periods, and the revisions published by a day.
    static let periodFrom = RecordFilter(field: "periodFrom", condition: "period >= ?")
    static let periodTo = RecordFilter(field: "periodTo", condition: "period <= ?")
    static let publishedBy = RecordFilter(field: "asPublishedOn", condition: "published <= ?")
    /// Reporters that are regions of a country: `IR` matches IR-01, IR-02...
    static let regionsOf = RecordFilter(field: "regionsOf", condition: "reporter LIKE ? || '-%'")
    static let byPeriod = RecordOrder(columns: "period, source_key, published, id")

    var key: SQLValue { .text(self.id ?? "") }
    var frequency: String { self.period.count == 4 ? "A" : "M" }
    var columns: [(String, SQLValue)] {
        [("reporter", .text(self.reporter)), ("partner", .text(self.partner)), ("flow", .text(self.flow)),
         ("commodity", .text(self.commodity ?? "TOTAL")), ("frequency", .text(self.frequency)), ("period", .text(self.period)),
         ("source_key", .text(self.source.lowercased())), ("published", .text(self.published)),
         ("value_milli", .integer(Milli.parse(self.primaryValue) ?? 0)), ("synthetic", .integer(self.synthetic == true ? 1 : 0))]
    }
    var searchText: String { [self.reporter, self.partner, self.flow, self.commodity ?? "", self.period, self.source].joined(separator: " ").lowercased() }

    func normalised(isNew: Bool) throws(ConcordError) -> Observation {
        var record = self
        record.reporter = try TradeCodes.area(self.reporter, field: "reporter", worldAllowed: false)
        record.partner = try TradeCodes.area(self.partner, field: "partner", worldAllowed: true)
        guard record.partner != record.reporter else {
            throw ConcordError(.badRequest, "partner must differ from reporter (\(record.reporter))", field: "partner")
        }
        record.flow = try FieldRules.oneOf(self.flow.lowercased(), TradeCodes.Flow.allCases.map { $0.rawValue.lowercased() }, field: "flow").uppercased()
        record.classification = try FieldRules.optionalText(self.classification, field: "classification", max: 8)?.uppercased()
        record.commodity = try TradeCodes.commodity(self.commodity, field: "commodity")
        record.period = try TradeCodes.period(self.period, field: "period").period
        record.primaryValue = try Self.money(self.primaryValue, field: "primaryValue")
        record.cifValue = try self.cifValue.map { value throws(ConcordError) in try Self.money(value, field: "cifValue") }
        record.fobValue = try self.fobValue.map { value throws(ConcordError) in try Self.money(value, field: "fobValue") }
        record.netWeightKg = try self.netWeightKg.map { value throws(ConcordError) in try FieldRules.decimal(value, field: "netWeightKg") }
        record.quantity = try self.quantity.map { value throws(ConcordError) in try FieldRules.decimal(value, field: "quantity") }
        record.quantityUnit = try FieldRules.optionalText(self.quantityUnit, field: "quantityUnit", max: 20)
        record.source = try FieldRules.text(self.source, field: "source", max: 200)
        let published = try PartialDate(parsing: self.published, field: "published")
        guard published.day != nil else {
            throw ConcordError(.badRequest, "published must be a full date, YYYY-MM-DD: the day the source published the figure", field: "published")
        }
        record.published = published.description
        record.note = try FieldRules.optionalText(self.note, field: "note", max: 1000)
        let derived = [record.reporter, record.partner, record.flow, record.commodity ?? "TOTAL", record.period,
                       FieldRules.slugish(record.source), record.published].joined(separator: "~")
        if let id = self.id, id != derived {
            throw ConcordError(.badRequest, "id of an observation is REPORTER~PARTNER~FLOW~COMMODITY~PERIOD~SOURCE~PUBLISHED (\(derived)); got '\(id)'", field: "id")
        }
        record.id = derived
        return record
    }

    /// A non-negative USD amount with at most three decimals, exact.
    private static func money(_ value: String, field: String) throws(ConcordError) -> String {
        let text = try FieldRules.decimal(value, field: field)
        guard !text.hasPrefix("-"), let milli = Milli.parse(text), milli >= 0 else {
            throw ConcordError(.badRequest, "\(field) must be a non-negative amount in USD with at most three decimals; got '\(value)'", field: field)
        }
        return Milli.format(milli)
    }
}
