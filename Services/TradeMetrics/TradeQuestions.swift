import CoreMetrics
import ConcordFields
import ConcordProtocol
import ConcordTradeCodes
import ConcordRecords
import ConcordServer
import ConcordStorage
import NIOCore
import ConcordWire

/// The reads trade-metrics answers (series, growth, mirror) and its bulk import. Every figure
/// is summed from observations as exact thousandths of a USD; the latest revision of each
/// figure counts, or the latest published on or before `asPublishedOn`; figures of different
/// sources are never added together.
struct TradeQuestions: Sendable {
    let store: RecordStore
    let totals: SeriesTotals
    /// Rows a batch may carry: in table form (`TableBody`) 10,000 rows of a Comtrade file are
    /// about 1 MB, the line the protocol allows.
    static let maximumImportRows = 10_000
    /// The fields a row must have.
    static let requiredColumns: [Observation.CodingKeys] = [.reporter, .partner, .flow, .period, .primaryValue, .source, .published]

    // MARK: Import

    /// The import body, `{"rows": [...]}`, decoded twice from the same bytes: once for the
    /// field names each row has (to refuse unknown ones), once for the observations, with no tree
    /// of JSON values in between (a third of an import's CPU went to building one and encoding it
    /// again, row by row).
    private struct ImportBody<Row: Decodable>: Decodable {
        var rows: [Row]
    }

    private struct FieldNames: Decodable {
        var names: [String]

        private struct Name: CodingKey {
            var stringValue: String
            var intValue: Int? { nil }
            init(stringValue: String) { self.stringValue = stringValue }
            init?(intValue: Int) { nil }
        }

        init(from decoder: any Decoder) throws {
            self.names = try decoder.container(keyedBy: Name.self).allKeys.map(\.stringValue)
        }
    }

    /// `trade.observations.import`: all or nothing, idempotent by each row's key. The body is a
    /// table, `{"columns": [...], "rows": [[...], ...]}` (what `concord trade import` sends), or
    /// a list of observations, `{"rows": [{...}, ...]}`.
    func importRows(_ body: ByteBuffer, context: RequestContext) async throws -> ImportOutcome {
        // Reading ten thousand rows is CPU work: off the event loop, as `importAll` does its checks.
        let observations = try await Task.detached(priority: .medium) {
            TableBody.looksLikeTable(body) ? try Self.tableRows(body) : try Self.objectRows(body)
        }.value
        let (outcome, (generation, created)) = try await self.store.importAll(observations, context: WriteContext(context)) { transaction, created in
            (try await SeriesTotals.bump(in: transaction), created)
        }
        self.totals.apply(created, generation: generation)
        Self.importedBatches.increment()
        Self.importedRows.increment(by: outcome.created)
        Self.presentRows.increment(by: outcome.present)
        return outcome
    }

    /// Imports as metrics: batches committed, and their rows, created or already present.
    private static let importedBatches = Counter(label: "concord_import_batches_total")
    private static let importedRows = Counter(label: "concord_import_rows_total", dimensions: [("result", "created")])
    private static let presentRows = Counter(label: "concord_import_rows_total", dimensions: [("result", "present")])

    private static func tableRows(_ body: ByteBuffer) throws(ConcordError) -> [Observation] {
        let table = try TableBody.decode(body, maximumRows: Self.maximumImportRows)
        var columns: [Observation.CodingKeys] = []
        for (index, name) in table.columns.enumerated() {
            guard let column = Observation.CodingKeys(rawValue: name) else {
                throw ConcordError(
                    .badRequest,
                    "columns[\(index)]: unknown field '\(name)'; known fields: \(Observation.fieldNames.sorted().joined(separator: ", "))",
                    field: "columns[\(index)]"
                )
            }
            columns.append(column)
        }
        if let missing = Self.requiredColumns.first(where: { !columns.contains($0) }) {
            throw ConcordError(.badRequest, "columns must include \(missing.rawValue)", field: "columns")
        }
        guard !table.rows.isEmpty else { throw ConcordError(.badRequest, "rows is required: a list of observations", field: "rows", rule: .required) }
        var observations: [Observation] = []
        observations.reserveCapacity(table.rows.count)
        for (index, row) in table.rows.enumerated() {
            observations.append(try Observation(row: row, columns: columns, index: index))
        }
        return observations
    }

