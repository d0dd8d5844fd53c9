import ArgumentParser
import ConcordDataService

@main
struct TradeMetricsCommand: AsyncParsableCommand {
    static let configuration = TradeMetrics.commandConfiguration
}
