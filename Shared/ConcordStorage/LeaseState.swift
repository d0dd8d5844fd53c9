/// Every decision about lending PostgreSQL connections to requests, as one value: whether a
/// request waits for a connection, probes for one, or is refused at once; whether a connection
/// that comes still has a taker; when a wait runs out; and which bodies to fail because their
/// connection closed under them. `PostgresDatabase` keeps it under a lock and performs what it
/// returns; it has no clock of its own and no I/O, so its tests drive it by hand.
///
/// Why it decides as it does:
/// - The wait for a connection is never cancelled: a request that gives up leaves its claim
///   abandoned, and the connection, when it comes, goes straight back to the pool. (Cancelling
///   waits for a lease, many a second while PostgreSQL was down, once left the pool with no
///   connection after it came back: `PostgresOutageTests`.)
/// - Once a wait has run out, the store is taken to be away until a connection comes: one
///   request at a time probes (its shorter wait, and its claim stays until the pool answers
///   it), and every other is refused at once. So requests answer fast while it is away, and
///   abandoned claims do not pile up, one a request (docs/robustness.md has the soak's figures).
/// - A connection that closes while a body runs on it sometimes leaves the statement waiting for
///   ever (PostgresNIO 1.33). A body whose connection was seen closed at two sweeps in a row is
///   answered `unavailable`, told whether it had sent COMMIT.
struct LeaseState: Sendable {
    /// A wait ran out, and no connection has come since.
    private(set) var failing = false
    /// A probe's claim is still with the pool.
    private(set) var probing = false
    private var next = 0
    private(set) var leases: [Int: Lease] = [:]

    struct Lease: Sendable, Equatable {
        var claim = Claim.waiting
        let isProbe: Bool
        /// The body has sent (or is about to send) COMMIT.
        var committing = false
        /// Its connection was closed at the last sweep.
        var closedSeen = false
        /// The caller has its answer (a timeout, a closed connection); nothing more is said.
        var answered = false
    }

    /// Whether the request that waits for a connection still wants it.
    enum Claim: Sendable, Equatable { case waiting, taken, abandoned }

    enum Admission: Sendable, Equatable {
        /// Wait up to `timeout` for a connection (`timedOut` when it runs out).
        case wait(Int, timeout: Duration)
        /// The store is taken to be away: this request probes, with the shorter wait.
        case probe(Int, timeout: Duration)
        /// The store is away and another request is probing: answer `unavailable` now.
        case refuse
    }

    mutating func admit(leaseTimeout: Duration, probeTimeout: Duration) -> Admission {
        if self.failing {
            guard !self.probing else { return .refuse }
            self.probing = true
        }
        self.next += 1
        let isProbe = self.failing
        self.leases[self.next] = Lease(isProbe: isProbe)
        return isProbe ? .probe(self.next, timeout: probeTimeout) : .wait(self.next, timeout: leaseTimeout)
    }

    /// The wait of `id` ran out. True: answer it `unavailable` (its claim is abandoned, and the
    /// store is taken to be away); false: its connection came first, nothing to do.
    mutating func timedOut(_ id: Int) -> Bool {
        guard var lease = self.leases[id], lease.claim == .waiting else { return false }
        lease.claim = .abandoned
        lease.answered = true
        self.leases[id] = lease
        self.failing = true
        return true
    }

    /// A connection came for `id`: the store is there. True: run the body on it; false: its
    /// request gave up waiting, give the connection straight back.
    mutating func lent(_ id: Int) -> Bool {
        self.failing = false
        guard var lease = self.leases[id], lease.claim == .waiting else { return false }
        lease.claim = .taken
        self.leases[id] = lease
        return true
    }

    /// The body of `id` is about to send COMMIT: from now on, whether it committed cannot be
    /// told if its connection closes.
    mutating func committing(_ id: Int) {
        self.leases[id]?.committing = true
    }

    /// The pool has answered the claim of `id`: its body ended, or no connection came (an
    /// error). True: give the caller this answer; false: it has had one already. Another
    /// request may probe now.
    mutating func ended(_ id: Int) -> Bool {
        guard let lease = self.leases.removeValue(forKey: id) else { return false }
        if lease.isProbe { self.probing = false }
        return !lease.answered
    }

    /// Whether a sweep has anything to look at.
    var hasRunningBodies: Bool { self.leases.values.contains { $0.claim == .taken && !$0.answered } }

    /// One sweep, given which running bodies' connections are closed now: a body whose
    /// connection was closed at this sweep and the last is answered, and told whether it had
    /// sent COMMIT. Returns those to fail.
    mutating func sweep(closed: Set<Int>) -> [(id: Int, committing: Bool)] {
        var failing: [(id: Int, committing: Bool)] = []
        for (id, lease) in self.leases where lease.claim == .taken && !lease.answered {
            if closed.contains(id) {
                if lease.closedSeen {
                    self.leases[id]?.answered = true
                    failing.append((id, lease.committing))
                } else {
                    self.leases[id]?.closedSeen = true
                }
            } else {
                self.leases[id]?.closedSeen = false
            }
        }
        return failing.sorted { $0.id < $1.id }
    }
}
