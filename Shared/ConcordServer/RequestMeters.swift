import ConcordProtocol
import CoreMetrics
import NIOConcurrencyHelpers
import NIOCore

/// Every answer a server writes, counted by verb and result code, and timed by verb, through
/// swift-metrics: `concord_requests_total{verb,code}`, `concord_request_duration_seconds{verb}`,
/// and TLS handshakes with callers (`concord_tls_handshakes_total{result}`). A verb is a label only when a route (or, behind a gateway,
/// a service) declares it: anything else a caller sends counts as `other`, so labels stay bounded.
/// Instruments are made once per label and code and kept; with no metrics backend bootstrapped
/// they do nothing.
final class RequestMeters: Sendable {
    static let shared = RequestMeters()

    /// The label for a verb nobody declares.
    static let undeclared = "other"

    private final class Instruments: Sendable {
        let duration: CoreMetrics.Timer
        let ok: Counter
        let errors: NIOLockedValueBox<[ErrorCode: Counter]>

        init(verb: String) {
            self.duration = CoreMetrics.Timer(label: "concord_request_duration_seconds", dimensions: [("verb", verb)])
            self.ok = Counter(label: "concord_requests_total", dimensions: [("verb", verb), ("code", "ok")])
            self.errors = NIOLockedValueBox([:])
            self.verb = verb
        }

        let verb: String

        func counter(for code: ErrorCode) -> Counter {
            self.errors.withLockedValue { counters in
                if let counter = counters[code] { return counter }
                let counter = Counter(label: "concord_requests_total", dimensions: [("verb", self.verb), ("code", code.wire)])
                counters[code] = counter
                return counter
            }
        }
    }

    private let byVerb = NIOLockedValueBox<[String: Instruments]>([:])
    private let handshakesOK = Counter(label: "concord_tls_handshakes_total", dimensions: [("result", "ok")])
    private let handshakesFailed = Counter(label: "concord_tls_handshakes_total", dimensions: [("result", "failed")])

    /// A TLS handshake with a caller finished, or failed before it did.
    func handshake(ok: Bool) {
        (ok ? self.handshakesOK : self.handshakesFailed).increment()
    }

    /// Counts one answer under `label` (a declared verb or `undeclared`), taking `duration`.
    func record(_ label: String, _ outcome: Response.Outcome, duration: TimeAmount) {
        let instruments = self.byVerb.withLockedValue { byVerb in
            if let instruments = byVerb[label] { return instruments }
            let instruments = Instruments(verb: label)
            byVerb[label] = instruments
            return instruments
        }
        switch outcome {
        case .ok: instruments.ok.increment()
        case .error(let error): instruments.counter(for: error.code).increment()
        }
        instruments.duration.recordNanoseconds(duration.nanoseconds)
    }
}
