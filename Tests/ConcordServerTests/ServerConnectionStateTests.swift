import ConcordProtocol
import ConcordTLS
import NIOCore
import Testing

@testable import ConcordServer

/// Every action of the connection's machine, with no sockets and a clock the test moves.
@Suite struct ServerConnectionStateTests {
    let start = NIODeadline.uptimeNanoseconds(1_000_000_000)
    let echo = ServerConnectionStateMachine.Routing(kind: .write, isInline: false)
    let lookup = ServerConnectionStateMachine.Routing(kind: .read, isInline: false)

    func request(_ id: String, _ verb: String = "test.echo", deadline: Duration? = nil) -> ClientLine {
        var metadata = Metadata()
        if let deadline { metadata.deadline = deadline }
        return .request(Request(id: id, verb: verb, metadata: metadata, body: Request.emptyBody))
    }

    func openMachine(
        _ limits: ProtocolLimits = ProtocolLimits(maxInFlight: 2), policy: PeerPolicy = .open, peer: PeerIdentity? = nil
    ) -> ServerConnectionStateMachine {
        var machine = ServerConnectionStateMachine(limits: limits, policy: policy, serviceName: "participants", now: self.start)
        let handshakeCompleted1 = machine.handshakeCompleted(negotiatedProtocol: "concord/1", peer: peer)
        #expect(handshakeCompleted1 == .sendHello)
        return machine
    }

    /// The serial of a dispatched request.
    func dispatched(_ action: ServerConnectionStateMachine.LineAction) -> UInt64? {
        guard case .dispatch(let dispatch) = action else { return nil }
        return dispatch.serial
    }

    func code(_ action: ServerConnectionStateMachine.LineAction) -> ErrorCode? {
        switch action {
        case .reply(let response), .refuse(let response, _):
            if case .error(let error) = response.outcome { return error.code }
            return nil
        default: return nil
        }
    }

    // MARK: Handshake and the peer's access

    @Test func handshakeWithoutALPNIsRefused() {
        var machine = ServerConnectionStateMachine(limits: ProtocolLimits(), now: self.start)
        guard case .refuse(let error) = machine.handshakeCompleted(negotiatedProtocol: nil) else {
            Issue.record("expected refusal")
            return
        }
        #expect(error.code == .badRequest)
        #expect(machine.phase == .closing)
    }

    @Test func aRevokedCertificateIsRefusedWithItsSerial() {
        var machine = ServerConnectionStateMachine(limits: ProtocolLimits(), policy: .dataService, now: self.start)
        guard case .refuse(let error) = machine.handshakeCompleted(negotiatedProtocol: "concord/1", peer: .gateway, revokedSerial: "0A1B")
        else { Issue.record("expected refusal"); return }
        #expect(error.code == .unauthorized)
        #expect(error.message.contains("serial 0A1B"))
        #expect(error.message.contains("spiffe://concord/gateway"))
        #expect(machine.access == .builtins)
        #expect(machine.phase == .closing)
    }

    @Test func handshakeTimeoutOnlyWhileHandshaking() {
        var machine = ServerConnectionStateMachine(limits: ProtocolLimits(), now: self.start)
        let handshakeTimedOut2 = machine.handshakeTimedOut()
        #expect(handshakeTimedOut2)
        #expect(machine.phase == .closed)
        var open = self.openMachine()
        let handshakeTimedOut1 = open.handshakeTimedOut()
        #expect(!handshakeTimedOut1)
        let handshakeCompleted2 = open.handshakeCompleted(negotiatedProtocol: "concord/1")
        #expect(handshakeCompleted2 == .none, "a second handshake event changes nothing")
    }

