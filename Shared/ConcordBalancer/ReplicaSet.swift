/// The replicas of one service and what the gateway knows about each: requests outstanding,
/// consecutive failures, ejections, active health, whether it is draining. A pure value: the pool
/// that owns it holds it under a lock, and every decision (which replica, eject, readmit, drop)
/// is a mutating method that returns what happened. Time comes in as an argument.
///
/// The policy follows Envoy's defaults where it has them: least outstanding requests over two
/// random choices; outlier ejection after consecutive failures for a time that grows with each
/// ejection; a cap on the share of replicas ejected at once, never all of them.
public struct ReplicaSet<Address: Hashable & Sendable>: Sendable {
    public struct Policy: Sendable {
        /// Failures in a row that eject a replica (Envoy: consecutive_5xx = 5).
        public var consecutiveFailuresToEject = 5
        /// The first ejection lasts this long; the n-th lasts n times as long (Envoy: 30 s).
        public var baseEjectionTime: Duration = .seconds(30)
        /// No ejection lasts longer than this (Envoy: max_ejection_time 300 s).
        public var maxEjectionTime: Duration = .seconds(300)
        /// At most this share of replicas is ejected at once; at least one may be when there are
        /// two or more, and never all.
        public var maxEjectedShare = 0.5
        /// Failed active checks in a row that mark a replica unhealthy (Envoy: unhealthy_threshold).
        public var unhealthyThreshold = 2

        public init() {}
    }

    /// What the set knows of one replica. Its fields are settable so that the inlinable methods
    /// can update them; outside this module a replica is only ever a copy read from `replicas`.
    public struct Replica: Sendable, Hashable {
        public let address: Address
        public var outstanding = 0
        public var consecutiveFailures = 0
        public var failedChecks = 0
        public var isHealthy = true
        public var ejections = 0
        public var ejectedUntil: ContinuousClock.Instant?
        /// Gone from configuration or DNS: takes no new requests, dropped once idle.
        public var isDraining = false
        public var requests = 0
        public var failures = 0

        init(address: Address) { self.address = address }

        @inlinable func isEjected(at now: ContinuousClock.Instant) -> Bool {
            self.ejectedUntil.map { now < $0 } ?? false
        }
    }

    public enum Event: Sendable, Hashable {
        case ejected(Address, until: ContinuousClock.Instant, ejections: Int)
        case readmitted(Address)
        case becameUnhealthy(Address)
        case becameHealthy(Address)
        /// Draining finished: close its connection.
        case removed(Address)
    }

    public let policy: Policy
    /// In the order they appeared, so picks are reproducible with a seeded generator.
    public var replicas: [Replica] { self.members }
    /// `pick` and `finished` run for every forwarded request and are inlinable, so the gateway
    /// gets them specialised for its address type instead of generic; they need this setter.
    @usableFromInline var members: [Replica] = []

    public init(addresses: [Address] = [], policy: Policy = Policy()) {
        self.policy = policy
        for address in addresses where !self.members.contains(where: { $0.address == address }) {
            self.members.append(Replica(address: address))
        }
    }

    public var outstanding: Int { self.members.reduce(0) { $0 + $1.outstanding } }

    // MARK: Picking

    /// Chooses a replica for one request and counts it as outstanding there: the less loaded of
    /// two random healthy, unejected replicas not in `excluding` (replicas already tried). With
    /// none such, any replica not draining and not excluded (better a doubtful replica than none).
    @inlinable public mutating func pick<Generator: RandomNumberGenerator>(
        excluding: Set<Address> = [],
        now: ContinuousClock.Instant,
        using generator: inout Generator
    ) -> Address? {
        // Counted and indexed in place: this runs for every forwarded request, so no arrays, and
        // each replica is looked at where it is (a copy of one takes a reference count of its
        // address; docs/performance.md).
        var strict = true
        func isCandidate(_ index: Int) -> Bool {
            !self.members[index].isDraining && (excluding.isEmpty || !excluding.contains(self.members[index].address))
                && (!strict || (self.members[index].isHealthy && !self.members[index].isEjected(at: now)))
        }
        func candidates() -> Int {
            var count = 0
            for index in self.members.indices where isCandidate(index) { count += 1 }
            return count
        }
        var count = candidates()
        if count == 0 {
            strict = false
            count = candidates()
        }
        guard count > 0 else { return nil }
        /// The index of the candidate with this ordinal.
        func candidate(_ ordinal: Int) -> Int {
            var seen = 0
            for index in self.members.indices where isCandidate(index) {
                if seen == ordinal { return index }
                seen += 1
            }
            preconditionFailure("candidate \(ordinal) of \(count) not found")
        }
        let first = Int.random(in: 0..<count, using: &generator)
        var chosen = candidate(first)
        if count > 1 {
            var second = Int.random(in: 0..<(count - 1), using: &generator)
            if second == first { second = count - 1 }
            let other = candidate(second)
            if self.members[other].outstanding < self.members[chosen].outstanding { chosen = other }
        }
        self.members[chosen].outstanding += 1
        self.members[chosen].requests += 1
        return self.members[chosen].address
    }

