import ConcordBalancer
@testable import ConcordPool
import ConcordProtocol
import NIOCore
import Testing
import W3CTraceContext

/// Every action of the pool's machine, on a fake clock (an instant taken once, moved by hand)
/// and a fixed seed: no sockets, no sleeps.
@Suite struct PoolStateTests {
    let a = Endpoint(host: "127.0.0.1", port: 1)
    let b = Endpoint(host: "127.0.0.2", port: 1)
    let t0 = ContinuousClock.now

    func machine(_ endpoints: [Endpoint], _ adjust: (inout PoolSettings) -> Void = { _ in }) -> PoolState {
        var settings = PoolSettings()
        adjust(&settings)
        return PoolState(service: "participants", settings: settings, addresses: endpoints, seed: 7)
    }

    func ok(_ text: String = "{}") -> Result<Response, ConcordError> { .success(.ok("1", ByteBuffer(string: text))) }
    func failed(_ code: ErrorCode, unprocessed: Bool = false) -> Result<Response, ConcordError> {
        .success(Response(id: "1", outcome: .error(ConcordError(code, "said \(code)", unprocessed: unprocessed))))
    }

    /// Offers the machine a new request; returns its attempt, the admission and the trace.
    func offer(
        _ state: inout PoolState, retrySafe: Bool = true, deadline: ContinuousClock.Instant, needsTrace: Bool = false,
        at now: ContinuousClock.Instant? = nil
    ) -> (PoolState.Attempt, PoolState.Admission, String?) {
        var attempt = PoolState.Attempt(retrySafe: retrySafe, deadline: deadline)
        let (admission, trace) = state.admit(&attempt, needsTrace: needsTrace, now: now ?? self.t0)
        return (attempt, admission, trace)
    }

    /// Admits one request and returns its attempt and first replica.
    func admitted(
        _ state: inout PoolState, retrySafe: Bool = true, deadline: Duration = .seconds(1), at now: ContinuousClock.Instant? = nil
    ) throws -> (PoolState.Attempt, Endpoint) {
        let now = now ?? self.t0
        let (attempt, admission, _) = self.offer(&state, retrySafe: retrySafe, deadline: now + deadline, at: now)
        guard case .send(let endpoint, let remaining) = admission else {
            Issue.record("expected the request to be sent, not \(admission)")
            throw CancellationError()
        }
        #expect(remaining == deadline)
        return (attempt, endpoint)
    }

    // MARK: Admission

    @Test func aRequestIsAdmittedCountedAndSentWithATraceWhenItHasNone() {
        var state = self.machine([a])
        let (_, admission, trace) = self.offer(&state, deadline: t0 + .seconds(1), needsTrace: true)
        #expect(admission == .send(to: a, remaining: .seconds(1)))
        #expect(trace?.hasPrefix("00-") == true)
        #expect(trace?.count == 55)
        #expect(state.active == 1)
        let (_, again, none) = self.offer(&state, deadline: t0 + .seconds(1))
        #expect(again == .send(to: a, remaining: .seconds(1)))
        #expect(none == nil)
    }

    @Test func aNewTraceParentIsOneW3CTraceContextReads() throws {
        var generator = SplitMix64(seed: 7)
        var seen: Set<String> = []
        for _ in 0..<1000 {
            let trace = PoolState.newTraceParent(using: &generator)
            let parsed = try TraceContext(traceParentHeaderValue: trace)
            #expect(parsed.traceParentHeaderValue == trace, "lower-case hex, as the library writes it")
            #expect(parsed.flags == .sampled)
            seen.insert(trace)
        }
        #expect(seen.count == 1000)
        // Ids of all zeros are invalid; a generator that gives only zeros still makes a valid one.
        var zeros = Zeros()
        let trace = PoolState.newTraceParent(using: &zeros)
        #expect(trace == "00-00000000000000000000000000000001-0000000000000001-01")
        _ = try TraceContext(traceParentHeaderValue: trace)
        // The trace id's high half, then its low half, then the span: each most significant first.
        var fixed = Fixed(values: [0x0123_4567_89ab_cdef, 0xfedc_ba98_7654_3210, 0xff])
        #expect(PoolState.newTraceParent(using: &fixed) == "00-0123456789abcdeffedcba9876543210-00000000000000ff-01")
    }

    struct Zeros: RandomNumberGenerator {
        mutating func next() -> UInt64 { 0 }
    }

