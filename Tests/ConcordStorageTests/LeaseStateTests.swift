@testable import ConcordStorage
import Testing

/// Every action of PostgreSQL's connection and lending machine, driven by hand: no database,
/// and time passed in.
@Suite struct LeaseStateTests {
    let wait = Duration.seconds(2)
    let probe = Duration.milliseconds(200)
    let start = ContinuousClock.now

    func admit(_ state: inout LeaseState, at offset: Duration = .zero) -> (LeaseState.Admission, connect: Int?) {
        state.admit(now: self.start + offset, leaseTimeout: self.wait, probeTimeout: self.probe)
    }

    /// Admits a request that has to wait; returns its lease.
    func waiter(_ state: inout LeaseState, at offset: Duration = .zero) throws -> Int {
        let (admission, _) = self.admit(&state, at: offset)
        guard case .wait(let lease, _) = admission else { throw Refused(admission: admission) }
        return lease
    }

    struct Refused: Error { var admission: LeaseState.Admission }

    /// A machine whose set has filled: `capacity` connections open and idle.
    func filled(capacity: Int) throws -> LeaseState {
        var state = LeaseState(capacity: capacity)
        let (admission, first) = self.admit(&state)
        guard case .wait(let lease, _) = admission, let first else { throw Refused(admission: admission) }
        var (lend, fill, _) = state.connected(first)
        #expect(lend == LeaseState.Lend(lease: lease, connection: first))
        while let next = fill { (lend, fill, _) = state.connected(next) }
        _ = state.released(lease, closed: false)
        #expect(state.idle.count == capacity && state.connecting == 0)
        return state
    }

    @Test func aRequestWaitsForTheConnectionItOpensAndLeavesItIdle() throws {
        var state = LeaseState(capacity: 4)
        let (admission, connect) = self.admit(&state)
        #expect(admission == .wait(lease: 1, timeout: self.wait))
        #expect(connect == 1 && state.connecting == 1)
        let opened = state.connected(1)
        #expect(opened.lend == LeaseState.Lend(lease: 1, connection: 1))
        #expect(opened.connect == 2 && state.connecting == 1, "the set fills, one connection at a time")
        #expect(opened.turn == nil, "never away: no turn to tell")
        #expect(state.hasRunningBodies)
        let timedOut = state.timedOut(1)
        #expect(!timedOut.refuse && timedOut.turn == nil, "the connection came first: the timer says nothing")
        let released = state.released(1, closed: false)
        #expect(released.answer && released.lend == nil && released.connect == nil && released.turn == nil)
        #expect(state.idle == [1] && state.leases.isEmpty && !state.hasRunningBodies)
        let filled = state.connected(2)
        #expect(filled.lend == nil && filled.connect == 3)
        #expect(state.idle == [1, 2])
    }

    @Test func anIdleConnectionRunsTheNextRequestAtOnceAndStaysOpen() throws {
        var state = try self.filled(capacity: 2)
        let (admission, connect) = self.admit(&state)
        #expect(admission == .run(lease: 2, connection: 1), "the connection used last")
        #expect(connect == nil)
        #expect(state.lent == [1: 2] && state.idle == [2])
        _ = state.released(2, closed: false)
        #expect(state.open == 2, "no idle timer: what opened stays open")
    }

    @Test func requestsBeyondCapacityWaitForAConnectionToComeBack() throws {
        var state = try self.filled(capacity: 2)
        guard case (.run(let first, _), nil) = self.admit(&state), case (.run(_, _), nil) = self.admit(&state) else {
            Issue.record("the idle connections did not run")
            return
        }
        let (admission, connect) = self.admit(&state)
        #expect(admission == .wait(lease: 4, timeout: self.wait))
        #expect(connect == nil, "at capacity: no connection to open")
        let released = state.released(first, closed: false)
        #expect(released.answer && released.lend == LeaseState.Lend(lease: 4, connection: 1))
        #expect(state.waiting.isEmpty && state.lent[1] == 4)
    }

    @Test func aProbeRidesOnAConnectionAlreadyOpening() throws {
        var state = LeaseState(capacity: 4)
        let first = try self.waiter(&state)
        let timedOut = state.timedOut(first)
        #expect(timedOut == (true, .away))
        #expect(state.connecting == 1)
        // The store is away now: the one probe rides on the connection already opening.
        let (admission, connect) = self.admit(&state)
        #expect(admission == .wait(lease: 2, timeout: self.probe) && connect == nil)
    }