    @Test func theGatewayMayCallEverythingAnotherServiceReadsAndOthersOnlyBuiltins() {
        var gateway = self.openMachine(policy: .dataService, peer: .gateway)
        #expect(self.dispatched(gateway.lineReceived(self.request("w"), now: start, routing: echo)) != nil)

        var service = self.openMachine(policy: .dataService, peer: .service("agreements"))
        #expect(self.dispatched(service.lineReceived(self.request("r", "participants.officials.get"), now: start, routing: lookup)) != nil)
        let write = service.lineReceived(self.request("w", "participants.officials.delete"), now: start, routing: echo)
        guard case .refuse(let response, let needs) = write, case .error(let error) = response.outcome else {
            Issue.record("a service's write was not refused: \(write)"); return
        }
        #expect(needs == .write)
        #expect(error.code == .forbidden)
        #expect(error.message.contains("spiffe://concord/service/agreements may call read verbs"))
        #expect(error.message.contains("on participants"))
        #expect(service.inFlight == 1, "a refusal takes no slot")

        var stranger = self.openMachine(policy: .dataService, peer: nil)
        #expect(self.code(stranger.lineReceived(self.request("r"), now: start, routing: lookup)) == .forbidden)
        let lineReceived3 = stranger.lineReceived(self.request("p", "ping"), now: start, routing: .inline)
        #expect(lineReceived3 == .answerInline)
    }

    // MARK: Lines

    @Test func anUnknownVerbIsNotFound() {
        var machine = self.openMachine()
        #expect(self.code(machine.lineReceived(self.request("u", "test.nope"), now: start, routing: nil)) == .notFound)
        #expect(machine.inFlight == 0)
    }

    @Test func inFlightBoundQueuesAndStopsReading() {
        var machine = self.openMachine()
        let a = self.dispatched(machine.lineReceived(self.request("a"), now: start, routing: echo))
        let b = self.dispatched(machine.lineReceived(self.request("b"), now: start, routing: echo))
        #expect(a != nil && b != nil && a != b)
        let wantsToRead3 = machine.wantsToRead(now: start)
        #expect(!wantsToRead3)
        let lineReceived4 = machine.lineReceived(self.request("c"), now: start, routing: echo)
        #expect(lineReceived4 == .queued)
        // Inline verbs wait behind the queue too, so replies stay bounded.
        let lineReceived5 = machine.lineReceived(self.request("d", "ping"), now: start, routing: .inline)
        #expect(lineReceived5 == .queued)
        let nextQueued6 = machine.nextQueued(now: start)
        #expect(nextQueued6 == nil)
        let finished7 = machine.finished(a ?? 0, .ok(Request.emptyBody), now: start)
        #expect(finished7?.id == "a")
        let c = machine.nextQueued(now: start)
        #expect(c?.request.id == "c")
        let nextQueued8 = machine.nextQueued(now: start)
        #expect(nextQueued8 == nil)
        _ = machine.finished(b ?? 0, .ok(Request.emptyBody), now: start)
        let d = machine.nextQueued(now: start)
        #expect(d?.request.id == "d")
        _ = machine.finished(c?.dispatch.serial ?? 0, .ok(Request.emptyBody), now: start)
        _ = machine.finished(d?.dispatch.serial ?? 0, .ok(Request.emptyBody), now: start)
        let wantsToRead9 = machine.wantsToRead(now: start)
        #expect(wantsToRead9)
        #expect(machine.inFlight == 0)
    }

    @Test func aRequestsDeadlineIsWhatItAskedForAtMostTheLimit() {
        var machine = self.openMachine(ProtocolLimits(maxDeadline: .seconds(30)))
        guard case .dispatch(let short) = machine.lineReceived(self.request("s", deadline: .milliseconds(250)), now: start, routing: echo),
              case .dispatch(let long) = machine.lineReceived(self.request("l", deadline: .seconds(90)), now: start, routing: echo),
              case .dispatch(let none) = machine.lineReceived(self.request("n"), now: start, routing: echo)
        else { Issue.record("not dispatched"); return }
        #expect(short.deadline == start + .milliseconds(250))
        #expect(short.budget == .milliseconds(250))
        #expect(long.budget == .seconds(30))
        #expect(none.deadline == start + .seconds(30))
    }

