import ConcordProtocol
import NIOCore

/// The life of one client connection, as a pure value: what the handler was told, and what it
/// should do about it.
///
/// It holds every decision the connection makes: which calls are out and under which wire id,
/// which line answers which call, when a call has run out of time and when the deadline timer must
/// be moved, when the connection is retired (it takes no new calls) and why it ended, and what a
/// refused certificate turns the answers into. No I/O and no clock of its own: the handler passes
/// `now` in and performs what comes back (writes, timers, completions, close), so every rule here
/// is tested without a channel (`ClientConnectionStateTests`).
///
/// `Call` is whatever the handler keeps for a call (where its answer goes, its stream): the
/// machine only holds it and hands it back.
struct ClientConnectionState<Call> {
    private struct Pending {
        var call: Call
        var deadline: NIODeadline
        /// The id the caller knows the call by, which its answer carries back.
        var callerID: String
    }

    /// By wire id, the number whose base-36 form the line carries: an integer key hashes far
    /// cheaper than the string.
    private var pending: [UInt64: Pending] = [:]
    private var lastWireID: UInt64 = 0
    /// The one deadline timer's rule: it stands for every call's deadline, and nearly every call
    /// is answered long before its own.
    private var timer = DeadlineCover()
    /// Set once the connection must take no new calls: the server said bye or is closing it, or
    /// the connection failed.
    private(set) var isRetired = false
    /// Why the connection ended, for the calls it fails.
    private(set) var closeReason: String?
    /// The server refused this client's certificate: the code every call still out fails with.
    private var refusal: ConcordError?
    let endpoint: String

    init(endpoint: String) {
        self.endpoint = endpoint
    }

    /// Calls out and not yet answered.
    var outstanding: Int { self.pending.count }

    // MARK: Sending

    enum SendAction {
        /// Write the call under this wire id; when `armTimer` is set, move the deadline timer to it.
        case write(wireID: UInt64, armTimer: NIODeadline?)
        /// This connection takes no new calls: the call never reached the server, so it goes
        /// back to the client for a fresh connection.
        case handBack
    }

    /// A call to send; `isActive` is whether the channel still is.
    mutating func send(_ call: Call, callerID: String, deadline: NIODeadline, isActive: Bool) -> SendAction {
        guard isActive, !self.isRetired else { return .handBack }
        self.lastWireID &+= 1
        let wireID = self.lastWireID
        self.pending[wireID] = Pending(call: call, deadline: deadline, callerID: callerID)
        return .write(wireID: wireID, armTimer: self.timer.cover(deadline))
    }

    /// When the deadline timer is set to fire, if it is.
    var timerArmedFor: NIODeadline? { self.timer.armedFor }

    // MARK: Lines from the server

    enum AnswerAction {
        /// Complete the call with the answer, under the id its caller knows it by; `failure`,
        /// when set, replaces the answer's own (a refused certificate's code). The answer may have
        /// retired the connection (`isRetired`).
        case complete(Call, callerID: String, failure: ConcordError?)
        /// The line answers no call of ours (late, or never ours): nothing to do.
        case none
    }

    /// An answer line came, under `id`, failing with `error` when it did.
    mutating func answerReceived(id: String, error: ConcordError?) -> AnswerAction {
        guard let wireID = Self.wireID(id), let entry = self.pending.removeValue(forKey: wireID) else {
            if id == unsolicitedID, let error {
                self.closeReason = "\(error.code): \(error.message)"
                // The server refused this client's credentials (a revoked certificate): no other
                // replica or retry will take them, so calls fail with that code, not `unavailable`.
                if error.code == .unauthorized { self.refusal = error }
            }
            return .none
        }
        guard let error, error.unprocessed else {
            return .complete(entry.call, callerID: entry.callerID, failure: nil)
        }
        // The server is closing this connection: later calls go on a new one. When it refused
        // this client's certificate, that, not the closing, is the answer.
        self.isRetired = true
        return .complete(entry.call, callerID: entry.callerID, failure: self.refusal.map(self.refused))
    }

    /// An item of a stream came under `id`: the call it belongs to, while that call is out.
    func itemReceived(id: String) -> Call? {
        Self.wireID(id).flatMap { self.pending[$0]?.call }
    }

