/// Every decision about PostgreSQL connections and lending them to requests, as one value:
/// when to open a connection; whether a request runs on an idle one, waits, probes or is
/// refused at once; who gets a connection that opens or comes back; when a wait runs out; and
/// which bodies to fail because their connection closed under them. `PostgresDatabase` keeps
/// it under a lock and performs what it returns; it has no clock and no I/O (time is passed
/// in), so its tests drive it by hand.
///
/// Why it decides as it does:
/// - The set fills to `capacity` after the first connection opens, one at a time, and stays
///   open: no idle timer, no keep-alive, nothing that runs while the service is idle, and the
///   process's descriptors do not move with the load. One that closes is forgotten, and opened
///   again when a request needs it (after which the set fills again). A request that finds none
///   idle opens one more, when more wait than are opening. (postgres-nio 1.33's own pool trapped
///   when it held fewer connections than its minimum, which it did after an outage, and its
///   idle timers cost memory: docs/robustness.md.)
/// - A request that waits leaves the queue when its wait runs out, and a connection that comes
///   later goes to the next in line or stays idle: nothing is left behind per request.
/// - Once a wait has run out, or a connection failed to open while none is open, the store is
///   taken to be away until a connection comes: one request at a time probes (its shorter
///   wait, opening a connection if none is opening, at most one attempt every `retryDelay`), and
///   every other is refused at once. So requests answer fast while it is away (docs/robustness.md
///   has the soak's figures).
/// - A connection that fails to open while none is open answers every waiting request at once:
///   nothing else would come for them.
/// - A connection that closes while a body runs on it sometimes leaves the statement waiting for
///   ever (PostgresNIO 1.33). A body whose connection was seen closed at two sweeps in a row is
///   answered `unavailable`, told whether it had sent COMMIT, and its connection stops counting.
struct LeaseState: Sendable {
    /// The most connections open (or opening) at once.
    let capacity: Int
    /// How long after a failed attempt the next one may start, while the store is away.
    let retryDelay: Duration
    /// A wait ran out, or opening failed with none open, and no connection has come since.
    private(set) var failing = false
    /// A probe is waiting.
    private(set) var probing = false
    /// No attempt to open starts before this, while the store is away.
    private var retryAt: ContinuousClock.Instant?
    /// Connections being opened.
    private(set) var connecting = 0
    /// Open connections nobody holds, the one used last at the end.
    private(set) var idle: [Int] = []
    /// Open connections lent, each to the lease running on it.
    private(set) var lent: [Int: Int] = [:]
    /// Leases waiting for a connection, first come first served.
    private(set) var waiting: [Int] = []
    private(set) var leases: [Int: Lease] = [:]
    private var nextLease = 0
    private var nextConnection = 0

    init(capacity: Int, retryDelay: Duration = .milliseconds(200)) {
        precondition(capacity > 0, "a store needs at least one connection")
        self.capacity = capacity
        self.retryDelay = retryDelay
    }

    struct Lease: Sendable, Equatable {
        /// The connection it runs on; nil while it waits, or once its connection was swept.
        var connection: Int?
        let isProbe: Bool
        /// The body has sent (or is about to send) COMMIT.
        var committing = false
        /// Its connection was closed at the last sweep.
        var closedSeen = false
        /// The caller has its answer (its connection closed under it); nothing more is said.
        var answered = false
    }

    enum Admission: Sendable, Equatable {
        /// Run the body now on this idle connection.
        case run(lease: Int, connection: Int)
        /// Wait up to `timeout` for a connection (`lend` gives it, `timedOut` ends the wait).
        case wait(lease: Int, timeout: Duration)
        /// The store is away and another request is probing (or an attempt failed a moment
        /// ago): answer `unavailable` now.
        case refuse
    }

    /// The store was just taken to be away, or is back: each turn is returned once, by the call
    /// that made it, for the store to tell its operator.
    enum Turn: Sendable, Equatable {
        case away
        case back
    }

    /// A connection goes to a waiting lease: cancel its wait and run its body on it.
    struct Lend: Sendable, Equatable {
        var lease: Int
        var connection: Int
    }

    /// Connections counted against `capacity`.
    var open: Int { self.idle.count + self.lent.count + self.connecting }

    /// Whether a sweep has anything to look at.
    var hasRunningBodies: Bool { self.leases.values.contains { $0.connection != nil && !$0.answered } }

    /// A request asks for a connection. `connect`: open a connection with this id (it is
    /// counted from now), whatever the admission.
    mutating func admit(now: ContinuousClock.Instant, leaseTimeout: Duration, probeTimeout: Duration) -> (Admission, connect: Int?) {
        if let connection = self.idle.popLast() {
            let lease = self.newLease(isProbe: false, on: connection)
            return (.run(lease: lease, connection: connection), nil)
        }
        guard self.failing else {
            let lease = self.newLease(isProbe: false, on: nil)
            self.waiting.append(lease)
            return (.wait(lease: lease, timeout: leaseTimeout), self.replacementIfWanted())
        }
        // Away: one probe at a time, on a connection already opening or one it opens, if an
        // attempt may start now.
        guard !self.probing else { return (.refuse, nil) }
        var connect: Int?
        if self.connecting == 0 {
            guard self.open < self.capacity, now >= self.retryAt ?? now else { return (.refuse, nil) }
            connect = self.startConnecting()
        }
        self.probing = true
        let lease = self.newLease(isProbe: true, on: nil)
        self.waiting.append(lease)
        return (.wait(lease: lease, timeout: probeTimeout), connect)
    }