    @Test func inlineVerbsAreNotTracked() {
        var machine = self.openMachine()
        let lineReceived10 = machine.lineReceived(self.request("p", "ping"), now: start, routing: .inline)
        #expect(lineReceived10 == .answerInline)
        #expect(machine.inFlight == 0)
    }

    @Test func duplicateIDInFlightIsAConflictAndAFinishedIDMayBeReused() {
        var machine = self.openMachine()
        let serial = self.dispatched(machine.lineReceived(self.request("x"), now: start, routing: echo))
        guard case .reply(let response) = machine.lineReceived(self.request("x"), now: start, routing: echo),
            case .error(let error) = response.outcome
        else {
            Issue.record("expected a conflict reply")
            return
        }
        #expect(response.id == "x")
        #expect(error.code == .conflict)
        _ = machine.finished(serial ?? 0, .ok(Request.emptyBody), now: start)
        let again = self.dispatched(machine.lineReceived(self.request("x"), now: start, routing: echo))
        #expect(again != nil && again != serial, "a new serial tells it from the first")
    }

    @Test func invalidLinesAreAnsweredWithTheirID() {
        var machine = self.openMachine()
        let error = ConcordError(.badRequest, "nope", field: "verb")
        let lineReceived11 = machine.lineReceived(.invalid(id: "7", error), now: start, routing: nil)
        #expect(lineReceived11 == .reply(.error("7", error)))
        let lineReceived12 = machine.lineReceived(.invalid(id: nil, error), now: start, routing: nil)
        #expect(lineReceived12 == .reply(.error("*", error)))
    }

    // MARK: Answers, deadlines and holds

    @Test func anAnswerAfterItsDeadlineIsNotWrittenTwice() {
        var machine = self.openMachine()
        guard case .dispatch(let slow) = machine.lineReceived(self.request("slow", deadline: .seconds(1)), now: start, routing: echo),
              case .dispatch(let fast) = machine.lineReceived(self.request("fast", deadline: .seconds(5)), now: start, routing: echo)
        else { Issue.record("not dispatched"); return }
        let early = machine.expire(now: start + .milliseconds(500))
        #expect(early.overdue.isEmpty)
        #expect(early.earliest == slow.deadline)
        let due = machine.expire(now: start + .seconds(1))
        #expect(due.overdue.map(\.running.id) == ["slow"])
        #expect(due.overdue.first?.running.budget == .seconds(1))
        #expect(due.earliest == fast.deadline)
        let finished13 = machine.finished(slow.serial, .ok(Request.emptyBody), now: start + .seconds(2))
        #expect(finished13 == nil, "the deadline answered it")
        let finished14 = machine.finished(fast.serial, .ok(Request.emptyBody), now: start + .seconds(2))
        #expect(finished14?.id == "fast")
    }

    @Test func aRateLimitedAnswerHoldsReadsBetween25And100Milliseconds() {
        var machine = self.openMachine()
        func limited(_ id: String, retryAfter: Int64, at now: NIODeadline) -> ServerConnectionStateMachine.Answer? {
            let serial = self.dispatched(machine.lineReceived(self.request(id), now: now, routing: echo)) ?? 0
            return machine.finished(serial, .error(ConcordError(.rateLimited, "slow down", retryAfterMs: retryAfter)), now: now)
        }
        #expect(limited("a", retryAfter: 1, at: start)?.holdReadsUntil == start + .milliseconds(25))
        let wantsToRead15 = machine.wantsToRead(now: start + .milliseconds(24))
        #expect(!wantsToRead15)
        let wantsToRead16 = machine.wantsToRead(now: start + .milliseconds(25))
        #expect(wantsToRead16)
        #expect(limited("b", retryAfter: 5_000, at: start)?.holdReadsUntil == start + .milliseconds(100))
        #expect(limited("c", retryAfter: 10, at: start)?.holdReadsUntil == nil, "a shorter hold does not shorten the one set")
        let ok = self.dispatched(machine.lineReceived(self.request("d"), now: start, routing: echo)) ?? 0
        let finished17 = machine.finished(ok, .ok(Request.emptyBody), now: start)
        #expect(finished17?.holdReadsUntil == nil)
    }