    // MARK: Outcomes

    /// Records how a request picked for `address` ended. A failure is the replica's fault
    /// (unreachable, closed, timed out, internal error), not an answer such as not_found.
    @inlinable public mutating func finished(_ address: Address, success: Bool, now: ContinuousClock.Instant) -> [Event] {
        guard let index = self.index(of: address) else { return [] }
        self.members[index].outstanding = max(0, self.members[index].outstanding - 1)
        var events: [Event] = []
        if success {
            self.members[index].consecutiveFailures = 0
        } else {
            self.members[index].failures += 1
            self.members[index].consecutiveFailures += 1
            if self.members[index].consecutiveFailures >= self.policy.consecutiveFailuresToEject,
               !self.members[index].isEjected(at: now), self.mayEject(now: now) {
                events.append(self.eject(index, now: now))
            }
        }
        if let removed = self.dropIfDrained(index) { events.append(removed) }
        return events
    }

    /// Records an active health check (the protocol's ready verb). A pass also readmits an
    /// ejected replica: it answered, so it gets traffic again (Envoy does the same by default).
    public mutating func checked(_ address: Address, healthy: Bool, now: ContinuousClock.Instant) -> [Event] {
        guard let index = self.index(of: address) else { return [] }
        var events: [Event] = []
        if healthy {
            self.members[index].failedChecks = 0
            if !self.members[index].isHealthy {
                self.members[index].isHealthy = true
                events.append(.becameHealthy(address))
            }
            if self.members[index].isEjected(at: now) {
                self.members[index].ejectedUntil = nil
                self.members[index].consecutiveFailures = 0
                events.append(.readmitted(address))
            }
        } else {
            self.members[index].failedChecks += 1
            if self.members[index].isHealthy, self.members[index].failedChecks >= self.policy.unhealthyThreshold {
                self.members[index].isHealthy = false
                events.append(.becameUnhealthy(address))
            }
        }
        return events
    }

    /// Readmits replicas whose ejection has run out. Call it now and then (each health round).
    public mutating func expireEjections(now: ContinuousClock.Instant) -> [Event] {
        var events: [Event] = []
        for index in self.members.indices {
            if let until = self.members[index].ejectedUntil, now >= until {
                self.members[index].ejectedUntil = nil
                self.members[index].consecutiveFailures = 0
                events.append(.readmitted(self.members[index].address))
            }
        }
        return events
    }

    // MARK: Membership

    /// Makes `addresses` the replicas: new ones join (healthy until shown otherwise), missing ones
    /// drain: no new requests, removed once their outstanding requests finish.
    public mutating func update(addresses: [Address]) -> (added: [Address], events: [Event]) {
        let wanted = Set(addresses)
        var added: [Address] = []
        for address in addresses {
            if let index = self.index(of: address) {
                self.members[index].isDraining = false
            } else if !added.contains(address) {
                self.members.append(Replica(address: address))
                added.append(address)
            }
        }
        var events: [Event] = []
        for index in self.members.indices.reversed() where !wanted.contains(self.members[index].address) {
            self.members[index].isDraining = true
            if let removed = self.dropIfDrained(index) { events.append(removed) }
        }
        return (added, events)
    }

    // MARK: Internals

    @inlinable func index(of address: Address) -> Int? {
        self.members.firstIndex { $0.address == address }
    }

    @inlinable func mayEject(now: ContinuousClock.Instant) -> Bool {
        let live = self.members.filter { !$0.isDraining }
        let ejected = live.filter { $0.isEjected(at: now) }.count
        guard live.count > 1 else { return false }
        let cap = max(1, Int(Double(live.count) * self.policy.maxEjectedShare))
        return ejected < min(cap, live.count - 1)
    }

    @inlinable mutating func eject(_ index: Int, now: ContinuousClock.Instant) -> Event {
        self.members[index].ejections += 1
        let ejections = self.members[index].ejections
        let length = min(self.policy.baseEjectionTime * ejections, self.policy.maxEjectionTime)
        let until = now + length
        self.members[index].ejectedUntil = until
        self.members[index].consecutiveFailures = 0
        return .ejected(self.members[index].address, until: until, ejections: ejections)
    }

    @inlinable mutating func dropIfDrained(_ index: Int) -> Event? {
        guard self.members[index].isDraining, self.members[index].outstanding == 0 else { return nil }
        return .removed(self.members.remove(at: index).address)
    }
}
