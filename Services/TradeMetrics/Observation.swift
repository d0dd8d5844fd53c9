import ConcordFields
import ConcordProtocol
import ConcordTradeCodes
import ConcordRecords
import ConcordWire
import ConcordStorage
import NIOConcurrencyHelpers

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
    static let filters: [RecordFilter] = [
        .code("reporter"), .code("partner"), .code("flow"), .code("commodity"), .column("period"),
        RecordFilter(field: "source", .equals("source_key"), normalise: { $0.lowercased() }),
        .column("frequency"),
    ]
    /// For the reads: a span of periods, and the revisions published by a day.
    static let periodFrom = RecordFilter(field: "periodFrom", .atLeast("period"))
    static let periodTo = RecordFilter(field: "periodTo", .atMost("period"))
    static let publishedBy = RecordFilter(field: "asPublishedOn", .atMost("published"))
    /// Reporters that are regions of a country: `IR` matches IR-01, IR-02...
    static let regionsOf = RecordFilter(field: "regionsOf", .subdivisionOf("reporter"))
    static let byPeriod = RecordOrder("period", "source_key", "published", "id")
    /// Keys from a prefix on: with `keyBefore`, a range of the key's index. Every read names
    /// one, since the key is the only index a series is read by.
    static let keyFrom = RecordFilter(field: "keyFrom", .atLeast("id"))
    static let keyBefore = RecordFilter(field: "keyBefore", .below("id"))

    /// The range of keys that begin with `prefix`: every byte of a key is below 0x7F.
    static func keys(startingWith prefix: String) -> [(RecordFilter, SQLValue)] {
        [(Self.keyFrom, .text(prefix)), (Self.keyBefore, .text(prefix + "\u{7F}"))]
    }

    var key: SQLValue { .text(self.id ?? "") }

    /// A single write moves the generation on, so the totals held in memory reload.
    static func afterWrite(old: Observation?, new: Observation?, in transaction: RecordTransaction) async throws {
        _ = try await SeriesTotals.bump(in: transaction)
    }

    /// An observation from a row of a table body (`TableBody`); `columns` are checked field
    /// names. Required fields may be missing here: `normalised` names them.
    init(row: [TableBody.Cell], columns: [CodingKeys], index: Int) throws(ConcordError) {
        self.init(reporter: "", partner: "", flow: "", period: "", primaryValue: "", source: "", published: "")
        for (cell, column) in zip(row, columns) {
            var field: String { "rows[\(index)].\(column.rawValue)" }
            switch (column, cell) {
            case (_, .null): continue
            case (.estimate, .flag(let flag)): self.estimate = flag
            case (.synthetic, .flag(let flag)): self.synthetic = flag
            case (.estimate, _), (.synthetic, _):
                throw ConcordError(.badRequest, "\(field) must be true, false or null", field: field, rule: .type(expected: .boolean))
            case (.version, _), (.createdAt, _), (.updatedAt, _):
                throw ConcordError(.badRequest, "\(field) is kept by the service; leave it out", field: field)
            case (_, .flag):
                throw ConcordError(.badRequest, "\(field) must be text", field: field, rule: .type(expected: .string))
            case (_, .text(let text)):
                switch column {
                case .reporter: self.reporter = text
                case .partner: self.partner = text
                case .flow: self.flow = text
                case .classification: self.classification = text
                case .commodity: self.commodity = text
                case .period: self.period = text
                case .primaryValue: self.primaryValue = text
                case .cifValue: self.cifValue = text
                case .fobValue: self.fobValue = text
                case .netWeightKg: self.netWeightKg = text
                case .quantity: self.quantity = text
                case .quantityUnit: self.quantityUnit = text
                case .source: self.source = text
                case .published: self.published = text
                case .note: self.note = text
                case .id: self.id = text
                case .estimate, .synthetic, .version, .createdAt, .updatedAt: break
                }
            }
        }
    }

    init(reporter: String, partner: String, flow: String, period: String, primaryValue: String, source: String, published: String) {
        self.reporter = reporter
        self.partner = partner
        self.flow = flow
        self.period = period
        self.primaryValue = primaryValue
        self.source = source
        self.published = published
    }
    var frequency: String { self.period.count == 4 ? "A" : "M" }
    var columns: [(String, SQLValue)] {
        [("reporter", .text(self.reporter)), ("partner", .text(self.partner)), ("flow", .text(self.flow)),
         ("commodity", .text(self.commodity ?? "TOTAL")), ("frequency", .text(self.frequency)), ("period", .text(self.period)),
         ("source_key", .text(self.source.lowercased())), ("published", .text(self.published)),
         ("value_milli", .integer(Milli.parse(self.primaryValue) ?? 0)), ("synthetic", Self.flag(self.synthetic))]
    }
    /// The rest of the document, which the view over the rows makes from them (migration 5).
    var documentColumns: [(String, SQLValue)] {
        [("source", .text(self.source)), ("classification", Self.text(self.classification)), ("cif_value", Self.text(self.cifValue)),
         ("fob_value", Self.text(self.fobValue)), ("net_weight_kg", Self.text(self.netWeightKg)), ("quantity", Self.text(self.quantity)),
         ("quantity_unit", Self.text(self.quantityUnit)), ("estimate", Self.flag(self.estimate)), ("note", Self.text(self.note))]
    }
    private static func text(_ text: String?) -> SQLValue { text.map(SQLValue.text) ?? .null }
    /// A flag as given: 1, 0, or NULL when the source did not say.
    private static func flag(_ flag: Bool?) -> SQLValue { flag.map { .integer($0 ? 1 : 0) } ?? .null }
    var searchText: String { [self.reporter, self.partner, self.flow, self.commodity ?? "", self.period, self.source].joined(separator: " ").lowercased() }

    func normalised(isNew: Bool) throws(ConcordError) -> Observation {
        var record = self
        record.reporter = try TradeCodes.area(self.reporter, field: "reporter", worldAllowed: false)
        record.partner = try TradeCodes.area(self.partner, field: "partner", worldAllowed: true)
        guard record.partner != record.reporter else {
            throw ConcordError(.badRequest, "partner must differ from reporter (\(record.reporter))", field: "partner", rule: .differs(other: "reporter"))
        }
        guard let flow = TradeCodes.Flow(rawValue: self.flow.trimmingSpaces().uppercasedIfNeeded()) else {
            throw ConcordError(
                .badRequest, "flow must be one of x, m, rx, rm (Comtrade's flow codes); got '\(self.flow)'", field: "flow",
                rule: .oneOf(allowed: ["x", "m", "rx", "rm"], got: self.flow)
            )
        }
        record.flow = flow.rawValue
        record.classification = try FieldRules.optionalText(self.classification, field: "classification", max: 8)?.uppercasedIfNeeded()
        record.commodity = try TradeCodes.commodity(self.commodity, field: "commodity")
        record.period = try TradeCodes.period(self.period, field: "period").period
        record.primaryValue = try Self.money(self.primaryValue, field: "primaryValue")
        record.cifValue = try self.cifValue.map { value throws(ConcordError) in try Self.money(value, field: "cifValue") }
        record.fobValue = try self.fobValue.map { value throws(ConcordError) in try Self.money(value, field: "fobValue") }
        record.netWeightKg = try self.netWeightKg.map { value throws(ConcordError) in try FieldRules.decimal(value, field: "netWeightKg") }
        record.quantity = try self.quantity.map { value throws(ConcordError) in try FieldRules.decimal(value, field: "quantity") }
        record.quantityUnit = try FieldRules.optionalText(self.quantityUnit, field: "quantityUnit", max: 20)
        record.source = try FieldRules.text(self.source, field: "source", max: 200)
        record.published = try Self.day(self.published, field: "published")
        record.note = try FieldRules.optionalText(self.note, field: "note", max: 1000)
        let derived = Self.key(record.reporter, record.partner, record.flow, record.commodity ?? "TOTAL", record.period, Self.sourceSlug(record.source), record.published)
        if let id = self.id, id != derived {
            throw ConcordError(.badRequest, "id of an observation is REPORTER~PARTNER~FLOW~COMMODITY~PERIOD~SOURCE~PUBLISHED (\(derived)); got '\(id)'", field: "id")
        }
        record.id = derived
        return record
    }

    /// The document by hand, in `JSONEncoder`'s sorted-keys form: an import writes millions of
    /// them, and the encoder cost as much as the rest of a row's checks. Text with control
    /// characters (which the encoder escapes its own way) takes the encoder's path.
    /// `ObservationDocumentTests` checks the two agree.
    func document() throws -> String {
        let texts: [String?] = [self.cifValue, self.classification, self.commodity, self.flow, self.fobValue, self.id, self.netWeightKg,
                                self.note, self.partner, self.period, self.primaryValue, self.published, self.quantity,
                                self.quantityUnit, self.reporter, self.source]
        guard !SortedJSONWriter.needsEncoder(texts) else { return try RecordStore.canonicalJSON(self.withoutMeta()) }
        var json = SortedJSONWriter(capacity: 512)
        json.add("cifValue", self.cifValue)
        json.add("classification", self.classification)
        json.add("commodity", self.commodity)
        json.add("estimate", self.estimate)
        json.add("flow", self.flow)
        json.add("fobValue", self.fobValue)
        json.add("id", self.id)
        json.add("netWeightKg", self.netWeightKg)
        json.add("note", self.note)
        json.add("partner", self.partner)
        json.add("period", self.period)
        json.add("primaryValue", self.primaryValue)
        json.add("published", self.published)
        json.add("quantity", self.quantity)
        json.add("quantityUnit", self.quantityUnit)
        json.add("reporter", self.reporter)
        json.add("source", self.source)
        json.add("synthetic", self.synthetic)
        return String(decoding: json.finish(), as: UTF8.self)
    }

    /// The parts joined by `~`, written once into a string of the right size: an import makes
    /// millions, and appending part by part was a sixth of `normalised`.
    private static func key(_ parts: String...) -> String {
        let count = parts.reduce(parts.count - 1) { $0 + $1.utf8.count }
        return String(unsafeUninitializedCapacity: count) { buffer in
            var at = 0
            for (index, part) in parts.enumerated() {
                if index > 0 {
                    buffer[at] = UInt8(ascii: "~")
                    at += 1
                }
                // The UTF-8 view copies its bytes whole here, not one by one through its iterator.
                at += UnsafeMutableBufferPointer(rebasing: buffer[at...]).initialize(from: part.utf8).1
            }
            return at
        }
    }

    /// A full date, YYYY-MM-DD; the last one read is remembered, since a whole import shares it.
    private static func day(_ text: String, field: String) throws(ConcordError) -> String {
        if Self.lastDay.withLockedValue({ $0 == text }) { return text }
        let date = try PartialDate(parsing: text, field: field)
        guard date.day != nil else {
            throw ConcordError(.badRequest, "\(field) must be a full date, YYYY-MM-DD: the day the source published the figure", field: field,
                rule: .form(.day, got: text))
        }
        let day = date.description
        if day == text { Self.lastDay.withLockedValue { $0 = text } }
        return day
    }

    private static let lastDay = NIOLockedValueBox("")

    /// The source as a key part; the last one is remembered, since a whole import shares it.
    private static func sourceSlug(_ source: String) -> String {
        if let slug = Self.lastSource.withLockedValue({ $0.source == source ? $0.slug : nil }) { return slug }
        let slug = FieldRules.slugish(source)
        Self.lastSource.withLockedValue { $0 = (source, slug) }
        return slug
    }

    private static let lastSource = NIOLockedValueBox((source: "", slug: ""))

    /// Whether `text` is already what `money` returns: digits without a leading zero (or "0"),
    /// then perhaps a point and one to three digits, the last not zero; at most 18 digits in all.
    private static func isCanonicalAmount(_ text: String) -> Bool {
        let utf8 = text.utf8
        guard let first = utf8.first, utf8.count <= 19 else { return false }
        var point = -1
        for (index, byte) in utf8.enumerated() {
            if byte == UInt8(ascii: ".") {
                guard point < 0, index > 0 else { return false }
                point = index
            } else if !(UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) {
                return false
            }
        }
        if first == UInt8(ascii: "0"), utf8.count > 1, point != 1 { return false }
        guard point >= 0 else { return true }
        let decimals = utf8.count - point - 1
        return (1...3).contains(decimals) && utf8.last != UInt8(ascii: "0")
    }

    /// A non-negative USD amount with at most three decimals, exact.
    private static func money(_ value: String, field: String) throws(ConcordError) -> String {
        if Self.isCanonicalAmount(value) { return value }
        let text = try FieldRules.decimal(value, field: field)
        guard !text.hasPrefix("-"), let milli = Milli.parse(text), milli >= 0 else {
            throw ConcordError(.badRequest, "\(field) must be a non-negative amount in USD with at most three decimals; got '\(value)'", field: field,
                rule: .form(.decimal, got: value))
        }
        return Milli.format(milli)
    }
}
