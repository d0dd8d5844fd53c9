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
        self.period = period
        self.value = value
        self.source = source
        self.published = published
        self.revisions = revisions
        self.synthetic = synthetic
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
