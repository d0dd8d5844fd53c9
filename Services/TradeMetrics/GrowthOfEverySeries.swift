import ConcordFields
import ConcordProtocol
import ConcordRecords
import ConcordTradeCodes

/// `trade.growth.all`: growth of every series (reporter, partner, flow, source) at once, over
/// the monthly TOTALs that `SeriesTotals` keeps, ranked, a page at a time. Each series is ranked
/// like for like: over the months both its spans have (see `LikeForLike`), its whole spans only
/// when both are complete. A series compared over fewer months than asked says so; one with no
/// month in common is listed apart, not ranked. Sums and ranking are exact: no binary floating
/// point.
extension TradeQuestions {
    struct SeriesGrowth: Encodable, Sendable {
        var reporter: String
        var partner: String
        var flow: String
        var source: String
        /// Each span's sum over the months it has.
        var current: String?
        var base: String?
        /// The sums the change is computed from: over the months compared.
        var comparedCurrent: String?
        var comparedBase: String?
        var basis: GrowthBasis
        var changePercent: String?
        var monthsCompared: Int
        var monthsAsked: Int
        var monthsMissing: [String]
        var reason: NoFigureReason?
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
        /// Of them, those with a figure, ranked in `rows`; the others are `apart`.
        var ranked: Int
        var order: String
        var rows: [SeriesGrowth]
        /// Series with no figure (no month in common, or a zero base), by reporter, partner and
        /// flow: at most `limit` of them.
        var apart: [SeriesGrowth]
        var apartCount: Int
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
            throw ConcordError(.badRequest, "from and to are required: the span's first and last months, YYYY-MM", field: "from", rule: .required)
        }
        guard from <= to else { throw ConcordError(.badRequest, "to is before from", field: "to", rule: .notBefore(other: "from")) }
        let (baseFrom, baseTo) = try Self.baseSpan(body, from: from, to: to)
        let current = try Self.months(from, to).map(SeriesTotals.number)
        let base = try Self.months(baseFrom, baseTo).map(SeriesTotals.number)
        let flow = try (try RecordBody.string("flow", in: body)).map { text throws(ConcordError) in
            guard let flow = TradeCodes.Flow(rawValue: text.uppercased()) else {
                throw ConcordError(.badRequest, "flow must be one of X, M, RX, RM; got '\(text)'", field: "flow", rule: .oneOf(allowed: ["X", "M", "RX", "RM"], got: text))
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
            var current: Int64 = 0
            var base: Int64 = 0
            var currentMonths = 0
            var baseMonths = 0
            var comparedCurrent: Int64 = 0
            var comparedBase: Int64 = 0
            var compared = 0
            var synthetic = false
            var basis = GrowthBasis.none
            var reason: NoFigureReason?
        }
        let all = try await self.totals.current()
        let currentRange = current.first!...current.last!
        let baseRange = base.first!...base.last!
        let aligned = current.count == base.count
        func index(_ period: Int32, from first: Int32) -> Int {
            Int(period / 100 - first / 100) * 12 + Int(period % 100 - first % 100)
        }
        // Each span's months with data in the series at hand, by index into the span.
        var currentValues = [Int64?](repeating: nil, count: current.count)
        var baseValues = [Int64?](repeating: nil, count: base.count)
        var figures: [Figure] = []
        figures.reserveCapacity(all.count)
        for (position, series) in all.enumerated() {
            if let flow, series.key.flow != flow { continue }
            if let source, series.key.sourceKey != source { continue }
            var figure = Figure(series: position)
            for month in series.months {
                if currentRange.contains(month.period) {
                    currentValues[index(month.period, from: current[0])] = month.milli
                    figure.current += month.milli
                    figure.currentMonths += 1
                    figure.synthetic = figure.synthetic || month.synthetic
                }
                if baseRange.contains(month.period) {
                    baseValues[index(month.period, from: base[0])] = month.milli
                    figure.base += month.milli
                    figure.baseMonths += 1
                    figure.synthetic = figure.synthetic || month.synthetic
                }
            }
            guard figure.currentMonths + figure.baseMonths > 0 else { continue }
            // The pairs counted here, in arrays reused from series to series (no allocation per
            // series, unlike `LikeForLike`); the rule itself is the shared one.
            let complete = figure.currentMonths == current.count && figure.baseMonths == base.count
            if complete {
                (figure.comparedCurrent, figure.comparedBase, figure.compared) = (figure.current, figure.base, current.count)
            } else if aligned {
                for month in 0..<current.count {
                    guard let now = currentValues[month], let then = baseValues[month] else { continue }
                    figure.comparedCurrent += now
                    figure.comparedBase += then
                    figure.compared += 1
                }
            }
            (figure.basis, figure.reason) = GrowthBasis.decide(
                complete: complete, aligned: aligned, monthsCompared: figure.compared, comparedBase: figure.comparedBase
            )
            for month in series.months {
                if currentRange.contains(month.period) { currentValues[index(month.period, from: current[0])] = nil }
                if baseRange.contains(month.period) { baseValues[index(month.period, from: base[0])] = nil }
            }
            figures.append(figure)
        }
        let complete = figures.count { $0.currentMonths == current.count && $0.baseMonths == base.count }
        var apart = figures.filter { $0.basis == .none }
        figures.removeAll { $0.basis == .none }
        func bySeries(_ a: Figure, _ b: Figure) -> Bool {
            (all[a.series].key.reporter, all[a.series].key.partner, all[a.series].key.flow, all[a.series].key.sourceKey)
                < (all[b.series].key.reporter, all[b.series].key.partner, all[b.series].key.flow, all[b.series].key.sourceKey)
        }
        // Growth is compared current / compared base; compared exactly as cross products.
        func ranked(_ a: Figure, _ b: Figure) -> Bool {
            let left = Int128(a.comparedCurrent) * Int128(b.comparedBase)
            let right = Int128(b.comparedCurrent) * Int128(a.comparedBase)
            if left != right { return order == "decline" ? left < right : left > right }
            return a.series < b.series
        }
        figures.sort(by: order == "series" ? bySeries : ranked)
        apart.sort(by: bySeries)
        func row(_ figure: Figure) -> SeriesGrowth {
            let series = all[figure.series]
            var missing: [String] = []
            if figure.currentMonths < current.count || figure.baseMonths < base.count {
                let have = Set(series.months.map(\.period))
                missing = (base + current).filter { !have.contains($0) }.map { Self.dash(String($0)) }
            }
            let compared = figure.basis != .none
            return SeriesGrowth(
                reporter: series.key.reporter, partner: series.key.partner, flow: series.key.flow, source: series.source,
                current: figure.currentMonths > 0 ? Milli.format(figure.current) : nil,
                base: figure.baseMonths > 0 ? Milli.format(figure.base) : nil,
                comparedCurrent: compared ? Milli.format(figure.comparedCurrent) : nil,
                comparedBase: compared ? Milli.format(figure.comparedBase) : nil,
                basis: figure.basis,
                changePercent: compared ? Milli.percentChange(from: figure.comparedBase, to: figure.comparedCurrent) : nil,
                monthsCompared: figure.compared, monthsAsked: current.count, monthsMissing: missing, reason: figure.reason, synthetic: figure.synthetic
            )
        }
        let rows = figures.dropFirst(offset).prefix(limit).map(row)
        let synthetic = figures.contains(where: \.synthetic) || apart.contains(where: \.synthetic)
        var note = "TOTAL commodity, monthly, latest revision of each month; a series missing a month in either span is compared like for like, "
            + "over the months both spans have (monthsCompared of monthsAsked); a series with no month in common is listed apart"
        if synthetic { note += "; computed from synthetic observations, not facts" }
        return EverySeries(
            from: Self.dash(from), to: Self.dash(to), baseFrom: Self.dash(baseFrom), baseTo: Self.dash(baseTo),
            series: figures.count + apart.count, complete: complete, ranked: figures.count, order: order, rows: Array(rows),
            apart: apart.prefix(limit).map(row), apartCount: apart.count,
            next: offset + rows.count < figures.count ? offset + rows.count : nil, synthetic: synthetic, note: note
        )
    }
}
