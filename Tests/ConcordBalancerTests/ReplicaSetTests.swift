import ConcordBalancer
import Testing

@Suite("Replica set (pure)")
struct ReplicaSetTests {
    let start = ContinuousClock.now

    @Test func twoChoicesPreferTheLessLoadedReplica() {
        var set = ReplicaSet(addresses: ["a", "b"])
        var generator = SplitMix64(seed: 1)
        // Load "a" with outstanding requests; every later pick must go to "b".
        for _ in 0..<5 { _ = set.pick(excluding: ["b"], now: self.start, using: &generator) }
        for _ in 0..<4 {
            #expect(set.pick(now: self.start, using: &generator) == "b")
        }
    }

    @Test func loadSpreadsEvenlyWhenEveryRequestFinishes() {
        var set = ReplicaSet(addresses: ["a", "b", "c"])
        var generator = SplitMix64(seed: 7)
        var counts: [String: Int] = [:]
        for _ in 0..<3000 {
            let address = set.pick(now: self.start, using: &generator)!
            counts[address, default: 0] += 1
            _ = set.finished(address, success: true, now: self.start)
        }
        #expect(counts.values.allSatisfy { (800...1200).contains($0) }, "\(counts)")
    }

    @Test func consecutiveFailuresEjectForAGrowingTime() {
        var set = ReplicaSet(addresses: ["a", "b", "c"])
        var generator = SplitMix64(seed: 3)
        var events: [ReplicaSet<String>.Event] = []
        for _ in 0..<5 {
            _ = set.pick(excluding: ["b", "c"], now: self.start, using: &generator)
            events += set.finished("a", success: false, now: self.start)
        }
        #expect(events == [.ejected("a", until: self.start + .seconds(30), ejections: 1)])
        // Ejected: never picked while others are fine.
        for _ in 0..<50 {
            let address = set.pick(now: self.start + .seconds(1), using: &generator)
            #expect(address != "a")
            _ = set.finished(address!, success: true, now: self.start)
        }
        // Readmitted when the time runs out; a second ejection lasts twice as long.
        #expect(set.expireEjections(now: self.start + .seconds(30)) == [.readmitted("a")])
        events = []
        for _ in 0..<5 {
            _ = set.pick(excluding: ["b", "c"], now: self.start + .seconds(31), using: &generator)
            events += set.finished("a", success: false, now: self.start + .seconds(31))
        }
        #expect(events == [.ejected("a", until: self.start + .seconds(91), ejections: 2)])
    }

    @Test func neverEjectsEveryReplica() {
        var set = ReplicaSet(addresses: ["a", "b"])
        var generator = SplitMix64(seed: 5)
        var events: [ReplicaSet<String>.Event] = []
        for address in ["a", "b"] {
            for _ in 0..<10 {
                _ = set.pick(excluding: Set(["a", "b"]).subtracting([address]), now: self.start, using: &generator)
                events += set.finished(address, success: false, now: self.start)
            }
        }
        #expect(events.count == 1, "the second replica stays in: \(events)")
        #expect(set.pick(now: self.start, using: &generator) == "b")
    }

    @Test func aSingleReplicaIsNeverEjected() {
        var set = ReplicaSet(addresses: ["only"])
        var generator = SplitMix64(seed: 9)
        for _ in 0..<20 {
            _ = set.pick(now: self.start, using: &generator)
            #expect(set.finished("only", success: false, now: self.start).isEmpty)
        }
    }

    @Test func unhealthyReplicasAreAvoidedAndAPassingCheckReadmits() {
        var set = ReplicaSet(addresses: ["a", "b"])
        var generator = SplitMix64(seed: 11)
        #expect(set.checked("a", healthy: false, now: self.start).isEmpty)
        #expect(set.checked("a", healthy: false, now: self.start) == [.becameUnhealthy("a")])
        for _ in 0..<20 {
            #expect(set.pick(now: self.start, using: &generator) == "b")
            _ = set.finished("b", success: true, now: self.start)
        }
        #expect(set.checked("a", healthy: true, now: self.start) == [.becameHealthy("a")])
        // An ejected replica that passes an active check is readmitted at once.
        for _ in 0..<5 {
            _ = set.pick(excluding: ["b"], now: self.start, using: &generator)
            _ = set.finished("a", success: false, now: self.start)
        }
        #expect(set.checked("a", healthy: true, now: self.start + .seconds(1)) == [.readmitted("a")])
    }

    @Test func withNoGoodReplicaAnyLiveOneIsBetterThanNone() {
        var set = ReplicaSet(addresses: ["a", "b"])
        var generator = SplitMix64(seed: 13)
        for address in ["a", "b"] {
            _ = set.checked(address, healthy: false, now: self.start)
            _ = set.checked(address, healthy: false, now: self.start)
        }
        #expect(set.pick(now: self.start, using: &generator) != nil)
        #expect(set.pick(excluding: ["a", "b"], now: self.start, using: &generator) == nil)
    }

    @Test func replicasThatDisappearDrainThenGo() {
        var set = ReplicaSet(addresses: ["a", "b"])
        var generator = SplitMix64(seed: 17)
        _ = set.pick(excluding: ["b"], now: self.start, using: &generator)  // one request on "a"
        let update = set.update(addresses: ["b", "c"])
        #expect(update.added == ["c"])
        #expect(update.events.isEmpty, "a still has a request in flight")
        for _ in 0..<20 {
            let address = set.pick(now: self.start, using: &generator)
            #expect(address != "a")
            _ = set.finished(address!, success: true, now: self.start)
        }
        #expect(set.finished("a", success: true, now: self.start) == [.removed("a")])
        #expect(set.replicas.map(\.address) == ["b", "c"])
    }

    @Test func retryBudgetIsAShareOfActiveRequestsWithAFloor() {
        let budget = RetryBudget()
        #expect(budget.allows(activeRequests: 1, activeRetries: 2))
        #expect(!budget.allows(activeRequests: 1, activeRetries: 3))
        #expect(budget.allows(activeRequests: 100, activeRetries: 19))
        #expect(!budget.allows(activeRequests: 100, activeRetries: 20))
    }
}