    struct Fixed: RandomNumberGenerator {
        var values: [UInt64]
        mutating func next() -> UInt64 { self.values.removeFirst() }
    }

    @Test func thePendingBoundRefusesAtOnceWithoutCounting() throws {
        var state = self.machine([a]) { $0.maxPending = 2 }
        _ = try self.admitted(&state)
        _ = try self.admitted(&state)
        let (attempt, admission, _) = self.offer(&state, deadline: t0 + .seconds(1))
        guard case .refuse(let error) = admission else { Issue.record("the third was not refused"); return }
        #expect(error.code == .unavailable)
        #expect(error.message.contains("2 requests pending"))
        #expect(state.active == 2)
        #expect(attempt.isFinished)
    }

    @Test func aClosedPoolRefuses() {
        var state = self.machine([a])
        state.close()
        let (_, admission, _) = self.offer(&state, deadline: t0 + .seconds(1))
        guard case .refuse(let error) = admission else { Issue.record("not refused"); return }
        #expect(error.code == .unavailable)
        #expect(state.active == 0)
    }

    @Test func noReplicaFailsTheAdmittedRequestAndReleasesIt() {
        var state = self.machine([])
        let (attempt, admission, _) = self.offer(&state, deadline: t0 + .seconds(1))
        guard case .fail(let error) = admission else { Issue.record("did not fail"); return }
        #expect(error.code == .unavailable)
        #expect(attempt.isFinished)
        #expect(state.active == 0)
    }

    @Test func aDeadlineAlreadyPastFailsAsDeadlineExceeded() {
        var state = self.machine([a])
        let (_, admission, _) = self.offer(&state, deadline: t0 - .milliseconds(1))
        guard case .fail(let error) = admission else { Issue.record("did not fail"); return }
        #expect(error.code == .deadlineExceeded)
        #expect(state.active == 0)
    }

    // MARK: Answers

