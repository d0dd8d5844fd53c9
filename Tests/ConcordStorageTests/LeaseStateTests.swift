@testable import ConcordStorage
import Testing

/// Every action of PostgreSQL's lending machine, driven by hand: no database, no clock.
@Suite struct LeaseStateTests {
    let wait = Duration.seconds(2)
    let probe = Duration.milliseconds(200)

    func admit(_ state: inout LeaseState) -> LeaseState.Admission {
        state.admit(leaseTimeout: self.wait, probeTimeout: self.probe)
    }

    func id(_ admission: LeaseState.Admission) -> Int? {
        switch admission {
        case .wait(let id, _), .probe(let id, _): id
        case .refuse: nil
        }
    }

    @Test func aRequestWaitsItsLeaseTimeoutAndRunsWhenAConnectionComes() throws {
        var state = LeaseState()
        let admission = self.admit(&state)
        guard case .wait(let id, let timeout) = admission else { Issue.record("\(admission)"); return }
        #expect(timeout == self.wait)
        let lent1 = state.lent(id)
        #expect(lent1)
        #expect(state.hasRunningBodies)
        let timedOut2 = state.timedOut(id)
        #expect(!timedOut2, "the connection came first: the timer says nothing")
        let ended3 = state.ended(id)
        #expect(ended3, "the body's own answer is given")
        #expect(state.leases.isEmpty)
        #expect(!state.hasRunningBodies)
    }

    @Test func aWaitThatRunsOutIsAnsweredAbandonsItsClaimAndMarksTheStoreAway() throws {
        var state = LeaseState()
        let id = try #require(self.id(self.admit(&state)))
        let timedOut4 = state.timedOut(id)
        #expect(timedOut4)
        #expect(state.failing)
        let timedOut5 = state.timedOut(id)
        #expect(!timedOut5, "answered once")
        let lent6 = state.lent(id)
        #expect(!lent6, "the connection that comes late goes straight back")
        #expect(!state.failing, "a connection came: the store is there")
        let ended7 = state.ended(id)
        #expect(!ended7, "the caller had its answer")
    }

    @Test func whileTheStoreIsAwayOneRequestProbesAndTheOthersAreRefused() throws {
        var state = LeaseState()
        let first = try #require(self.id(self.admit(&state)))
        _ = state.timedOut(first)
        let admission = self.admit(&state)
        guard case .probe(let prober, let timeout) = admission else { Issue.record("\(admission)"); return }
        #expect(timeout == self.probe)
        let admit1 = self.admit(&state)
        #expect(admit1 == .refuse)
        let admit2 = self.admit(&state)
        #expect(admit2 == .refuse)
        // The probe's claim stays until the pool answers it, even after its wait ran out.
        let timedOut8 = state.timedOut(prober)
        #expect(timedOut8)
        let admit3 = self.admit(&state)
        #expect(admit3 == .refuse)
        let ended9 = state.ended(prober)
        #expect(!ended9)
        // The pool answered the probe's claim: the next request probes.
        guard case .probe = self.admit(&state) else { Issue.record("no second probe"); return }
    }

    @Test func aConnectionForTheProbeEndsTheOutage() throws {
        var state = LeaseState()
        _ = state.timedOut(try #require(self.id(self.admit(&state))))
        let prober = try #require(self.id(self.admit(&state)))
        let lent10 = state.lent(prober)
        #expect(lent10)
        #expect(!state.failing)
        guard case .wait = self.admit(&state) else { Issue.record("still refused after the store came back"); return }
        let ended11 = state.ended(prober)
        #expect(ended11)
    }

    @Test func aBodyIsFailedAtTheSecondSweepThatSeesItsConnectionClosed() throws {
        var state = LeaseState()
        let id = try #require(self.id(self.admit(&state)))
        let other = try #require(self.id(self.admit(&state)))
        let lent12 = state.lent(id)
        #expect(lent12)
        let lent13 = state.lent(other)
        #expect(lent13)
        let sweep14 = state.sweep(closed: [id])
        #expect(sweep14.isEmpty, "one sight is not enough: it may be closing normally")
        let failed = state.sweep(closed: [id])
        #expect(failed.map(\.id) == [id])
        #expect(failed.first?.committing == false)
        let sweep15 = state.sweep(closed: [id])
        #expect(sweep15.isEmpty, "failed once")
        let ended16 = state.ended(id)
        #expect(!ended16, "the sweep answered it; the body's late end says nothing")
        let ended17 = state.ended(other)
        #expect(ended17)
    }

    @Test func aBodyFailedAfterCommitIsToldItsCommitIsInDoubt() throws {
        var state = LeaseState()
        let id = try #require(self.id(self.admit(&state)))
        let lent18 = state.lent(id)
        #expect(lent18)
        state.committing(id)
        _ = state.sweep(closed: [id])
        let sweep19 = state.sweep(closed: [id])
        #expect(sweep19.first?.committing == true)
    }

    @Test func aConnectionSeenOpenAgainStartsTheCountOver() throws {
        var state = LeaseState()
        let id = try #require(self.id(self.admit(&state)))
        let lent20 = state.lent(id)
        #expect(lent20)
        let sweep21 = state.sweep(closed: [id])
        #expect(sweep21.isEmpty)
        let sweep22 = state.sweep(closed: [])
        #expect(sweep22.isEmpty)
        let sweep23 = state.sweep(closed: [id])
        #expect(sweep23.isEmpty)
        let sweep24 = state.sweep(closed: [id])
        #expect(sweep24.count == 1)
    }

    @Test func waitingClaimsAreNotSwept() throws {
        var state = LeaseState()
        let id = try #require(self.id(self.admit(&state)))
        #expect(!state.hasRunningBodies)
        let sweep25 = state.sweep(closed: [id])
        #expect(sweep25.isEmpty)
        let sweep26 = state.sweep(closed: [id])
        #expect(sweep26.isEmpty)
    }
}
