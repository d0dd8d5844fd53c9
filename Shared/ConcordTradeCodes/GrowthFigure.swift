/// One source's growth over a span against its base span, as `trade.growth` answers it and every
/// report reads it: trade-metrics encodes this type and the CLI decodes the same one.
///
/// `changePercent` is the figure a person reads. It is the change over the whole span only when
/// both spans have every month (`basis` "whole-span"); otherwise it is the change over the months
/// both spans have (`basis` "like-for-like", over `monthsCompared` of `monthsAsked` months), and
/// `leftOut` names each month left out and the side that lacks it.
public struct GrowthFigure: Codable, Sendable {
    /// A span's months with data and their sum.
    public struct Span: Codable, Sendable {
        public var from: String
        public var to: String
        /// The sum over `monthsCovered`, USD; nil when no month has data.
        public var value: String?
        public var monthsCovered: [String]
        public var monthsMissing: [String]

        public init(from: String, to: String, value: String?, monthsCovered: [String], monthsMissing: [String]) {
            self.from = from
            self.to = to
            self.value = value
            self.monthsCovered = monthsCovered
            self.monthsMissing = monthsMissing
        }

        /// `months` (YYYYMM) with `values[i]` the sum of the i-th, nil when it has no data: the
        /// span and its total in thousandths of a USD.
        public static func summing(_ months: [String], _ values: [Int64?]) -> (span: Span, milli: Int64) {
            let covered = months.indices.filter { values[$0] != nil }
            let total = covered.reduce(Int64(0)) { $0 + values[$1]! }
            let span = Span(
                from: GrowthFigure.dash(months.first ?? ""), to: GrowthFigure.dash(months.last ?? ""),
                value: covered.isEmpty ? nil : Milli.format(total), monthsCovered: covered.map { GrowthFigure.dash(months[$0]) },
                monthsMissing: months.indices.filter { values[$0] == nil }.map { GrowthFigure.dash(months[$0]) }
            )
            return (span, total)
        }
    }

    public var source: String
    /// Every month of each span with data, summed.
    public var current: Span
    public var base: Span
    public var basis: GrowthBasis
    /// Percent, one decimal, over the months compared; nil when `basis` is "none".
    public var changePercent: String?
    /// The pairs compared, and the sums over them on each side.
    public var compared: [LikeForLike.Pair]
    public var comparedCurrent: String?
    public var comparedBase: String?
    public var monthsCompared: Int
    public var monthsAsked: Int
    public var leftOut: [LikeForLike.LeftOut]
    /// Why there is no figure, when `basis` is "none".
    public var reason: NoFigureReason?
    /// Both spans have every month.
    public var complete: Bool
    public var synthetic: Bool

    /// The figure of one source: `currentMonths` and `baseMonths` are each span's months
    /// (YYYYMM) in order; `value` gives a month's sum in thousandths of a USD, nil when it has no
    /// data.
    public init(source: String, currentMonths: [String], baseMonths: [String], synthetic: Bool, value: (String) -> Int64?) {
        let currentValues = currentMonths.map(value)
        let baseValues = baseMonths.map(value)
        let (current, currentTotal) = Span.summing(currentMonths, currentValues)
        let (base, baseTotal) = Span.summing(baseMonths, baseValues)
        let pairing = LikeForLike(currentLength: currentMonths.count, baseLength: baseMonths.count) { index in
            (currentValues[index] != nil, baseValues[index] != nil)
        }
        self.source = source
        self.current = current
        self.base = base
        self.synthetic = synthetic
        self.monthsAsked = currentMonths.count
        self.compared = pairing.compared.map { LikeForLike.Pair(current: Self.dash(currentMonths[$0]), base: Self.dash(baseMonths[$0])) }
        self.monthsCompared = pairing.compared.count
        self.leftOut = pairing.gaps.map {
            LikeForLike.LeftOut(current: Self.dash(currentMonths[$0.index]), base: Self.dash(baseMonths[$0.index]), missingIn: $0.missingIn)
        }
        self.complete = current.monthsMissing.isEmpty && base.monthsMissing.isEmpty
        // The sums compared: the whole spans (of any lengths) when complete, else the pairs.
        let now = self.complete ? currentTotal : pairing.compared.reduce(Int64(0)) { $0 + currentValues[$1]! }
        let then = self.complete ? baseTotal : pairing.compared.reduce(Int64(0)) { $0 + baseValues[$1]! }
        if self.complete {
            // Every month counts; spans of different lengths have no pairs to name.
            self.monthsCompared = currentMonths.count
        }
        (self.basis, self.reason) = GrowthBasis.decide(
            complete: self.complete, aligned: pairing.aligned, monthsCompared: self.monthsCompared, comparedBase: then
        )
        let sums = self.complete || (pairing.aligned && !pairing.compared.isEmpty)
        self.comparedCurrent = sums ? Milli.format(now) : nil
        self.comparedBase = sums ? Milli.format(then) : nil
        self.changePercent = self.basis == .none ? nil : Milli.percentChange(from: then, to: now)
    }

