import ArgumentParser
import ConcordDataService
import ConcordRecords

/// What the `trade-metrics` executable, and the fuzz targets, see of this module.
public enum TradeMetricsService {
    /// `trade-metrics`'s command line: serve (the default), seed, health, ready.
    public static var commandConfiguration: CommandConfiguration { TradeMetrics.commandConfiguration }
    /// The record kinds it keeps.
    public static var kinds: [any StoredRecord.Type] { TradeMetrics.kinds }
}
