/// How many retries may be in flight: a share of the active requests, with a floor so that a
/// quiet pool can still retry (Envoy's retry budget: 20% of active requests, at least 3).
public struct RetryBudget: Sendable, Hashable {
    public var share: Double
    public var minimumConcurrency: Int

    public init(share: Double = 0.2, minimumConcurrency: Int = 3) {
        self.share = share
        self.minimumConcurrency = minimumConcurrency
    }

    public func allows(activeRequests: Int, activeRetries: Int) -> Bool {
        activeRetries < max(self.minimumConcurrency, Int(Double(activeRequests) * self.share))
    }
}
