import ArgumentParser
import TradeMetrics

@main
struct TradeMetricsCommand: AsyncParsableCommand {
    static let configuration = TradeMetricsService.commandConfiguration
}
