import ConcordTradeCodes

/// One month of `trade.series`: the latest revision of its value, which source published it and
/// when, how many revisions it has had. Trade-metrics writes it; the brief's chart reads it.
public struct SeriesPoint: Codable, Sendable, Hashable {
    public var period: String
    /// Exact decimal, as the observation stores it.
    public var value: String
    public var source: String
    public var published: String
    public var revisions: Int
    public var synthetic: Bool

    public init(period: String, value: String, source: String, published: String, revisions: Int, synthetic: Bool) {
        (self.period, self.value, self.source) = (period, value, source)
        (self.published, self.revisions, self.synthetic) = (published, revisions, synthetic)
    }
}

/// `trade.mirror`: A's reported exports to B beside B's reported imports from A, one comparison
/// a source, and why the two usually differ.
public struct MirrorAnswer: Codable, Sendable {
    public var comparisons: [MirrorFigure]
    public var usualMargin: String

    public init(comparisons: [MirrorFigure], usualMargin: String) {
        self.comparisons = comparisons
        self.usualMargin = usualMargin
    }
}

/// `trade.growth`: a span against a base span for one series, one figure a source, beside the
/// figures stated about the same spans. `Stated` is the stated figure as each side holds it:
/// trade-metrics writes its records whole; a reader (the CLI, the console, the brief) decodes
/// the fields it shows. The answer's own shape is declared here once.
public struct GrowthAnswer<Stated: Sendable>: Sendable {
    public var reporter: String
    public var partner: String
    /// `X`, `M`, `RX`, `RM` or `total`.
    public var flow: String
    public var commodity: String
    public var asPublishedOn: String?
    public var computed: [GrowthFigure]
    public var stated: [Stated]
    /// What a reader should know of the figures (like for like, synthetic, nothing computed), in English.
    public var note: String?

    public init(
        reporter: String, partner: String, flow: String, commodity: String, asPublishedOn: String?, computed: [GrowthFigure],
        stated: [Stated], note: String?
    ) {
        (self.reporter, self.partner, self.flow, self.commodity, self.asPublishedOn) = (reporter, partner, flow, commodity, asPublishedOn)
        (self.computed, self.stated, self.note) = (computed, stated, note)
    }
}

extension GrowthAnswer: Encodable where Stated: Encodable {}
extension GrowthAnswer: Decodable where Stated: Decodable {}

/// One item of `trade.headline`: a figure stated at a session, and the growth over the same
/// spans computed from the data (nil for a stated value, which has no spans to compare).
public struct TradeHeadline<Stated: Sendable>: Sendable {
    public var stated: Stated
    public var computed: GrowthAnswer<Stated>?

    public init(stated: Stated, computed: GrowthAnswer<Stated>?) {
        (self.stated, self.computed) = (stated, computed)
    }
}

extension TradeHeadline: Encodable where Stated: Encodable {}
extension TradeHeadline: Decodable where Stated: Decodable {}