    @Test func theClockIsReadOnlyWhileAHoldIsSet() {
        var machine = self.openMachine()
        var reads = 0
        func now() -> NIODeadline { reads += 1; return self.start }
        let wantsToRead18 = machine.wantsToRead(now: now())
        #expect(wantsToRead18)
        #expect(reads == 0)
    }

    // MARK: Keepalive, idle, drain, close

    @Test func keepalivePingsThenCloses() {
        var machine = self.openMachine(ProtocolLimits(idleTimeout: .seconds(600), pingInterval: .seconds(30), maxUnansweredPings: 2))
        _ = machine.lineReceived(self.request("busy"), now: start, routing: echo)  // in flight, so never idle
        let tick19 = machine.tick(now: start + .seconds(10))
        #expect(tick19 == .none)
        let tick20 = machine.tick(now: start + .seconds(30))
        #expect(tick20 == .sendPing)
        let tick21 = machine.tick(now: start + .seconds(60))
        #expect(tick21 == .sendPing)
        let tick22 = machine.tick(now: start + .seconds(90))
        #expect(tick22 == .close(reason: "no answer to 2 pings"))
        #expect(machine.phase == .closing)
    }

    @Test func pongResetsKeepalive() {
        var machine = self.openMachine(ProtocolLimits(idleTimeout: .seconds(600), pingInterval: .seconds(30), maxUnansweredPings: 1))
        _ = machine.lineReceived(self.request("busy"), now: start, routing: echo)
        let tick23 = machine.tick(now: start + .seconds(30))
        #expect(tick23 == .sendPing)
        _ = machine.lineReceived(.pong, now: start + .seconds(31), routing: nil)
        #expect(machine.unansweredPings == 0)
        let tick24 = machine.tick(now: start + .seconds(45))
        #expect(tick24 == .none)
    }

    @Test func idleConnectionCloses() {
        var machine = self.openMachine(ProtocolLimits(idleTimeout: .seconds(60), pingInterval: .seconds(30)))
        let serial = self.dispatched(machine.lineReceived(self.request("a"), now: start, routing: echo)) ?? 0
        _ = machine.finished(serial, .ok(Request.emptyBody), now: start + .seconds(1))
        let tick25 = machine.tick(now: start + .seconds(30))
        #expect(tick25 == .sendPing)
        _ = machine.lineReceived(.pong, now: start + .seconds(31), routing: nil)
        // Pongs keep a connection alive, not busy: with no request for the idle timeout it closes.
        let tick26 = machine.tick(now: start + .seconds(61))
        #expect(tick26 == .close(reason: "idle for 60000 ms"))
    }

    @Test func drainAnswersWhatWasReadThenCloses() {
        var machine = self.openMachine()
        let serial = self.dispatched(machine.lineReceived(self.request("a"), now: start, routing: echo)) ?? 0
        let drain27 = machine.drain()
        #expect(drain27 == .none)
        #expect(machine.phase == .draining)
        let wantsToRead28 = machine.wantsToRead(now: start)
        #expect(wantsToRead28, "keeps reading so new requests get an answer")
        #expect(self.code(machine.lineReceived(self.request("late"), now: start, routing: echo)) == .unavailable)
        let drainFinished29 = machine.drainFinished()
        #expect(!drainFinished29)
        let finished30 = machine.finished(serial, .ok(Request.emptyBody), now: start)
        #expect(finished30?.id == "a", "what was read is answered")
        let drainFinished31 = machine.drainFinished()
        #expect(drainFinished31)
        #expect(machine.phase == .closing)
        let drainFinished32 = machine.drainFinished()
        #expect(!drainFinished32, "bye is said once")
        #expect(self.code(machine.lineReceived(self.request("later"), now: start, routing: echo)) == .unavailable)
    }