    @Test func anAnswerFinishesAndReleases() throws {
        var state = self.machine([a])
        var (attempt, endpoint) = try self.admitted(&state)
        let (after, events) = state.answered(&attempt, by: endpoint, self.ok(#"{"x":1}"#), now: t0)
        guard case .finish(.success(let body)) = after else { Issue.record("not finished: \(after)"); return }
        #expect(String(buffer: body) == #"{"x":1}"#)
        #expect(events.isEmpty)
        #expect(state.active == 0)
        #expect(state.replicas.outstanding == 0)
        // A second answer for the same attempt releases nothing twice.
        _ = state.answered(&attempt, by: endpoint, self.ok(), now: t0)
        #expect(state.active == 0)
    }

    @Test func anErrorThatIsTheAnswerIsNotRetriedAndTheReplicaIsFine() throws {
        var state = self.machine([a, b])
        var (attempt, endpoint) = try self.admitted(&state)
        let (after, _) = state.answered(&attempt, by: endpoint, self.failed(.notFound), now: t0)
        guard case .finish(.failure(let error)) = after else { Issue.record("not finished"); return }
        #expect(error.code == .notFound)
        #expect(state.replicas.replicas.allSatisfy { $0.consecutiveFailures == 0 })
    }

    @Test func aDeadlineOrInternalErrorCountsAgainstTheReplicaButIsNotRetried() throws {
        for code in [ErrorCode.deadlineExceeded, .internal] {
            var state = self.machine([a, b])
            var (attempt, endpoint) = try self.admitted(&state)
            let (after, _) = state.answered(&attempt, by: endpoint, self.failed(code), now: t0)
            guard case .finish(.failure(let error)) = after else { Issue.record("\(code) was retried"); return }
            #expect(error.code == code)
            #expect(state.replicas.replicas.first { $0.address == endpoint }?.consecutiveFailures == 1)
        }
    }

    @Test func anUnavailableReadIsRetriedOnAnotherReplicaWithinTheBudget() throws {
        var state = self.machine([a, b])
        var (attempt, first) = try self.admitted(&state)
        let (after, _) = state.answered(&attempt, by: first, self.failed(.unavailable), now: t0 + .milliseconds(400))
        guard case .retry(let second, let remaining, let error) = after else { Issue.record("not retried: \(after)"); return }
        #expect(second != first)
        #expect(remaining == .milliseconds(600), "the retry gets what is left of the deadline")
        #expect(error.code == .unavailable)
        #expect(attempt.retries == 1)
        #expect(attempt.holdsRetrySlot)
        #expect(state.activeRetries == 1)
        // The second replica's answer ends it and frees the slot.
        _ = state.answered(&attempt, by: second, self.ok(), now: t0 + .milliseconds(500))
        #expect(state.active == 0)
        #expect(state.activeRetries == 0)
    }

    @Test func aReplicaGoingAwayIsRetriedOutsideTheBudget() throws {
        var state = self.machine([a, b])
        var (attempt, first) = try self.admitted(&state)
        // Unreachable or dropped: a transport failure, not an answer.
        let (after, _) = state.answered(&attempt, by: first, .failure(ConcordError(.unavailable, "connection closed")), now: t0)
        guard case .retry = after else { Issue.record("not retried"); return }
        #expect(!attempt.holdsRetrySlot)
        #expect(state.activeRetries == 0)
    }

    @Test func aWriteWithoutAnIdempotencyKeyIsNotRepeatedUnlessTheReplicaDidNotStartIt() throws {
        var state = self.machine([a, b])
        var (attempt, first) = try self.admitted(&state, retrySafe: false)
        let (after, _) = state.answered(&attempt, by: first, self.failed(.unavailable), now: t0)
        guard case .finish(.failure) = after else { Issue.record("a write was repeated"); return }

        var (unstarted, firstAgain) = try self.admitted(&state, retrySafe: false)
        let (again, _) = state.answered(&unstarted, by: firstAgain, self.failed(.unavailable, unprocessed: true), now: t0)
        guard case .retry = again else { Issue.record("an unprocessed write was not sent elsewhere"); return }
    }

    @Test func anExhaustedBudgetEndsWithTheReplicasError() throws {
        var state = self.machine([a, b]) { $0.retryBudget = RetryBudget(share: 0, minimumConcurrency: 1) }
        var (one, first) = try self.admitted(&state)
        guard case .retry = state.answered(&one, by: first, self.failed(.unavailable), now: t0).0 else {
            Issue.record("the first retry had a slot"); return
        }
        var (two, other) = try self.admitted(&state)
        let (after, _) = state.answered(&two, by: other, self.failed(.unavailable), now: t0)
        guard case .finish(.failure(let error)) = after else { Issue.record("retried past the budget"); return }
        #expect(error.message == "said unavailable")
        #expect(state.activeRetries == 1)
    }

    @Test func whenNoReplicaIsLeftTheLastErrorIsTheAnswer() throws {
        var state = self.machine([a, b])
        var (attempt, first) = try self.admitted(&state)
        guard case .retry(let second, _, _) = state.answered(&attempt, by: first, self.failed(.unavailable), now: t0).0 else {
            Issue.record("not retried"); return
        }
        let (after, _) = state.answered(&attempt, by: second, self.failed(.unavailable), now: t0)
        guard case .finish(.failure(let error)) = after else { Issue.record("tried a replica twice"); return }
        #expect(error.message == "said unavailable")
        #expect(attempt.tried == [a, b])
        #expect(state.active == 0)
        #expect(state.activeRetries == 0)
    }

    @Test func aRetryAfterTheDeadlineEndsAsDeadlineExceeded() throws {
        var state = self.machine([a, b])
        var (attempt, first) = try self.admitted(&state)
        let (after, _) = state.answered(&attempt, by: first, self.failed(.unavailable), now: t0 + .seconds(2))
        guard case .finish(.failure(let error)) = after else { Issue.record("retried past the deadline"); return }
        #expect(error.code == .deadlineExceeded)
        #expect(state.active == 0)
    }

    @Test func consecutiveFailuresEjectAReplicaAndTheEventSaysSo() throws {
        var state = self.machine([a, b]) { $0.policy.consecutiveFailuresToEject = 2 }
        var ejected: [ReplicaSet<Endpoint>.Event] = []
        for _ in 0..<6 {
            var (attempt, endpoint) = try self.admitted(&state, retrySafe: false)
            ejected += state.answered(&attempt, by: endpoint, self.failed(.internal), now: t0).events
        }
        #expect(ejected.contains { if case .ejected = $0 { true } else { false } })
    }

    @Test func aReplicaWithoutAConnectionIsSkipped() throws {
        var state = self.machine([a, b])
        var (attempt, first) = try self.admitted(&state)
        let (next, _) = state.unreachable(&attempt, first, now: t0)
        guard case .send(let second, _) = next else { Issue.record("no other replica chosen"); return }
        #expect(second != first)
        let (none, _) = state.unreachable(&attempt, second, now: t0)
        guard case .finish(let error) = none else { Issue.record("a replica was chosen twice"); return }
        #expect(error.code == .unavailable)
        #expect(state.active == 0)
    }

    @Test func retrySafetyFollowsTheDeclaredKindAndTheIdempotencyKey() {
        var write = Request(id: "1", verb: "s.x.create", metadata: Metadata(), body: Request.emptyBody)
        #expect(!PoolState.isRetrySafe(write, kind: .write))
        #expect(PoolState.isRetrySafe(write, kind: .read))
        #expect(PoolState.isRetrySafe(write, kind: .builtin))
        write.metadata.idempotencyKey = "k1"
        #expect(PoolState.isRetrySafe(write, kind: .write))
    }

    // MARK: Verbs

    @Test func theFirstCallerAsksForTheVerbsAndOthersWait() {
        var state = self.machine([a, b])
        guard case .ask(let first) = state.needVerbs(now: t0) else { Issue.record("nobody asked"); return }
        let needVerbs1 = state.needVerbs(now: t0)
        #expect(needVerbs1 == .wait)
        #expect(state.kind(of: "participants.countries.get") == .write, "unknown until learned: the safe side")
        let (changed, next, _) = state.verbsAnswered(by: first, ["participants.countries.get": .read], forLookup: true, now: t0)
        #expect(changed)
        #expect(next == .done)
        #expect(state.kind(of: "participants.countries.get") == .read)
        let needVerbs2 = state.needVerbs(now: t0)
        #expect(needVerbs2 == .proceed)
        #expect(state.replicas.outstanding == 0)
    }

    @Test func aReplicaThatDoesNotSayIsFollowedByTheNextThenTheLookupGivesUp() {
        var state = self.machine([a, b])
        guard case .ask(let first) = state.needVerbs(now: t0) else { Issue.record("nobody asked"); return }
        let (_, next, _) = state.verbsAnswered(by: first, nil, forLookup: true, now: t0)
        guard case .ask(let second)? = next else { Issue.record("the other replica was not asked"); return }
        #expect(second != first)
        let (_, last, _) = state.verbsAnswered(by: second, nil, forLookup: true, now: t0)
        #expect(last == .done, "nobody left to ask: waiters go on with every verb a write")
        #expect(!state.verbs.learned)
        #expect(state.replicas.outstanding == 0)
    }

    @Test func noReplicaMeansNoLookup() {
        var state = self.machine([])
        let needVerbs3 = state.needVerbs(now: t0)
        #expect(needVerbs3 == .proceed)
    }

    @Test func aHealthCheckLearnsVerbsWithoutTouchingTheLookup() {
        var state = self.machine([a])
        let (changed, next, events) = state.verbsAnswered(by: a, ["s.x.get": .read], forLookup: false, now: t0)
        #expect(changed)
        #expect(next == nil)
        #expect(events.isEmpty)
        let (again, _, _) = state.verbsAnswered(by: a, ["s.x.get": .read], forLookup: false, now: t0)
        #expect(!again, "the same verbs again change nothing")
    }

    @Test func writeWinsWhenReplicasDisagreeAndADrainedReplicasVerbsAreForgotten() {
        var state = self.machine([a, b])
        _ = state.verbsAnswered(by: a, ["s.x.get": .read, "s.x.peek": .read], forLookup: false, now: t0)
        _ = state.verbsAnswered(by: b, ["s.x.get": .read, "s.x.peek": .write], forLookup: false, now: t0)
        #expect(state.kind(of: "s.x.get") == .read)
        #expect(state.kind(of: "s.x.peek") == .write, "a rolling upgrade takes the safe side")
        let (_, events) = state.update(addresses: [a])
        #expect(events == [.removed(b)], "an idle replica that vanished is dropped at once")
        #expect(state.kind(of: "s.x.peek") == .read)
    }

    // MARK: Health

    @Test func healthChecksMarkAndExpireAndDrainingReplicasAreNotChecked() {
        var state = self.machine([a, b]) { $0.policy.unhealthyThreshold = 1 }
        #expect(state.checkTargets == [a, b])
        let checked4 = state.checked(a, healthy: false, now: t0)
        #expect(checked4 == [.becameUnhealthy(a)])
        let checked5 = state.checked(a, healthy: true, now: t0)
        #expect(checked5 == [.becameHealthy(a)])
        let expireEjections6 = state.expireEjections(now: t0 + .seconds(600))
        #expect(expireEjections6.isEmpty)
    }
}
