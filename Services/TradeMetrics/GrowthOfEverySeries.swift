import ConcordFields
import ConcordProtocol
import ConcordRecords
import ConcordTradeCodes

/// `trade.growth.all`: growth of every series (reporter, partner, flow, source) at once, over
/// the monthly TOTALs that `SeriesTotals` keeps, ranked, a page at a time. Each series' span is
/// summed only over the months it has; the months missing are named, and a series missing any is
/// not complete. Spans and ranking are exact: no binary floating point.
extension TradeQuestions {
    struct SeriesGrowth: Encodable, Sendable {
        var reporter: String
        var partner: String
        var flow: String
        var source: String
        var current: String?
        var base: String?
        var changePercent: String?
        var monthsMissing: [String]
        var synthetic: Bool
    }

    struct EverySeries: Encodable, Sendable {
        var from: String
        var to: String
        var baseFrom: String
        var baseTo: String
        /// Series with any month in either span.
        var series: Int
        /// Of them, those with every month of both spans.
        var complete: Int
        var order: String
        var rows: [SeriesGrowth]
        /// The `offset` of the next page, if there is one.
        var next: Int?
        var synthetic: Bool
        var note: String
    }

    /// `trade.growth.all {from, to, baseFrom?, baseTo?, flow?, source?, order?, limit?, offset?}`:
    /// `order` is `change` (largest growth first, the default), `decline` (largest fall first) or
    /// `series` (by reporter, partner, flow).
    func growthOfEverySeries(_ body: JSONObject) async throws -> EverySeries {
        try RecordBody.checkFields(body, allowed: ["from", "to", "baseFrom", "baseTo", "flow", "source", "order", "limit", "offset"])
        func month(_ field: String) throws(ConcordError) -> String? {
            try (try RecordBody.string(field, in: body)).map { text throws(ConcordError) in try TradeCodes.month(text, field: field) }
        }
        guard let from = try month("from"), let to = try month("to") else {
            throw ConcordError(.badRequest, "from and to are required: the span's first and last months, YYYY-MM", field: "from")
        }
        guard from <= to else { throw ConcordError(.badRequest, "to is before from", field: "to") }
        let (baseFrom, baseTo) = try Self.baseSpan(body, from: from, to: to)
        let current = try Self.months(from, to).map(SeriesTotals.number)
        let base = try Self.months(baseFrom, baseTo).map(SeriesTotals.number)
        let flow = try (try RecordBody.string("flow", in: body)).map { text throws(ConcordError) in
            guard let flow = TradeCodes.Flow(rawValue: text.uppercased()) else {
                throw ConcordError(.badRequest, "flow must be one of X, M, RX, RM; got '\(text)'", field: "flow")
            }
            return flow.rawValue
        }
        let source = try RecordBody.string("source", in: body)?.lowercased()
        let order = try FieldRules.oneOf(try RecordBody.string("order", in: body) ?? "change", ["change", "decline", "series"], field: "order")
        let limit = try RecordBody.limit(in: body)
        let offset: Int
        switch body["offset"] {
        case nil, .null?: offset = 0
        case .integer(let value)? where value >= 0: offset = Int(value)
        default: throw ConcordError(.badRequest, "offset must be a whole number from 0: where the page starts", field: "offset")
        }

        struct Figure {
            var series: Int
            var current: Int64
            var base: Int64
            var currentMonths: Int
            var baseMonths: Int
            var synthetic: Bool
        }
        let all = try await self.totals.current()
        let currentRange = current.first!...current.last!
        let baseRange = base.first!...base.last!
        var figures: [Figure] = []
        figures.reserveCapacity(all.count)
        for (position, series) in all.enumerated() {
            if let flow, series.key.flow != flow { continue }
            if let source, series.key.sourceKey != source { continue }
            var figure = Figure(series: position, current: 0, base: 0, currentMonths: 0, baseMonths: 0, synthetic: false)
            for month in series.months {
                if currentRange.contains(month.period) {
                    figure.current += month.milli
                    figure.currentMonths += 1
                    figure.synthetic = figure.synthetic || month.synthetic
                }
                if baseRange.contains(month.period) {
                    figure.base += month.milli
                    figure.baseMonths += 1
                    figure.synthetic = figure.synthetic || month.synthetic
                }
            }
            if figure.currentMonths + figure.baseMonths > 0 { figures.append(figure) }
        }
        let complete = figures.count { $0.currentMonths == current.count && $0.baseMonths == base.count }
        // Growth is current / base; compared exactly as cross products. Series without a base
        // or a current figure rank last.
        func ranked(_ a: Figure, _ b: Figure) -> Bool {
            let aHas = a.base > 0 && a.currentMonths > 0
            let bHas = b.base > 0 && b.currentMonths > 0
            if aHas != bHas { return aHas }
            if aHas {
                let left = Int128(a.current) * Int128(b.base)
                let right = Int128(b.current) * Int128(a.base)
                if left != right { return order == "decline" ? left < right : left > right }
            }
            return a.series < b.series
        }
        switch order {
        case "series":
            figures.sort { (all[$0.series].key.reporter, all[$0.series].key.partner, all[$0.series].key.flow, all[$0.series].key.sourceKey)
                < (all[$1.series].key.reporter, all[$1.series].key.partner, all[$1.series].key.flow, all[$1.series].key.sourceKey) }
        default:
            figures.sort(by: ranked)
        }
        let page = figures.dropFirst(offset).prefix(limit)
        let rows = page.map { figure in
            let series = all[figure.series]
            var missing: [String] = []
            if figure.currentMonths < current.count || figure.baseMonths < base.count {
                let have = Set(series.months.map(\.period))
                missing = (base + current).filter { !have.contains($0) }.map { Self.dash(String($0)) }
            }
            return SeriesGrowth(
                reporter: series.key.reporter, partner: series.key.partner, flow: series.key.flow, source: series.source,
                current: figure.currentMonths > 0 ? Milli.format(figure.current) : nil,
                base: figure.baseMonths > 0 ? Milli.format(figure.base) : nil,
                changePercent: figure.currentMonths > 0 && figure.baseMonths > 0 ? Milli.percentChange(from: figure.base, to: figure.current) : nil,
                monthsMissing: missing, synthetic: figure.synthetic
            )
        }
        let synthetic = figures.contains(where: \.synthetic)
        var note = "TOTAL commodity, monthly, latest revision of each month; a series missing months is summed over the months it has and names the others"
        if synthetic { note += "; computed from synthetic observations, not facts" }
        return EverySeries(
            from: Self.dash(from), to: Self.dash(to), baseFrom: Self.dash(baseFrom), baseTo: Self.dash(baseTo),
            series: figures.count, complete: complete, order: order, rows: Array(rows),
            next: offset + rows.count < figures.count ? offset + rows.count : nil, synthetic: synthetic, note: note
        )
    }
}