    /// YYYYMM as YYYY-MM.
    public static func dash(_ month: String) -> String {
        month.utf8.count == 6 ? month.prefix(4) + "-" + month.suffix(2) : month
    }
}

/// A's reported exports to B against B's reported imports from A over one span, as `trade.mirror`
/// answers it: the gap and the ratio are over the months both sides reported, never over one
/// side's nine months against the other's eight.
public struct MirrorFigure: Codable, Sendable {
    public struct Side: Codable, Sendable {
        public var reporter: String
        public var partner: String
        public var flow: String
        /// The sum over every month this side reported.
        public var value: String?
        /// The sum over the months compared.
        public var valueCompared: String?
        public var monthsCovered: [String]
        public var monthsMissing: [String]
    }

    public var source: String
    public var exports: Side
    public var imports: Side
    /// The months both sides reported.
    public var monthsCompared: [String]
    public var monthsAsked: Int
    /// Months only the exporter reported, and months only the importer reported.
    public var onlyExports: [String]
    public var onlyImports: [String]
    /// imports - exports over the months compared, USD.
    public var gap: String?
    /// imports / exports over the months compared.
    public var ratio: String?
    public var synthetic: Bool

    /// `months` (YYYYMM) of the span; `exported` and `imported` give a month's sum in thousandths
    /// of a USD as each side reported it, nil when it did not.
    public init(
        source: String, months: [String], exporter: (reporter: String, partner: String), importer: (reporter: String, partner: String),
        synthetic: Bool, exported: (String) -> Int64?, imported: (String) -> Int64?
    ) {
        let x = months.map(exported)
        let m = months.map(imported)
        let both = months.indices.filter { x[$0] != nil && m[$0] != nil }
        let exportsCompared = both.reduce(Int64(0)) { $0 + x[$1]! }
        let importsCompared = both.reduce(Int64(0)) { $0 + m[$1]! }
        func side(_ who: (reporter: String, partner: String), flow: String, _ values: [Int64?], compared: Int64) -> Side {
            let whole = GrowthFigure.Span.summing(months, values).span
            return Side(
                reporter: who.reporter, partner: who.partner, flow: flow, value: whole.value,
                valueCompared: both.isEmpty ? nil : Milli.format(compared), monthsCovered: whole.monthsCovered, monthsMissing: whole.monthsMissing
            )
        }
        self.source = source
        self.exports = side(exporter, flow: "X", x, compared: exportsCompared)
        self.imports = side(importer, flow: "M", m, compared: importsCompared)
        self.monthsCompared = both.map { GrowthFigure.dash(months[$0]) }
        self.monthsAsked = months.count
        self.onlyExports = months.indices.filter { x[$0] != nil && m[$0] == nil }.map { GrowthFigure.dash(months[$0]) }
        self.onlyImports = months.indices.filter { x[$0] == nil && m[$0] != nil }.map { GrowthFigure.dash(months[$0]) }
        self.gap = both.isEmpty ? nil : Milli.format(importsCompared - exportsCompared)
        self.ratio = both.isEmpty ? nil : Milli.ratio(importsCompared, exportsCompared)
        self.synthetic = synthetic
    }
}
