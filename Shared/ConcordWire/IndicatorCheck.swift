/// An indicator bound to a trade series, and the `trade.growth` question that checks its target
/// against the data: the target's span against the baseline's. Agreements, which keeps
/// indicators, says what is asked (`agreements.followup`'s `indicatorChecks`); trade-metrics
/// answers; the gateway's session brief only carries the one to the other.
public struct IndicatorCheck: Codable, Sendable, Hashable {
    /// The indicator as the brief shows it.
    public struct Indicator: Codable, Sendable, Hashable {
        public struct Value: Codable, Sendable, Hashable {
            public var value: String
            public var date: String

            public init(value: String, date: String) {
                (self.value, self.date) = (value, date)
            }
        }

        public struct Series: Codable, Sendable, Hashable {
            public var reporter: String
            public var partner: String
            public var flow: String
            public var commodity: String?

            public init(reporter: String, partner: String, flow: String, commodity: String?) {
                (self.reporter, self.partner, self.flow, self.commodity) = (reporter, partner, flow, commodity)
            }
        }

        public var id: String
        public var title: String
        public var measure: String
        public var baseline: Value
        public var target: Value
        public var series: Series

        public init(id: String, title: String, measure: String, baseline: Value, target: Value, series: Series) {
            (self.id, self.title, self.measure) = (id, title, measure)
            (self.baseline, self.target, self.series) = (baseline, target, series)
        }
    }

    /// The body of `trade.growth` that checks it.
    public struct Question: Codable, Sendable, Hashable {
        public var reporter: String
        public var partner: String
        public var flow: String
        public var commodity: String?
        public var from: String
        public var to: String
        public var baseFrom: String
        public var baseTo: String

        public init(reporter: String, partner: String, flow: String, commodity: String?, from: String, to: String, baseFrom: String, baseTo: String) {
            (self.reporter, self.partner, self.flow, self.commodity) = (reporter, partner, flow, commodity)
            (self.from, self.to, self.baseFrom, self.baseTo) = (from, to, baseFrom, baseTo)
        }
    }

    public var indicator: Indicator
    public var question: Question

    /// The check of `indicator`: a date that is a year stands for its twelve months, any other
    /// for its month; `TOTAL` asks imports and exports together.
    public init(_ indicator: Indicator) {
        func span(_ date: String) -> (String, String) {
            date.count == 4 ? (date + "-01", date + "-12") : (String(date.prefix(7)), String(date.prefix(7)))
        }
        let (from, to) = span(indicator.target.date)
        let (baseFrom, baseTo) = span(indicator.baseline.date)
        let series = indicator.series
        self.indicator = indicator
        self.question = Question(
            reporter: series.reporter, partner: series.partner, flow: series.flow == "TOTAL" ? "total" : series.flow,
            commodity: series.commodity, from: from, to: to, baseFrom: baseFrom, baseTo: baseTo
        )
    }
}
