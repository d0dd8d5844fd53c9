import CoreMetrics
import ConcordProtocol
import NIOConcurrencyHelpers

/// How much one token may ask of a gateway replica: a request rate (a bucket that refills at
/// `rate` a second and holds a second's worth) and a cap on its requests in flight. Past either,
/// the gateway answers `rate_limited` at once, with when to retry; the request goes no further.
/// Each replica counts on its own: behind N replicas a token may get up to N times as much.
struct TokenLimit: Sendable, Hashable, CustomStringConvertible {
    /// Requests a second; nil: no limit.
    var rate: Double?
    /// Requests in flight at once; nil: no limit.
    var concurrency: Int?

    /// Whether there is anything to count: a load test's token has neither limit.
    var isLimited: Bool { self.rate != nil || self.concurrency != nil }

    /// What a role gets unless its token's line says otherwise: enough for people and scripts,
    /// not for load tests (give those tokens `rate=unlimited concurrency=unlimited`).
    static func defaults(for role: Role) -> TokenLimit {
        switch role {
        case .reader: TokenLimit(rate: 500, concurrency: 32)
        case .secretariat: TokenLimit(rate: 1000, concurrency: 64)
        case .admin: TokenLimit(rate: 2000, concurrency: 128)
        }
    }

    var description: String {
        "rate=\(self.rate.map { String(Int($0)) } ?? "unlimited") concurrency=\(self.concurrency.map(String.init) ?? "unlimited")"
    }

    /// `rate=N` and `concurrency=N` (or `unlimited`) from a token line, over `self`.
    func overridden(by settings: [Substring]) throws(LimitSyntaxError) -> TokenLimit {
        var limit = self
        for setting in settings {
            let parts = setting.split(separator: "=", maxSplits: 1)
            guard parts.count == 2 else { throw LimitSyntaxError(setting: String(setting)) }
            let unlimited = parts[1] == "unlimited"
            switch parts[0] {
            case "rate":
                guard unlimited || (Double(parts[1]).map { $0 > 0 && $0.isFinite } ?? false) else { throw LimitSyntaxError(setting: String(setting)) }
                limit.rate = unlimited ? nil : Double(parts[1])
            case "concurrency":
                guard unlimited || (Int(parts[1]).map { $0 > 0 } ?? false) else { throw LimitSyntaxError(setting: String(setting)) }
                limit.concurrency = unlimited ? nil : Int(parts[1])
            default:
                throw LimitSyntaxError(setting: String(setting))
            }
        }
        return limit
    }
}

struct LimitSyntaxError: Error {
    var setting: String
}

/// One token's admission state, a pure value: the requests its bucket holds and those in flight.
struct TokenBucket: Sendable {
    var available: Double
    var refilled: ContinuousClock.Instant
    var inFlight = 0

    enum Admission: Equatable, Sendable {
        case admitted
        /// Over the rate: a request fits again after `retryAfterMs`.
        case overRate(retryAfterMs: Int64)
        /// As many in flight as the cap allows: one must finish first.
        case overConcurrency
    }

    init(limit: TokenLimit, now: ContinuousClock.Instant) {
        self.available = limit.rate ?? 0
        self.refilled = now
    }

    mutating func admit(_ limit: TokenLimit, at now: ContinuousClock.Instant) -> Admission {
        if let cap = limit.concurrency, self.inFlight >= cap { return .overConcurrency }
        if let rate = limit.rate {
            let elapsed = now - self.refilled
            let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
            self.available = min(max(rate, 1), self.available + seconds * rate)
            self.refilled = now
            guard self.available >= 1 else {
                return .overRate(retryAfterMs: max(1, Int64(((1 - self.available) / rate * 1000).rounded(.up))))
            }
            self.available -= 1
        }
        self.inFlight += 1
        return .admitted
    }

    mutating func finish() {
        self.inFlight = max(0, self.inFlight - 1)
    }
}

/// The buckets of every token holder this replica has seen, by holder name.
final class TokenLimiter: Sendable {
    /// What a refusal for too many in flight suggests: an answer usually comes within a few ms.
    static let concurrencyRetryMs: Int64 = 25
    private let buckets = NIOLockedValueBox<[String: TokenBucket]>([:])
    private let overRate = Counter(label: "concord_gateway_token_refusals_total", dimensions: [("limit", "rate")])
    private let overConcurrency = Counter(label: "concord_gateway_token_refusals_total", dimensions: [("limit", "concurrency")])

    /// Admits a request of `grant`'s holder, or throws `rate_limited` saying why and when to retry.
    /// An admitted request must be `finish`ed once, whatever its outcome.
    func admit(_ grant: TokenAuthority.Grant, now: ContinuousClock.Instant? = nil) throws(ConcordError) {
        let limit = grant.limit
        guard limit.isLimited else { return }
        // The clock is read only for a limited token.
        let now = now ?? .now
        let admission = self.buckets.withLockedValue { buckets in
            buckets[grant.name, default: TokenBucket(limit: limit, now: now)].admit(limit, at: now)
        }
        switch admission {
        case .admitted:
            return
        case .overRate(let retryAfterMs):
            self.overRate.increment()
            throw ConcordError(
                .rateLimited, "token '\(grant.name)' is over its \(Int(limit.rate ?? 0)) requests a second at this gateway; retry after \(retryAfterMs) ms",
                field: "metadata.auth", retryAfterMs: retryAfterMs
            )
        case .overConcurrency:
            self.overConcurrency.increment()
            throw ConcordError(
                .rateLimited, "token '\(grant.name)' has \(limit.concurrency ?? 0) requests in flight at this gateway, its most; retry when one has answered",
                field: "metadata.auth", retryAfterMs: Self.concurrencyRetryMs
            )
        }
    }

    func finish(_ grant: TokenAuthority.Grant) {
        guard grant.isLimited else { return }
        self.buckets.withLockedValue { buckets in buckets[grant.name]?.finish() }
    }
}