    private static func objectRows(_ body: ByteBuffer) throws -> [Observation] {
        let shape: ImportBody<FieldNames>
        do {
            shape = try JSONBody.decode(ImportBody<FieldNames>.self, from: body)
        } catch let error as DecodingError {
            throw ConcordError(decoding: error)
        } catch {
            throw ConcordError(.badRequest, "body must be {\"columns\": [field names], \"rows\": [[values]]} or {\"rows\": [observations]}", field: "body")
        }
        guard !shape.rows.isEmpty else {
            throw ConcordError(.badRequest, "rows is required: a list of observations", field: "rows", rule: .required)
        }
        guard shape.rows.count <= Self.maximumImportRows else {
            throw ConcordError(.tooLarge, "rows has \(shape.rows.count) observations; send at most \(Self.maximumImportRows) a batch", field: "rows")
        }
        let known = Observation.fieldNames
        for (index, row) in shape.rows.enumerated() {
            if let field = Set(row.names).subtracting(known).sorted().first {
                throw ConcordError(.badRequest, "row \(index): unknown field '\(field)'", field: "rows[\(index)].\(field)")
            }
        }
        do {
            return try JSONBody.decode(ImportBody<Observation>.self, from: body).rows
        } catch let error as DecodingError {
            throw ConcordError(decoding: error)
        }
    }

    // MARK: Reads

    typealias Span = GrowthFigure.Span

    typealias Growth = GrowthAnswer<StatedFigure>
    typealias Headline = TradeHeadline<StatedFigure>

    /// `trade.growth {reporter, partner, flow, commodity?, from, to, baseFrom?, baseTo?, asPublishedOn?, source?}`.
    func growth(_ body: JSONObject) async throws -> Growth {
        try await self.growth(body, statedAboutThePair: nil)
    }

    /// `growth`, with the figures stated about the pair when the caller has read them already
    /// (the headline reads them once for all its figures); nil: read here.
    private func growth(_ body: JSONObject, statedAboutThePair: [StatedFigure]?) async throws -> Growth {
        try RecordBody.checkFields(body, allowed: ["reporter", "partner", "flow", "commodity", "from", "to", "baseFrom", "baseTo", "asPublishedOn", "source"])
        let query = try Query(body)
        let current = try Self.months(query.from, query.to)
        let (baseFrom, baseTo) = try Self.baseSpan(body, from: query.from, to: query.to)
        let base = try Self.months(baseFrom, baseTo)
        let observations = try await self.latest(query, from: min(current.first!, base.first!), to: max(current.last!, base.last!))
        var computed: [GrowthFigure] = []
        for (source, rows) in Dictionary(grouping: observations, by: \.source).sorted(by: { $0.key < $1.key }) {
            let sums = Self.monthSums(rows, flows: query.flows)
            computed.append(GrowthFigure(
                source: source, currentMonths: current, baseMonths: base, synthetic: rows.contains { $0.synthetic == true }, value: { sums[$0] }
            ))
        }
        let (from, to) = (Self.dash(query.from), Self.dash(query.to))
        let aboutThePair: [StatedFigure]
        if let statedAboutThePair {
            aboutThePair = statedAboutThePair
        } else {
            let pair = StatedFigure.pair(query.reporter, query.partner)
            aboutThePair = try await self.store.all(StatedFigure.self, where: ["pair": .text(pair), "span": .text(from + "/" + to)])
        }
        let stated = aboutThePair.filter { figure in
            figure.measure == "growth" && figure.from == from && figure.to == to
                && figure.baseFrom == Self.dash(baseFrom) && figure.baseTo == Self.dash(baseTo)
        }
        var notes: [String] = []
        if computed.isEmpty { notes.append("no observations for this series in these spans; nothing is computed") }
        if let partial = computed.first(where: { $0.basis == .likeForLike }) {
            notes.append("like for like over \(partial.monthsCompared) of \(partial.monthsAsked) months: a month missing in either span is left out of both (see leftOut)")
        }
        if let none = computed.first(where: { $0.basis == .none }), let reason = none.reason {
            notes.append("no figure for \(none.source): \(Self.explain(reason))")
        }
        if computed.contains(where: \.synthetic) { notes.append("computed from synthetic observations, not facts") }
        return Growth(
            reporter: query.reporter, partner: query.partner, flow: query.flowName, commodity: query.commodity,
            asPublishedOn: query.asPublishedOn, computed: computed, stated: stated, note: notes.isEmpty ? nil : notes.joined(separator: "; ")
        )
    }

