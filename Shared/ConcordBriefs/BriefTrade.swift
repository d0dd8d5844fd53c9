import ConcordProtocol
import ConcordTradeCodes
import ConcordWire
import ConcordWords
import NIOCore

extension SessionBrief.Stated {
    /// The flows the figure is about: total is exports and imports.
    package var flowList: [String] { self.flow == "total" ? ["X", "M"] : [self.flow] }

    /// The figure as stated: +8.2% for a growth, 3,300,000,000 USD for a value.
    package func figure(_ words: Words) -> String {
        if self.unit == "percent" { return words.percent(self.value, signed: self.measure == "growth") }
        return words.number(self.value) + " " + words(.usd)
    }

    /// The span and, for a growth, its base span.
    package func spans(_ words: Words) -> String {
        let span = words.span(self.from, self.to)
        guard let baseFrom = self.baseFrom else { return span }
        return words(.spanAgainst, span, words.span(baseFrom, self.baseTo ?? ""))
    }
}

/// Every YYYYMM from YYYY-MM `from` to `to`.
package func monthsBetween(_ from: String, _ to: String) -> [String] {
    TradeCodes.months(from: from.filter { $0 != "-" }, to: to.filter { $0 != "-" }, limit: 240) ?? []
}

extension SessionBrief {
    /// The monthly figures behind the first stated growth: its pair's exports and imports (or
    /// the one flow it is about) over the span and the base span, month by month. `series`
    /// answers a `trade.series` body.
    package func months(series: (String) async throws -> [SeriesPoint]) async throws -> [BriefHTML.Month] {
        guard let stated = self.trade?.first?.stated, let baseFrom = stated.baseFrom, let baseTo = stated.baseTo else { return [] }
        return try await BriefHTML.months(
            reporter: stated.reporter, partner: stated.partner, flows: stated.flowList, span: (stated.from, stated.to), base: (baseFrom, baseTo), series: series
        )
    }
}

extension BriefHTML {
    /// A pair's monthly trade in `flows` (summed) over `span` and its `base` span (YYYY-MM),
    /// month by month, for the chart. `series` answers a `trade.series` body.
    package static func months(
        reporter: String, partner: String, flows: [String], span: (from: String, to: String), base: (from: String, to: String),
        series: (String) async throws -> [SeriesPoint]
    ) async throws -> [Month] {
        func sums(_ from: String, _ to: String) async throws -> [String: Double] {
            // A month counts only with every flow, as trade.growth counts it: half a month is a gap.
            var sums: [String: (value: Double, flows: Int)] = [:]
            for flow in flows {
                var body = ByteBuffer(string: "{")
                for (index, (name, value)) in [("reporter", reporter), ("partner", partner), ("flow", flow), ("from", from), ("to", to)].enumerated() {
                    body.writeString(index == 0 ? "\"\(name)\":" : ",\"\(name)\":")
                    JSONString.write(value, into: &body)
                }
                body.writeString("}")
                for point in try await series(String(buffer: body)) {
                    sums[point.period, default: (0, 0)].value += Double(point.value) ?? 0
                    sums[point.period, default: (0, 0)].flows += 1
                }
            }
            return sums.compactMapValues { $0.flows == flows.count ? $0.value : nil }
        }
        let current = try await sums(span.from, span.to)
        let earlier = try await sums(base.from, base.to)
        let currentMonths = monthsBetween(span.from, span.to)
        let baseMonths = monthsBetween(base.from, base.to)
        return currentMonths.enumerated().map { index, month in
            Month(label: String(month.suffix(2)), current: current[month], base: index < baseMonths.count ? earlier[baseMonths[index]] : nil)
        }
    }
}
