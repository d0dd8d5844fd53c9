import ConcordProtocol
import Histogram
import NIOConcurrencyHelpers

/// What one route has seen since the gateway started: requests, errors by code, retries, and
/// latency (microseconds, HDR histogram) as the gateway measured it, forwarding included.
public final class RouteStats: Sendable {
    public struct Snapshot: Codable, Sendable {
        public var requests: Int
        public var errors: [String: Int]
        public var retries: Int
        public var p50Milliseconds: Double
        public var p90Milliseconds: Double
        public var p99Milliseconds: Double
    }

    public init() {}

    private struct State {
        var requests = 0
        var errors: [String: Int] = [:]
        var retries = 0
        var latency = Histogram<UInt64>(highestTrackableValue: 120_000_000, numberOfSignificantValueDigits: .three)
    }

    private let state = NIOLockedValueBox(State())

    public func record(_ duration: Duration, error: ErrorCode?, retries: Int) {
        let (seconds, attoseconds) = duration.components
        let microseconds = UInt64(max(0, seconds * 1_000_000 + attoseconds / 1_000_000_000_000))
        self.state.withLockedValue { state in
            state.requests += 1
            state.retries += retries
            if let error { state.errors[error.wire, default: 0] += 1 }
            _ = state.latency.record(min(microseconds, 120_000_000))
        }
    }

    /// Retries so far, without the percentiles a snapshot computes.
    public var retries: Int {
        self.state.withLockedValue { $0.retries }
    }

    public var snapshot: Snapshot {
        self.state.withLockedValue { state in
            Snapshot(
                requests: state.requests,
                errors: state.errors,
                retries: state.retries,
                p50Milliseconds: Double(state.latency.valueAtPercentile(50)) / 1000,
                p90Milliseconds: Double(state.latency.valueAtPercentile(90)) / 1000,
                p99Milliseconds: Double(state.latency.valueAtPercentile(99)) / 1000
            )
        }
    }
}