    /// `trade.headline {session}`: every figure stated at a session, each beside what the data
    /// say about the same spans.
    func headline(_ body: JSONObject) async throws -> [Headline] {
        try RecordBody.checkFields(body, allowed: ["session"])
        guard case .integer(let session)? = body["session"] else {
            throw ConcordError(.badRequest, "session is required: the session's number, e.g. 6", field: "session", rule: .required)
        }
        var headlines: [Headline] = []
        let statedThere = try await self.store.all(StatedFigure.self, where: ["session": .integer(session)])
        // What else was stated about each pair (at other sessions too), read once a pair, not
        // once a figure: each growth lists the figures stated about its spans.
        var aboutPair: [String: [StatedFigure]] = [:]
        for pair in Set(statedThere.map { StatedFigure.pair($0.reporter, $0.partner) }) {
            aboutPair[pair] = try await self.store.all(StatedFigure.self, where: ["pair": .text(pair)])
        }
        for stated in statedThere {
            guard stated.measure == StatedFigure.Measure.growth.rawValue, let baseFrom = stated.baseFrom, let baseTo = stated.baseTo else {
                headlines.append(Headline(stated: stated, computed: nil))
                continue
            }
            let body: JSONObject = [
                "reporter": .string(stated.reporter), "partner": .string(stated.partner), "flow": .string(stated.flow),
                "from": .string(stated.from), "to": .string(stated.to), "baseFrom": .string(baseFrom), "baseTo": .string(baseTo),
            ]
            let growth = try await self.growth(body, statedAboutThePair: aboutPair[StatedFigure.pair(stated.reporter, stated.partner)])
            headlines.append(Headline(stated: stated, computed: growth))
        }
        return headlines
    }

    /// `trade.series {reporter, partner, flow, commodity?, from, to, asPublishedOn?, source?}`:
    /// the monthly points, latest revision each.
    func series(_ body: JSONObject) async throws -> [SeriesPoint] {
        try RecordBody.checkFields(body, allowed: ["reporter", "partner", "flow", "commodity", "from", "to", "asPublishedOn", "source"])
        let query = try Query(body)
        guard query.flows.count == 1 else {
            throw ConcordError(
                .badRequest, "a series is one flow: X, M, RX or RM", field: "flow", rule: .oneOf(allowed: ["X", "M", "RX", "RM"], got: query.flowName)
            )
        }
        let all = try await self.observations(query, from: query.from, to: query.to)
        var revisions: [String: Int] = [:]
        for row in all { revisions[row.period + "|" + row.source, default: 0] += 1 }
        return Self.latestOnly(all).map { row in
            SeriesPoint(
                period: row.period, value: row.primaryValue, source: row.source, published: row.published,
                revisions: revisions[row.period + "|" + row.source] ?? 1, synthetic: row.synthetic == true
            )
        }
    }

    /// `trade.mirror {a, b, from, to, commodity?, asPublishedOn?, source?}`: A's reported
    /// exports to B against B's reported imports from A.
    func mirror(_ body: JSONObject) async throws -> MirrorAnswer {
        try RecordBody.checkFields(body, allowed: ["a", "b", "from", "to", "commodity", "asPublishedOn", "source"])
        guard let a = try RecordBody.string("a", in: body), let b = try RecordBody.string("b", in: body) else {
            throw ConcordError(.badRequest, "a and b are required: the exporter and the importer, e.g. RU and IR", field: "a", rule: .required)
        }
        var exportsBody = body
        exportsBody["a"] = nil
        exportsBody["b"] = nil
        exportsBody["reporter"] = .string(a)
        exportsBody["partner"] = .string(b)
        exportsBody["flow"] = .string("X")
        var importsBody = exportsBody
        importsBody["reporter"] = .string(b)
        importsBody["partner"] = .string(a)
        importsBody["flow"] = .string("M")
        let exportsQuery = try Query(exportsBody)
        let importsQuery = try Query(importsBody)
        let months = try Self.months(exportsQuery.from, exportsQuery.to)
        let exported = Dictionary(grouping: try await self.latest(exportsQuery, from: exportsQuery.from, to: exportsQuery.to), by: \.source)
        let imported = Dictionary(grouping: try await self.latest(importsQuery, from: importsQuery.from, to: importsQuery.to), by: \.source)
        var comparisons: [MirrorFigure] = []
        for source in Set(exported.keys).union(imported.keys).sorted() {
            let x = Self.monthSums(exported[source] ?? [], flows: ["X"])
            let m = Self.monthSums(imported[source] ?? [], flows: ["M"])
            comparisons.append(MirrorFigure(
                source: source, months: months, exporter: (exportsQuery.reporter, exportsQuery.partner), importer: (importsQuery.reporter, importsQuery.partner),
                synthetic: (exported[source] ?? []).contains { $0.synthetic == true } || (imported[source] ?? []).contains { $0.synthetic == true },
                exported: { x[$0] }, imported: { m[$0] }
            ))
        }
        return MirrorAnswer(
            comparisons: comparisons,
            usualMargin: "gap and ratio are over the months both sides reported (monthsCompared); imports are valued CIF and exports FOB, so imports usually exceed the partner's exports; IMF DOTS uses a CIF/FOB factor of 1.06, and mirror figures commonly differ by 10-20% (timing, transit, classification)"
        )
    }