    @Test func drainOfAnIdleConnectionClosesAtOnceAndOfAHandshakingOneToo() {
        var machine = self.openMachine()
        let drain33 = machine.drain()
        #expect(drain33 == .closeNow)
        var handshaking = ServerConnectionStateMachine(limits: ProtocolLimits(), now: start)
        let drain4 = handshaking.drain()
        #expect(drain4 == .closeNow)
        #expect(handshaking.phase == .closed)
    }

    @Test func oversizedLineClosesOnce() {
        var machine = self.openMachine()
        let oversizedLine34 = machine.oversizedLine()
        #expect(oversizedLine34)
        let oversizedLine35 = machine.oversizedLine()
        #expect(!oversizedLine35)
        #expect(!machine.answersRequests)
    }

    @Test func aClosedConnectionAnswersNothingAndReadsNothing() {
        var machine = self.openMachine()
        let serial = self.dispatched(machine.lineReceived(self.request("a"), now: start, routing: echo)) ?? 0
        machine.closed()
        let finished36 = machine.finished(serial, .ok(Request.emptyBody), now: start)
        #expect(finished36 == nil)
        let wantsToRead37 = machine.wantsToRead(now: start)
        #expect(!wantsToRead37)
        let lineReceived38 = machine.lineReceived(self.request("b"), now: start, routing: echo)
        #expect(lineReceived38 == .none)
        #expect(machine.inFlight == 0)
    }

    /// A peer that leaves its answers unread for the slow-reader timeout is closed; one that reads
    /// again before it is not, and a later stop starts the wait afresh.
    @Test func aPeerThatDoesNotReadIsClosedAfterTheTimeout() {
        var machine = self.openMachine(ProtocolLimits(maxInFlight: 2, slowReaderTimeout: .seconds(10)))
        let first = machine.peerStoppedReading(now: start)
        #expect(first == start + .seconds(10))
        let whileWaiting = machine.peerStoppedReading(now: start + .seconds(1))
        #expect(whileWaiting == nil, "already waiting")
        _ = machine.peerReadAgain()
        let afterReading = machine.slowReaderChecked(now: start + .seconds(10))
        #expect(!afterReading, "it read again before the deadline")
        let again = machine.peerStoppedReading(now: start + .seconds(5))
        #expect(again == start + .seconds(15))
        let early = machine.slowReaderChecked(now: start + .seconds(14))
        #expect(!early, "a stale look before the whole timeout")
        #expect(machine.answersRequests)
        let due = machine.slowReaderChecked(now: start + .seconds(15))
        #expect(due)
        #expect(!machine.answersRequests && machine.inFlight == 0)
        let afterClose = machine.peerStoppedReading(now: start + .seconds(16))
        #expect(afterClose == nil, "closed")
        let twice = machine.slowReaderChecked(now: start + .seconds(30))
        #expect(!twice, "closes once")
    }

    @Test func aPeerThatDoesNotReadIsNotReadFromNorHasQueuedWorkStarted() {
        var machine = self.openMachine(ProtocolLimits(maxInFlight: 1))
        let first = self.dispatched(machine.lineReceived(self.request("a"), now: start, routing: echo))
        let queued = machine.lineReceived(self.request("b"), now: start, routing: echo)
        #expect(queued == .queued)
        _ = machine.peerStoppedReading(now: start)
        _ = machine.finished(first ?? 0, .ok(Request.emptyBody), now: start)
        let whileUnread = machine.nextQueued(now: start)
        #expect(whileUnread == nil, "no new work for a peer that leaves its answers unread")
        let readWhileUnread = machine.wantsToRead(now: start)
        #expect(!readWhileUnread)
        _ = machine.peerReadAgain()
        let next = machine.nextQueued(now: start)
        #expect(next?.request.id == "b")
        _ = machine.finished(next?.dispatch.serial ?? 0, .ok(Request.emptyBody), now: start)
        let readsAgain = machine.wantsToRead(now: start)
        #expect(readsAgain)
        _ = machine.drain()
        _ = machine.peerStoppedReading(now: start)
        let drainingUnread = machine.wantsToRead(now: start)
        #expect(!drainingUnread, "not even to discard, while the peer does not read")
    }

