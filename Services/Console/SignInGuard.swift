/// Repeated failed sign-ins, from one address or for one name: each failure beyond the third
/// waits a little longer before its answer, and after the tenth within the window that name or
/// address is refused for the window, even with the right password. A pure value: the time is
/// passed in; the console holds it under a lock.
struct SignInGuard: Sendable {
    /// How long failures are remembered, and how long a lock lasts.
    var window: Int = 15 * 60
    var freeFailures = 3
    var lockAfter = 10

    private var failures: [String: [Int]] = [:]

    enum Verdict: Equatable {
        /// Check the password, answering no sooner than `delay` seconds after asking.
        case check(delay: Double)
        /// Refused without checking, until `until`.
        case locked(until: Int)
    }

    /// What to do with a sign-in for `name` from `address` at `now`.
    mutating func verdict(name: String, address: String, now: Int) -> Verdict {
        let counts = [self.recent("name:" + name, now: now), self.recent("address:" + address, now: now)]
        let worst = counts.max { $0.count < $1.count } ?? []
        if worst.count >= self.lockAfter, let first = worst.first { return .locked(until: first + self.window) }
        let over = max(0, worst.count - self.freeFailures)
        return .check(delay: min(4.0, over == 0 ? 0 : 0.25 * Double(1 << min(over - 1, 4))))
    }

    mutating func failed(name: String, address: String, now: Int) {
        for key in ["name:" + name, "address:" + address] {
            self.failures[key, default: []].append(now)
        }
        // Forget what the window has passed, so memory follows the attempts of one window.
        if self.failures.count > 10_000 {
            self.failures = self.failures.filter { $0.value.last.map { $0 > now - self.window } ?? false }
        }
    }

    mutating func succeeded(name: String) {
        self.failures["name:" + name] = nil
    }

    private mutating func recent(_ key: String, now: Int) -> [Int] {
        let kept = (self.failures[key] ?? []).filter { $0 > now - self.window }
        self.failures[key] = kept.isEmpty ? nil : kept
        return kept
    }
}