    struct Commodity: Encodable, Sendable {
        var commodity: String
        var value: String
        /// Of the total, in percent to one decimal.
        var sharePercent: String?
    }

    struct Top: Encodable, Sendable {
        var source: String
        var total: String
        /// Whether the total is the source's own TOTAL figure or the sum of the codes listed.
        var totalIs: String
        var commodities: [Commodity]
        var synthetic: Bool
    }

    /// `trade.top {reporter, partner, flow, from, to, digits: 2|4|6, limit?, asPublishedOn?, source?}`:
    /// the largest commodities at one HS level over a span, with their shares.
    func top(_ body: JSONObject) async throws -> [Top] {
        try RecordBody.checkFields(body, allowed: ["reporter", "partner", "flow", "from", "to", "digits", "limit", "asPublishedOn", "source"])
        var queryBody = body
        queryBody["digits"] = nil
        queryBody["limit"] = nil
        let query = try Query(queryBody)
        guard query.flows.count == 1 else { throw ConcordError(
                .badRequest, "top commodities are of one flow: X or M", field: "flow", rule: .oneOf(allowed: ["X", "M"], got: query.flowName)
            ) }
        guard case .integer(let digits)? = body["digits"], [2, 4, 6].contains(digits) else {
            throw ConcordError(.badRequest, "digits is required: the HS level, 2, 4 or 6", field: "digits", rule: .required)
        }
        let limit = try RecordBody.limit(in: body)
        let rows = try await self.monthly(
            query, equal: ["reporter": .text(query.reporter), "partner": .text(query.partner), "flow": .text(query.flows[0])],
            also: Observation.keys(startingWith: [query.reporter, query.partner, query.flows[0]].joined(separator: "~") + "~"),
            from: query.from, to: query.to
        )
        var latest: [String: Observation] = [:]
        for row in rows {
            let key = row.source + "|" + (row.commodity ?? "TOTAL") + "|" + row.period
            if let known = latest[key], known.published >= row.published { continue }
            latest[key] = row
        }
        var answers: [Top] = []
        for (source, observations) in Dictionary(grouping: latest.values, by: \.source).sorted(by: { $0.key < $1.key }) {
            var sums: [String: Int64] = [:]
            var reportedTotal: Int64 = 0
            var hasTotal = false
            for observation in observations {
                let value = Milli.parse(observation.primaryValue) ?? 0
                let commodity = observation.commodity ?? "TOTAL"
                if commodity == "TOTAL" {
                    reportedTotal += value
                    hasTotal = true
                } else if commodity.count == digits {
                    sums[commodity, default: 0] += value
                }
            }
            let total = hasTotal ? reportedTotal : sums.values.reduce(0, +)
            let ranked = sums.sorted { ($0.value, $1.key) > ($1.value, $0.key) }.prefix(limit)
            answers.append(Top(
                source: source, total: Milli.format(total), totalIs: hasTotal ? "the source's TOTAL" : "the sum of the codes listed",
                commodities: ranked.map { Commodity(commodity: $0.key, value: Milli.format($0.value), sharePercent: Milli.share($0.value, of: total)) },
                synthetic: observations.contains { $0.synthetic == true }
            ))
        }
        return answers
    }

    struct RegionFigure: Encodable, Sendable {
        var region: String
        var source: String
        var span: Span
        var synthetic: Bool
    }

    struct Regions: Encodable, Sendable {
        var country: String
        var partner: String
        var flow: String
        var regions: [RegionFigure]
        /// Why the regions are not added up into the country.
        var note: String
    }

