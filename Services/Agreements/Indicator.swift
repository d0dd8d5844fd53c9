import ConcordFields
import ConcordProtocol
import ConcordRecords
import ConcordStorage
import ConcordWire

/// A measure of an instrument's or an action's results (IATI's result model): a baseline, a
/// target and dated actuals, optionally bound to a trade series so that a target such as
/// "raise turnover by X%" can be checked against trade data. Values are decimal text, exact.
struct Indicator: StoredRecord, Equatable {
    struct Value: Codable, Sendable, Hashable {
        var value: String
        var date: String
        var source: String?
    }

    /// A series trade-metrics keeps: reporter, partner, flow, commodity.
    struct Series: Codable, Sendable, Hashable {
        var reporter: String
        var partner: String
        var flow: String
        var commodity: String?
    }

    /// Comtrade's flow codes, and TOTAL for imports and exports together; stored upper-case.
    static let flows = ["m", "x", "rm", "rx", "total"]

    var id: String?
    var title: String
    var instrument: String?
    var action: String?
    /// The unit or measure: USD, percent, tonnes, count...
    var measure: String
    /// True when more is better.
    var ascending: Bool
    var baseline: Value?
    var target: Value?
    var actuals: [Value]?
    var series: Series?
    var source: String?
    var version: Int64?
    var createdAt: String?
    var updatedAt: String?

    enum CodingKeys: String, CodingKey, CaseIterable {
        case id, title, instrument, action, measure, ascending, baseline, target, actuals, series, source, version, createdAt, updatedAt
    }

    static let table = "indicators"
    static let noun = "indicator"
    static let filters: [RecordFilter] = [.column("instrument"), .column("action")]

    var key: SQLValue { .text(self.id ?? "") }
    var columns: [(String, SQLValue)] { [("instrument", .optional(self.instrument)), ("action", .optional(self.action))] }
    var searchText: String { [self.id ?? "", self.title, self.measure].joined(separator: " ").lowercased() }
    var references: [OutgoingReference] {
        [self.instrument.map { OutgoingReference.to(Instrument.self, field: "instrument", .text($0)) },
         self.action.map { OutgoingReference.to(Action.self, field: "action", .text($0)) }].compactMap { $0 }
    }

    func normalised(isNew: Bool) throws(ConcordError) -> Indicator {
        var record = self
        record.id = try FieldRules.slugKey(self.id, isNew: isNew, prefix: "indicator")
        record.title = try FieldRules.text(self.title, field: "title", max: 300)
        guard (self.instrument == nil) != (self.action == nil) else {
            throw ConcordError(.badRequest, "an indicator measures exactly one of an instrument or an action", field: "instrument")
        }
        record.instrument = try self.instrument.map { value throws(ConcordError) in try FieldRules.slug(value, field: "instrument") }
        record.action = try self.action.map { value throws(ConcordError) in try FieldRules.slug(value, field: "action") }
        record.measure = try FieldRules.text(self.measure, field: "measure", max: 40)
        record.baseline = try self.baseline.map { value throws(ConcordError) in try Self.value(value, field: "baseline") }
        record.target = try self.target.map { value throws(ConcordError) in try Self.value(value, field: "target") }
        record.actuals = try self.actuals.map { values throws(ConcordError) in
            guard values.count <= 500 else {
                throw ConcordError(.badRequest, "actuals has \(values.count) entries; the most allowed is 500", field: "actuals", rule: .tooMany(max: 500))
            }
            return try values.enumerated().map { index, value throws(ConcordError) in try Self.value(value, field: "actuals[\(index)]") }
        }
        if let series = self.series {
            record.series = Series(
                reporter: try FieldRules.countryCode(series.reporter, field: "series.reporter"),
                partner: try FieldRules.countryCode(series.partner, field: "series.partner"),
                flow: try FieldRules.oneOf(series.flow, Self.flows, field: "series.flow").uppercased(),
                commodity: try FieldRules.optionalText(series.commodity, field: "series.commodity", max: 12)
            )
        }
        record.source = try FieldRules.optionalText(self.source, field: "source", max: 1000)
        return record
    }

    /// What checks it against trade data, when it is bound to a series and has a baseline and
    /// a target.
    var check: IndicatorCheck? {
        guard let id = self.id, let series = self.series, let baseline = self.baseline, let target = self.target else { return nil }
        return IndicatorCheck(IndicatorCheck.Indicator(
            id: id, title: self.title, measure: self.measure,
            baseline: .init(value: baseline.value, date: baseline.date), target: .init(value: target.value, date: target.date),
            series: .init(reporter: series.reporter, partner: series.partner, flow: series.flow, commodity: series.commodity)
        ))
    }

    private static func value(_ value: Value, field: String) throws(ConcordError) -> Value {
        Value(
            value: try FieldRules.decimal(value.value, field: "\(field).value"),
            date: try PartialDate(parsing: value.date, field: "\(field).date").description,
            source: try FieldRules.optionalText(value.source, field: "\(field).source", max: 1000)
        )
    }
}