    @Test func aWaitThatRunsOutLeavesTheQueueAndMarksTheStoreAway() throws {
        var state = LeaseState(capacity: 4)
        let lease = try self.waiter(&state)
        let timedOut = state.timedOut(lease)
        #expect(timedOut == (true, .away))
        #expect(state.failing && state.waiting.isEmpty && state.leases.isEmpty)
        let timedOutAgain = state.timedOut(lease)
        #expect(timedOutAgain == (false, nil), "answered once")
        let opened = state.connected(1)
        #expect(opened.lend == nil, "the connection that comes late stays idle")
        #expect(opened.connect == 2 && opened.turn == .back)
        #expect(!state.failing, "a connection came: the store is there")
        #expect(state.idle == [1])
    }

    @Test func whileTheStoreIsAwayOneRequestProbesAndTheOthersAreRefused() throws {
        var state = LeaseState(capacity: 4)
        let first = try self.waiter(&state)
        _ = state.timedOut(first)
        let failed = state.connectFailed(1, now: self.start)
        #expect(failed.turn == nil, "away already, since the wait ran out: told once")
        #expect(state.failing && state.connecting == 0)
        let admitted = self.admit(&state, at: .milliseconds(100))
        #expect(admitted == (.refuse, nil), "an attempt failed a moment ago")
        let (admission, connect) = self.admit(&state, at: .milliseconds(200))
        guard case .wait(let prober, let timeout) = admission else { Issue.record("\(admission)"); return }
        #expect(timeout == self.probe && connect == 2 && state.probing)
        let admittedAgain = self.admit(&state, at: .milliseconds(250))
        #expect(admittedAgain == (.refuse, nil))
        let timedOut = state.timedOut(prober)
        #expect(timedOut == (true, nil), "away already")
        #expect(!state.probing)
        // The next request probes on the connection still opening.
        let (next, none) = self.admit(&state, at: .milliseconds(450))
        guard case .wait(let second, _) = next else { Issue.record("\(next)"); return }
        #expect(none == nil)
        let opened = state.connected(2)
        #expect(opened.lend == LeaseState.Lend(lease: second, connection: 2))
        #expect(opened.connect == 3, "back: the set fills again")
        #expect(opened.turn == .back && !state.failing)
        let release = state.released(second, closed: false)
        #expect(release.answer && release.turn == nil, "back once")
        #expect(!state.probing)
        guard case (.run, nil) = self.admit(&state, at: .milliseconds(500)) else { Issue.record("still refused after the store came back"); return }
    }

    @Test func aFailedOpeningWithNoneOpenAnswersEveryWaiterAtOnce() throws {
        var state = LeaseState(capacity: 4)
        let first = try self.waiter(&state)
        let second = try self.waiter(&state)
        #expect(state.connecting == 2)
        let refused = state.connectFailed(1, now: self.start)
        #expect(refused.refused.isEmpty && refused.turn == nil, "another is still opening")
        #expect(!state.failing)
        let refusedAgain = state.connectFailed(2, now: self.start)
        #expect(refusedAgain.refused == [first, second] && refusedAgain.turn == .away)
        #expect(state.failing && state.waiting.isEmpty && state.leases.isEmpty && state.open == 0)
    }

    @Test func aFailedOpeningBesideOpenConnectionsLeavesTheWaitersWaiting() throws {
        var state = LeaseState(capacity: 4)
        let busy = try self.waiter(&state)
        _ = state.connected(1)
        let waiter = try self.waiter(&state)
        #expect(state.connecting == 1, "the set's next connection is opening: none more for the waiter")
        let refused = state.connectFailed(2, now: self.start)
        #expect(refused.refused.isEmpty && refused.turn == nil)
        #expect(!state.failing && state.waiting == [waiter])
        let release = state.released(busy, closed: false)
        #expect(release.lend == LeaseState.Lend(lease: waiter, connection: 1))
    }

    @Test func anIdleConnectionThatClosesIsForgottenAndOpenedAgainWhenNeeded() throws {
        var state = try self.filled(capacity: 1)
        state.closed(1)
        #expect(state.idle.isEmpty && state.open == 0)
        let (admission, connect) = self.admit(&state)
        #expect(admission == .wait(lease: 2, timeout: self.wait) && connect == 2)
    }