    /// `trade.regions {country, partner, flow, commodity?, from, to, asPublishedOn?}`: each
    /// region of `country` that a source reports for, side by side. They are never added into
    /// the country's figure: a source that reports by region may not cover every region, and the
    /// country's own figure comes from its customs.
    func regions(_ body: JSONObject) async throws -> Regions {
        try RecordBody.checkFields(body, allowed: ["country", "partner", "flow", "commodity", "from", "to", "asPublishedOn"])
        guard let countryText = try RecordBody.string("country", in: body) else {
            throw ConcordError(.badRequest, "country is required, e.g. IR", field: "country", rule: .required)
        }
        let country = try FieldRules.countryCode(countryText, field: "country")
        var queryBody = body
        queryBody["country"] = nil
        queryBody["reporter"] = .string(country)
        let query = try Query(queryBody)
        let rows = try await self.monthly(
            query, equal: ["partner": .text(query.partner), "commodity": .text(query.commodity)],
            also: [(Observation.regionsOf, .text(country))] + Observation.keys(startingWith: country + "-"), from: query.from, to: query.to
        ).filter { query.flows.contains($0.flow) }
        let months = try Self.months(query.from, query.to)
        var figures: [RegionFigure] = []
        for (region, regionRows) in Dictionary(grouping: rows, by: \.reporter).sorted(by: { $0.key < $1.key }) {
            for (source, sourceRows) in Dictionary(grouping: Self.latestOnly(regionRows), by: \.source).sorted(by: { $0.key < $1.key }) {
                figures.append(RegionFigure(
                    region: region, source: source, span: Self.span(months, sourceRows, flows: query.flows),
                    synthetic: sourceRows.contains { $0.synthetic == true }
                ))
            }
        }
        return Regions(
            country: country, partner: query.partner, flow: query.flowName, regions: figures,
            note: "each region as its source reports it; regions are not added into the country's figure, which its customs report separately"
        )
    }

    // MARK: Helpers

    /// What a read asks for, checked.
    struct Query {
        var reporter: String
        var partner: String
        var flows: [String]
        var flowName: String
        var commodity: String
        var from: String
        var to: String
        var asPublishedOn: String?
        var source: String?

        init(_ body: JSONObject) throws(ConcordError) {
            guard let reporter = try RecordBody.string("reporter", in: body), let partner = try RecordBody.string("partner", in: body) else {
                throw ConcordError(.badRequest, "reporter and partner are required, e.g. RU and IR", field: "reporter", rule: .required)
            }
            self.reporter = try TradeCodes.area(reporter, field: "reporter", worldAllowed: false)
            self.partner = try TradeCodes.area(partner, field: "partner", worldAllowed: true)
            let flow = try FieldRules.oneOf(try RecordBody.string("flow", in: body) ?? "total", ["x", "m", "rx", "rm", "total"], field: "flow")
            self.flows = flow == "total" ? ["X", "M"] : [flow.uppercased()]
            self.flowName = flow == "total" ? "total" : flow.uppercased()
            self.commodity = try TradeCodes.commodity(try RecordBody.string("commodity", in: body), field: "commodity")
            guard let from = try RecordBody.string("from", in: body), let to = try RecordBody.string("to", in: body) else {
                throw ConcordError(.badRequest, "from and to are required: the span's first and last months, YYYY-MM", field: "from", rule: .required)
            }
            self.from = try TradeCodes.month(from, field: "from")
            self.to = try TradeCodes.month(to, field: "to")
            guard self.from <= self.to else { throw ConcordError(.badRequest, "to is before from", field: "to", rule: .notBefore(other: "from")) }
            self.asPublishedOn = try (try RecordBody.string("asPublishedOn", in: body)).map { text throws(ConcordError) in
                try PartialDate(parsing: text, field: "asPublishedOn").lastDayText
            }
            self.source = try RecordBody.string("source", in: body)
        }
    }

    /// Monthly observations of the query's series in a span of periods, every revision, read
    /// as one range of the key: from the first flow's prefix to the last's (`M` to `X` passes
    /// over `RM` and `RX`, left out after).
    private func observations(_ query: Query, from: String, to: String) async throws -> [Observation] {
        let flows = query.flows.sorted()
        let prefix = [query.reporter, query.partner].joined(separator: "~") + "~"
        var filters = Observation.keys(startingWith: prefix + flows.first! + "~" + query.commodity + "~")
        filters[1].1 = .text(prefix + flows.last! + "~" + query.commodity + "~\u{7F}")
        return try await self.monthly(
            query, equal: ["reporter": .text(query.reporter), "partner": .text(query.partner), "commodity": .text(query.commodity)],
            also: filters, from: from, to: to
        ).filter { query.flows.contains($0.flow) }
    }

