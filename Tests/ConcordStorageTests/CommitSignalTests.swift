import ConcordStorage
import Testing

/// What a follower in `changes {wait}` sleeps on. Each wait below is an hour unless the rule
/// under test ends it sooner: a wait that is not ended by its rule fails at the suite's time
/// limit, so nothing here is timed.
@Suite("The commit signal", .timeLimit(.minutes(1)))
struct CommitSignalTests {
    /// Returns once `count` tasks wait on `signal`; fails after 10 s.
    func until(_ signal: CommitSignal, has count: Int) async throws {
        let deadline = ContinuousClock.now + .seconds(10)
        while signal.waiting != count {
            guard ContinuousClock.now < deadline else {
                Issue.record("\(signal.waiting) waiting after 10 s; expected \(count)")
                return
            }
            try await Task.sleep(for: .milliseconds(1))
        }
    }

    @Test func aCommitWakesEveryWaiter() async throws {
        let signal = CommitSignal()
        signal.hearing(true)
        let seen = signal.generation
        async let first: Void = signal.wait(since: seen, timeout: .seconds(3600))
        async let second: Void = signal.wait(since: seen, timeout: .seconds(3600))
        try await self.until(signal, has: 2)
        signal.committed()
        _ = await (first, second)
        #expect(signal.generation == seen + 1)
        #expect(signal.waiting == 0)
    }

    @Test func aCommitBetweenReadingAndWaitingIsNotMissed() async {
        let signal = CommitSignal()
        signal.hearing(true)
        let seen = signal.generation
        signal.committed()
        await signal.wait(since: seen, timeout: .seconds(3600))
        #expect(signal.waiting == 0)
    }

    @Test func aWaitEndsAtItsTimeout() async {
        let signal = CommitSignal()
        signal.hearing(true)
        await signal.wait(since: signal.generation, timeout: .milliseconds(20))
        #expect(signal.waiting == 0, "its place is given up")
        await signal.wait(since: signal.generation, timeout: .zero)
    }

    @Test func aCancelledWaitEndsAndLeavesNoWaiter() async throws {
        let signal = CommitSignal()
        signal.hearing(true)
        let waiter = Task { await signal.wait(since: signal.generation, timeout: .seconds(3600)) }
        try await self.until(signal, has: 1)
        waiter.cancel()
        await waiter.value
        #expect(signal.waiting == 0)
        // A task cancelled before it waits does not wait at all.
        let early = Task {
            withUnsafeCurrentTask { $0?.cancel() }
            await signal.wait(since: signal.generation, timeout: .seconds(3600))
        }
        await early.value
    }

    /// When other processes' commits may go unheard (PostgreSQL's LISTEN is down, or SQLite),
    /// a waiter asks the store again every `recheck`, however long its wait.
    @Test func withoutHearingOtherProcessesAWaitIsCutIntoRechecks() async {
        let signal = CommitSignal(recheck: .milliseconds(20))
        await signal.wait(since: signal.generation, timeout: .seconds(3600))
        #expect(signal.waiting == 0)
    }
}