    /// The wait of `lease` ran out. `refuse`: answer it `unavailable` (it leaves the queue, and
    /// the store is taken to be away); otherwise a connection came first, nothing to do.
    mutating func timedOut(_ lease: Int) -> (refuse: Bool, turn: Turn?) {
        guard let index = self.waiting.firstIndex(of: lease) else { return (false, nil) }
        self.waiting.remove(at: index)
        if self.leases.removeValue(forKey: lease)?.isProbe == true { self.probing = false }
        return (true, self.turn(failing: true))
    }

    /// Connection `connection` opened: the store is there. It goes to the first lease waiting,
    /// or stays idle; and while the set is not full and nothing else is opening, the next one
    /// opens (`connect`), so the set fills one connection at a time after the first.
    mutating func connected(_ connection: Int) -> (lend: Lend?, connect: Int?, turn: Turn?) {
        self.connecting -= 1
        let turn = self.turn(failing: false)
        let lend = self.handOver(connection)
        return (lend, self.connecting == 0 && self.open < self.capacity ? self.startConnecting() : nil, turn)
    }

    /// Opening connection `connection` failed. Returns the leases to answer `unavailable` now:
    /// every one waiting when no connection is open or opening (nothing would come for them).
    mutating func connectFailed(_ connection: Int, now: ContinuousClock.Instant) -> (refused: [Int], turn: Turn?) {
        self.connecting -= 1
        guard self.idle.isEmpty, self.lent.isEmpty, self.connecting == 0 else { return ([], nil) }
        let turn = self.turn(failing: true)
        self.retryAt = now + self.retryDelay
        let refused = self.waiting
        self.waiting.removeAll()
        for lease in refused { self.leases[lease] = nil }
        self.probing = false
        return (refused, turn)
    }

    /// An open connection closed by itself. An idle one is forgotten now; a lent one when its
    /// body ends (`released`).
    mutating func closed(_ connection: Int) {
        self.idle.removeAll { $0 == connection }
    }

    /// The body of `lease` is about to send COMMIT: from now on, whether it committed cannot be
    /// told if its connection closes.
    mutating func committing(_ lease: Int) {
        self.leases[lease]?.committing = true
    }

    /// The body of `lease` ended; `closed`: its connection is closed. Returns whether to give
    /// the caller the body's answer (false: it had one already), and what becomes of the
    /// connection: lent to the next lease waiting, or (when it closed and leases wait) a new one
    /// to open in its place.
    mutating func released(_ lease: Int, closed: Bool) -> (answer: Bool, lend: Lend?, connect: Int?, turn: Turn?) {
        guard let ended = self.leases.removeValue(forKey: lease) else { return (false, nil, nil, nil) }
        if ended.isProbe { self.probing = false }
        guard let connection = ended.connection else { return (!ended.answered, nil, nil, nil) }
        self.lent[connection] = nil
        if closed {
            return (!ended.answered, nil, self.replacementIfWanted(), nil)
        }
        let turn = self.turn(failing: false)
        return (!ended.answered, self.handOver(connection), nil, turn)
    }

    /// One sweep, given which running bodies' connections are closed now (by lease): a body
    /// whose connection was closed at this sweep and the last is answered, told whether it had
    /// sent COMMIT, and its connection stops counting. Returns those to fail, and a connection to
    /// open for the leases waiting, if any.
    mutating func sweep(closed: Set<Int>) -> (failing: [(lease: Int, committing: Bool)], connect: Int?) {
        var failing: [(lease: Int, committing: Bool)] = []
        for (id, lease) in self.leases where lease.connection != nil && !lease.answered {
            guard closed.contains(id) else {
                self.leases[id]?.closedSeen = false
                continue
            }
            guard lease.closedSeen else {
                self.leases[id]?.closedSeen = true
                continue
            }
            self.leases[id]?.answered = true
            self.leases[id]?.connection = nil
            self.lent[lease.connection!] = nil
            failing.append((id, lease.committing))
        }
        return (failing.sorted { $0.lease < $1.lease }, failing.isEmpty ? nil : self.replacementIfWanted())
    }

    /// Takes the store to be away (`failing`) or there, and returns the turn if that is one.
    /// Back, attempts to open may start at once again.
    private mutating func turn(failing: Bool) -> Turn? {
        if !failing { self.retryAt = nil }
        guard failing != self.failing else { return nil }
        self.failing = failing
        return failing ? .away : .back
    }

    private mutating func newLease(isProbe: Bool, on connection: Int?) -> Int {
        self.nextLease += 1
        self.leases[self.nextLease] = Lease(connection: connection, isProbe: isProbe)
        if let connection { self.lent[connection] = self.nextLease }
        return self.nextLease
    }

    private mutating func startConnecting() -> Int {
        self.connecting += 1
        self.nextConnection += 1
        return self.nextConnection
    }

    /// An open connection nobody holds: to the first lease waiting, or idle.
    private mutating func handOver(_ connection: Int) -> Lend? {
        guard !self.waiting.isEmpty else {
            self.idle.append(connection)
            return nil
        }
        let lease = self.waiting.removeFirst()
        self.leases[lease]?.connection = connection
        self.lent[connection] = lease
        return Lend(lease: lease, connection: connection)
    }

    /// A connection to open, when more leases wait than connections are opening, and there is
    /// room for one more.
    private mutating func replacementIfWanted() -> Int? {
        guard !self.waiting.isEmpty, self.connecting < self.waiting.count, self.open < self.capacity else { return nil }
        return self.startConnecting()
    }
}