    enum EventAction: Equatable {
        case pong
        /// The server is closing: take no new calls here, and close from this side too.
        case retireAndClose
        case none
    }

    mutating func eventReceived(_ event: ServerEvent) -> EventAction {
        switch event.name {
        case .ping:
            return .pong
        case .bye:
            self.closeReason = "server said bye: \(String(buffer: event.body))"
            self.isRetired = true
            return .retireAndClose
        default:
            return .none
        }
    }

    /// The server sent a line longer than this client accepts: nothing after it can be trusted
    /// to start a line, so the connection closes.
    mutating func lineTooLong() {
        self.closeReason = "server sent a line longer than this client accepts"
    }

    /// The TLS handshake agreed on `negotiated`; false when the connection must close because
    /// the server does not speak this protocol.
    mutating func handshakeCompleted(negotiated: String?) -> Bool {
        guard negotiated == ConcordProtocolVersion.alpn else {
            self.closeReason = "server did not agree to ALPN \(ConcordProtocolVersion.alpn)"
            return false
        }
        return true
    }

    /// The connection failed with `error`; it closes and takes no new calls.
    mutating func failed(_ error: String) {
        self.isRetired = true
        if self.closeReason == nil { self.closeReason = error }
    }

    // MARK: Time and the end

    /// The deadline timer fired at `now`: the calls past their deadline fail with `error`, and
    /// the timer is set again for the earliest deadline still pending, if any.
    mutating func timerFired(now: NIODeadline) -> (expired: [Call], error: ConcordError, armTimer: NIODeadline?) {
        self.timer.disarm()
        let (overdue, earliest) = DeadlineCover.partition(self.pending, now: now, deadline: \.deadline)
        let expired = overdue.compactMap { self.pending.removeValue(forKey: $0)?.call }
        let error = ConcordError(.deadlineExceeded, "no answer from \(self.endpoint) before the deadline")
        return (expired, error, earliest.flatMap { self.timer.cover($0) })
    }

    /// The connection ended: every call still out fails with the returned error, and the timer,
    /// if set, is no longer needed.
    mutating func closed() -> (failed: [Call], error: ConcordError, cancelTimer: Bool) {
        self.isRetired = true
        let failed = self.pending.values.map(\.call)
        self.pending.removeAll()
        let cancelTimer = self.timer.disarm()
        let error: ConcordError = if let refusal = self.refusal {
            self.refused(refusal)
        } else {
            ConcordError(.unavailable, "connection to \(self.endpoint) closed" + (self.closeReason.map { ": \($0)" } ?? ""))
        }
        return (failed, error, cancelTimer)
    }

    private func refused(_ refusal: ConcordError) -> ConcordError {
        ConcordError(.unauthorized, "\(self.endpoint) refused this client: \(refusal.message)")
    }

    // MARK: Wire ids

    /// The wire id as the line carries it.
    static func wireIDText(_ wireID: UInt64) -> String {
        // Digit by digit into the string's own bytes: `String(_:radix:)` cost about four times
        // as much (docs/performance.md).
        var count = 1
        var rest = wireID / 36
        while rest > 0 {
            count += 1
            rest /= 36
        }
        return String(unsafeUninitializedCapacity: count) { bytes in
            var value = wireID
            for index in stride(from: count - 1, through: 0, by: -1) {
                let digit = UInt8(value % 36)
                bytes[index] = digit < 10 ? UInt8(ascii: "0") + digit : UInt8(ascii: "a") + digit - 10
                value /= 36
            }
            return count
        }
    }

    /// The number behind a wire id exactly as this connection writes them: base 36, lower case,
    /// no sign or leading zero. Anything else answers no call of ours.
    static func wireID(_ text: String) -> UInt64? {
        let digits = text.utf8
        guard (1...12).contains(digits.count), digits.first != UInt8(ascii: "0") else { return nil }
        var value: UInt64 = 0
        for byte in digits {
            let digit: UInt8
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = byte - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "z"): digit = byte - UInt8(ascii: "a") + 10
            default: return nil
            }
            value = value * 36 + UInt64(digit)
        }
        return value
    }
}
