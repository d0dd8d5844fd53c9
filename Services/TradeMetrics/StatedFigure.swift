import ConcordFields
import ConcordProtocol
import ConcordTradeCodes
import ConcordRecords
import ConcordStorage

/// A figure someone stated (a growth or a value), by whom, where, about which span: kept beside
/// what the data say, never mixed with it.
struct StatedFigure: StoredRecord, Equatable {
    enum Measure: String, CaseIterable {
        case growth, value
    }

    var id: String?
    var measure: String
    /// A decimal as text: "8.2" (percent) for a growth, USD for a value.
    var value: String
    var unit: String
    /// The two areas; `flow` says which trade between them: X, M, or total (both ways).
    var reporter: String
    var partner: String
    var flow: String
    /// The span the figure is about, as months (YYYY-MM), and for a growth the base span.
    var from: String
    var to: String
    var baseFrom: String?
    var baseTo: String?
    var statedBy: String?
    var session: Int64?
    var statedOn: String?
    var note: String?
    var source: String
    var version: Int64?
    var createdAt: String?
    var updatedAt: String?

    enum CodingKeys: String, CodingKey, CaseIterable {
        case id, measure, value, unit, reporter, partner, flow, from, to, baseFrom, baseTo, statedBy, session, statedOn, note, source,
             version, createdAt, updatedAt
    }

    static let table = "stated_figures"
    static let noun = "stated figure"
    static let filters: [RecordFilter] = [
        // Either way round: a bilateral figure is the same whichever side is named first.
        RecordFilter(field: "pair", .equals("pair"), normalise: { $0.uppercased().split(separator: "|").sorted().joined(separator: "|") }),
        .column("span"), .column("session", isInteger: true),
    ]

    /// The pair as `AA|BB` in alphabetical order.
    static func pair(_ a: String, _ b: String) -> String { [a, b].sorted().joined(separator: "|") }

    var key: SQLValue { .text(self.id ?? "") }
    var columns: [(String, SQLValue)] {
        [("pair", .text(Self.pair(self.reporter, self.partner))), ("span", .text(self.from + "/" + self.to)),
         ("session", self.session.map(SQLValue.integer) ?? .null)]
    }
    var searchText: String { [self.id ?? "", self.value, self.note ?? "", self.source].joined(separator: " ").lowercased() }
    static let remoteKinds: [RemoteKind] = [.officials(at: ["statedBy"]), .sessions(at: ["session"])]
    var remoteReferences: [RemoteReference] {
        var references: [RemoteReference] = []
        if let statedBy { references.append(.official(statedBy, field: "statedBy")) }
        if let session { references.append(.session(session, field: "session")) }
        return references
    }

    func normalised(isNew: Bool) throws(ConcordError) -> StatedFigure {
        var record = self
        record.id = try FieldRules.slugKey(self.id, isNew: isNew, prefix: "stated")
        record.measure = try FieldRules.oneOf(self.measure, Measure.self, field: "measure").rawValue
        record.value = try FieldRules.decimal(self.value, field: "value")
        record.unit = try FieldRules.oneOf(self.unit, ["percent", "usd"], field: "unit")
        guard (record.measure == "growth") == (record.unit == "percent") else {
            throw ConcordError(
                .badRequest, "a growth is stated in percent, a value in usd", field: "unit",
                rule: .oneOf(allowed: [record.measure == "growth" ? "percent" : "usd"], got: record.unit)
            )
        }
        record.reporter = try TradeCodes.area(self.reporter, field: "reporter", worldAllowed: false)
        record.partner = try TradeCodes.area(self.partner, field: "partner", worldAllowed: true)
        record.flow = try FieldRules.oneOf(self.flow, ["x", "m", "total"], field: "flow")
        record.flow = record.flow == "total" ? "total" : record.flow.uppercased()
        record.from = try Self.month(self.from, field: "from")
        record.to = try Self.month(self.to, field: "to")
        guard record.from <= record.to else { throw ConcordError(.badRequest, "to \(record.to) is before from \(record.from)", field: "to", rule: .notBefore(other: "from")) }
        record.baseFrom = try self.baseFrom.map { value throws(ConcordError) in try Self.month(value, field: "baseFrom") }
        record.baseTo = try self.baseTo.map { value throws(ConcordError) in try Self.month(value, field: "baseTo") }
        guard record.measure == "value" || (record.baseFrom != nil && record.baseTo != nil) else {
            throw ConcordError(.badRequest, "a growth needs the base span it is against: baseFrom and baseTo", field: "baseFrom", rule: .required)
        }
        record.statedBy = try self.statedBy.map { value throws(ConcordError) in try FieldRules.slug(value, field: "statedBy") }
        record.session = try self.session.map { number throws(ConcordError) in try FieldRules.sessionNumber(number, field: "session") }
        record.statedOn = try PartialDate.optional(self.statedOn, field: "statedOn")
        record.note = try FieldRules.optionalText(self.note, field: "note", max: 2000)
        record.source = try FieldRules.text(self.source, field: "source", max: 1000)
        return record
    }

    /// A month as YYYY-MM.
    private static func month(_ value: String, field: String) throws(ConcordError) -> String {
        let month = try TradeCodes.month(value, field: field)
        return String(month.prefix(4)) + "-" + String(month.suffix(2))
    }
}