    @Test func aStreamsItemWaitsWithPatienceForAPeerThatDoesNotRead() {
        let stream = ServerConnectionStateMachine.Routing(kind: .read, isInline: false, isStream: true)
        var machine = self.openMachine(ProtocolLimits(maxInFlight: 4, slowReaderTimeout: .seconds(60)))
        guard let watch = self.dispatched(machine.lineReceived(self.request("w", "test.watch"), now: start, routing: stream)) else {
            Issue.record("the stream was not dispatched"); return
        }
        let reading = machine.itemPushed(serial: watch, patience: .seconds(5), now: start)
        #expect(reading == .write(id: "w"), "the peer keeps up: written, nothing to wait for")
        let unknown = machine.itemPushed(serial: watch + 1, patience: .seconds(5), now: start)
        #expect(unknown == .drop, "no such stream running")

        _ = machine.peerStoppedReading(now: start)
        let first = machine.itemPushed(serial: watch, patience: .seconds(5), now: start + .seconds(1))
        let second = machine.itemPushed(serial: watch, patience: .seconds(5), now: start + .seconds(2))
        guard case .writeAndWait("w", let one, start + .seconds(6)) = first,
              case .writeAndWait("w", let two, start + .seconds(7)) = second, one != two
        else { Issue.record("items pushed to a peer that does not read wait: \(first), \(second)"); return }
        let ranOut = machine.itemPatienceEnded(one)
        #expect(ranOut, "still waiting at its deadline: slow")
        let ranOutTwice = machine.itemPatienceEnded(one)
        #expect(!ranOutTwice, "told once")
        let read = machine.peerReadAgain()
        #expect(read == [two], "the peer read: the one still waiting is sent")
        let late = machine.itemPatienceEnded(two)
        #expect(!late, "a timer that fires after the peer read says nothing")
        let readAgain = machine.peerReadAgain()
        #expect(readAgain.isEmpty)

        _ = machine.peerStoppedReading(now: start + .seconds(10))
        guard case .writeAndWait(_, let three, _) = machine.itemPushed(serial: watch, patience: .seconds(5), now: start + .seconds(10)) else {
            Issue.record("not waiting"); return
        }
        machine.closed()
        let afterClose = machine.itemPatienceEnded(three)
        #expect(!afterClose, "closing tells every waiter, so its timer says nothing")
        let pushedAfterClose = machine.itemPushed(serial: watch, patience: .seconds(5), now: start + .seconds(11))
        #expect(pushedAfterClose == .drop)
    }

    @Test func aStreamAnsweredOrCancelledTakesNoMoreItems() {
        let stream = ServerConnectionStateMachine.Routing(kind: .read, isInline: false, isStream: true)
        var machine = self.openMachine()
        guard let watch = self.dispatched(machine.lineReceived(self.request("w", "test.watch"), now: start, routing: stream)) else {
            Issue.record("the stream was not dispatched"); return
        }
        _ = machine.finished(watch, .ok(Request.emptyBody), now: start)
        let afterAnswer = machine.itemPushed(serial: watch, patience: .seconds(5), now: start)
        #expect(afterAnswer == .drop)
        guard let draining = self.dispatched(machine.lineReceived(self.request("v", "test.watch"), now: start, routing: stream)) else {
            Issue.record("the stream was not dispatched"); return
        }
        _ = machine.drain()
        let whileDraining = machine.itemPushed(serial: draining, patience: .seconds(5), now: start)
        #expect(whileDraining == .write(id: "v"), "a draining connection still answers what it runs")
    }

}