    /// Monthly observations, every revision, in period order: those whose filters `equal` the
    /// values, matching `also` (which names a range of the key: the only index), in the span,
    /// published by the query's day and of its source.
    private func monthly(
        _ query: Query, equal: [String: SQLValue], also: [(RecordFilter, SQLValue)], from: String, to: String
    ) async throws -> [Observation] {
        var filters = try RecordStore.filters(Observation.self, equal.merging(["frequency": "M"]) { $1 }) + also
        filters.append((Observation.periodFrom, .text(from)))
        filters.append((Observation.periodTo, .text(to)))
        if let asPublishedOn = query.asPublishedOn { filters.append((Observation.publishedBy, .text(asPublishedOn))) }
        if let source = query.source {
            filters.append((Observation.filters.first { $0.field == "source" }!, .text(source.lowercased())))
        }
        return try await self.store.select(Observation.self, filters: filters, order: Observation.byPeriod, limit: 1_000_000)
    }

    private func latest(_ query: Query, from: String, to: String) async throws -> [Observation] {
        Self.latestOnly(try await self.observations(query, from: from, to: to))
    }

    /// The last published revision of each (source, flow, period).
    static func latestOnly(_ rows: [Observation]) -> [Observation] {
        var latest: [String: Observation] = [:]
        for row in rows {
            let key = row.source + "|" + row.flow + "|" + row.period
            if let known = latest[key], known.published >= row.published { continue }
            latest[key] = row
        }
        return latest.values.sorted { ($0.period, $0.source, $0.flow) < ($1.period, $1.source, $1.flow) }
    }

    /// Each month's sum over `flows`, for the months that have every one of them (the rows are
    /// the latest revision of each flow and month).
    static func monthSums(_ rows: [Observation], flows: [String]) -> [String: Int64] {
        var sums: [String: (milli: Int64, flows: Int)] = [:]
        for row in rows where flows.contains(row.flow) {
            sums[row.period, default: (0, 0)].milli += Milli.parse(row.primaryValue) ?? 0
            sums[row.period, default: (0, 0)].flows += 1
        }
        return sums.compactMapValues { $0.flows == flows.count ? $0.milli : nil }
    }

    /// Why no growth figure was given, in words.
    static func explain(_ reason: NoFigureReason) -> String {
        switch reason {
        case .noCommonMonth: "no month has data in both spans"
        case .spansDifferInLength: "the spans differ in length and a month is missing, so no month can be set against its pair"
        case .zeroBase: "the base is zero, so a change in percent is undefined"
        }
    }

    /// A span's months summed; a month counts only when every flow asked for is there.
    static func span(_ months: [String], _ rows: [Observation], flows: [String]) -> Span {
        let sums = Self.monthSums(rows, flows: flows)
        return Span.summing(months, months.map { sums[$0] }).span
    }

    /// Every YYYYMM from `from` to `to`; at most ten years.
    static func months(_ from: String, _ to: String) throws(ConcordError) -> [String] {
        guard let months = TradeCodes.months(from: from, to: to, limit: 120) else {
            throw ConcordError(.badRequest, "a span covers at most 120 months", field: "to")
        }
        return months
    }

    /// A growth's base span: `baseFrom` and `baseTo` (YYYY-MM) as the body gives them, else the
    /// same months a year before `from` and `to`; it must not end before it begins.
    static func baseSpan(_ body: JSONObject, from: String, to: String) throws(ConcordError) -> (from: String, to: String) {
        func month(_ field: String) throws(ConcordError) -> String? {
            try (try RecordBody.string(field, in: body)).map { text throws(ConcordError) in try TradeCodes.month(text, field: field) }
        }
        let baseFrom = try month("baseFrom") ?? Self.yearEarlier(from)
        let baseTo = try month("baseTo") ?? Self.yearEarlier(to)
        guard baseFrom <= baseTo else { throw ConcordError(.badRequest, "baseTo is before baseFrom", field: "baseTo", rule: .notBefore(other: "baseFrom")) }
        return (baseFrom, baseTo)
    }

    static func yearEarlier(_ month: String) -> String { String(Int(month.prefix(4))! - 1) + month.suffix(2) }
    static func dash(_ month: String) -> String { GrowthFigure.dash(month) }
}

extension String {
    /// A field path without its `body.` prefix, to nest it under a row.
    fileprivate func replacingBodyPrefix() -> String { self.hasPrefix("body.") ? String(self.dropFirst(5)) : self }
}