    @Test func aLentConnectionThatClosesIsReplacedForTheNextWaiter() throws {
        var state = try self.filled(capacity: 1)
        guard case (.run(let busy, _), nil) = self.admit(&state) else { Issue.record("no run"); return }
        let waiter = try self.waiter(&state)
        state.closed(1)
        #expect(state.lent[1] == busy, "lent: forgotten when its body ends")
        let released = state.released(busy, closed: true)
        #expect(released.answer && released.lend == nil && released.connect == 2)
        let opened = state.connected(2)
        #expect(opened.lend == LeaseState.Lend(lease: waiter, connection: 2) && opened.connect == nil)
    }

    @Test func aBodyIsFailedAtTheSecondSweepThatSeesItsConnectionClosed() throws {
        var state = try self.filled(capacity: 2)
        guard case (.run(let stuck, 1), nil) = self.admit(&state), case (.run(let other, 2), nil) = self.admit(&state) else {
            Issue.record("no run")
            return
        }
        let waiter = try self.waiter(&state)
        let seen = state.sweep(closed: [stuck])
        #expect(seen.failing.isEmpty, "one sight is not enough: it may be closing normally")
        let swept = state.sweep(closed: [stuck])
        #expect(swept.failing.map(\.lease) == [stuck] && swept.failing.first?.committing == false)
        #expect(swept.connect == 3, "its connection stops counting: one opens for the waiter")
        #expect(state.lent == [2: other])
        let sweptAgain = state.sweep(closed: [stuck])
        #expect(sweptAgain.failing.isEmpty, "failed once")
        let late = state.released(stuck, closed: true)
        #expect(!late.answer && late.lend == nil && late.connect == nil, "the sweep answered it; the body's late end says nothing")
        let release = state.released(other, closed: false)
        #expect(release.lend == LeaseState.Lend(lease: waiter, connection: 2))
    }

    @Test func aBodyFailedAfterCommitIsToldItsCommitIsInDoubt() throws {
        var state = try self.filled(capacity: 1)
        guard case (.run(let lease, _), nil) = self.admit(&state) else { Issue.record("no run"); return }
        state.committing(lease)
        _ = state.sweep(closed: [lease])
        let swept = state.sweep(closed: [lease])
        #expect(swept.failing.first?.committing == true)
    }

    @Test func aConnectionSeenOpenAgainStartsTheCountOver() throws {
        var state = try self.filled(capacity: 1)
        guard case (.run(let lease, _), nil) = self.admit(&state) else { Issue.record("no run"); return }
        let swept = state.sweep(closed: [lease])
        #expect(swept.failing.isEmpty)
        let sweptAgain = state.sweep(closed: [])
        #expect(sweptAgain.failing.isEmpty)
        let sweptThird = state.sweep(closed: [lease])
        #expect(sweptThird.failing.isEmpty)
        let sweptFourth = state.sweep(closed: [lease])
        #expect(sweptFourth.failing.count == 1)
    }

    @Test func waitingLeasesAreNotSwept() throws {
        var state = LeaseState(capacity: 4)
        let lease = try self.waiter(&state)
        #expect(!state.hasRunningBodies)
        let swept = state.sweep(closed: [lease])
        #expect(swept.failing.isEmpty)
        let sweptAgain = state.sweep(closed: [lease])
        #expect(sweptAgain.failing.isEmpty)
    }

    @Test func aConnectionThatComesFreeWhileTheStoreIsTakenAwayBringsItBack() throws {
        var state = try self.filled(capacity: 1)
        guard case (.run(let busy, 1), nil) = self.admit(&state) else { Issue.record("no run"); return }
        let waiter = try self.waiter(&state)
        let timedOut = state.timedOut(waiter)
        #expect(timedOut == (true, .away), "the one connection stayed busy past the wait")
        let released = state.released(busy, closed: false)
        #expect(released.answer && released.lend == nil && released.turn == .back)
        #expect(!state.failing && state.idle == [1])
        var closing = try self.filled(capacity: 1)
        guard case (.run(let lease, 1), nil) = self.admit(&closing) else { Issue.record("no run"); return }
        let late = try self.waiter(&closing)
        _ = closing.timedOut(late)
        let ended = closing.released(lease, closed: true)
        #expect(ended.turn == nil, "a connection that closed does not bring the store back")
        #expect(closing.failing)
    }
}
