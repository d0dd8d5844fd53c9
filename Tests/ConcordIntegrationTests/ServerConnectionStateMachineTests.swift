import ConcordProtocol
import NIOCore
import Testing

@testable import ConcordServer

/// The connection rules, with no sockets and a clock the test moves.
@Suite struct ServerConnectionStateMachineTests {
    let start = NIODeadline.uptimeNanoseconds(1_000_000_000)

    func request(_ id: String, _ verb: String = "test.echo") -> ClientLine {
        .request(Request(id: id, verb: verb))
    }

    func openMachine(_ limits: ProtocolLimits = ProtocolLimits(maxInFlight: 2)) -> ServerConnectionStateMachine {
        var machine = ServerConnectionStateMachine(limits: limits, now: self.start)
        #expect(machine.handshakeCompleted(negotiatedProtocol: "concord/1") == .sendHello)
        return machine
    }

    @Test func handshakeWithoutALPNIsRefused() {
        var machine = ServerConnectionStateMachine(limits: ProtocolLimits(), now: self.start)
        guard case .refuse(let error) = machine.handshakeCompleted(negotiatedProtocol: nil) else {
            Issue.record("expected refusal")
            return
        }
        #expect(error.code == .badRequest)
        #expect(machine.phase == .closing)
    }

    @Test func handshakeTimeoutOnlyWhileHandshaking() {
        var machine = ServerConnectionStateMachine(limits: ProtocolLimits(), now: self.start)
        let timedOut = machine.handshakeTimedOut()
        #expect(timedOut)
        var open = self.openMachine()
        let openTimedOut = open.handshakeTimedOut()
        #expect(!openTimedOut)
    }

    @Test func inFlightBoundQueuesAndStopsReading() {
        var machine = self.openMachine()
        #expect(machine.lineReceived(self.request("a"), now: self.start) == .dispatch(Request(id: "a", verb: "test.echo")))
        #expect(machine.lineReceived(self.request("b"), now: self.start) == .dispatch(Request(id: "b", verb: "test.echo")))
        #expect(!machine.wantsToRead)
        #expect(machine.lineReceived(self.request("c"), now: self.start) == .queued)
        // Inline verbs wait behind the queue too, so replies stay bounded.
        #expect(machine.lineReceived(self.request("d", "ping"), now: self.start, isInline: true) == .queued)
        #expect(machine.nextQueued() == nil)
        machine.requestCompleted(id: "a", now: self.start)
        #expect(machine.nextQueued()?.id == "c")
        #expect(machine.nextQueued() == nil)
        machine.requestCompleted(id: "b", now: self.start)
        #expect(machine.nextQueued()?.id == "d")
        machine.requestCompleted(id: "c", now: self.start)
        machine.requestCompleted(id: "d", now: self.start)
        #expect(machine.wantsToRead)
        #expect(machine.inFlight.isEmpty)
    }

    @Test func inlineVerbsAreNotTracked() {
        var machine = self.openMachine()
        #expect(machine.lineReceived(self.request("p", "ping"), now: self.start, isInline: true) == .answerInline(Request(id: "p", verb: "ping")))
        #expect(machine.inFlight.isEmpty)
    }

    @Test func duplicateIDInFlightIsAConflict() {
        var machine = self.openMachine()
        _ = machine.lineReceived(self.request("x"), now: self.start)
        guard case .reply(let response) = machine.lineReceived(self.request("x"), now: self.start),
            case .error(let error) = response.outcome
        else {
            Issue.record("expected a conflict reply")
            return
        }
        #expect(response.id == "x")
        #expect(error.code == .conflict)
    }

    @Test func invalidLinesAreAnsweredWithTheirID() {
        var machine = self.openMachine()
        let error = ConcordError(.badRequest, "nope", field: "verb")
        #expect(machine.lineReceived(.invalid(id: "7", error), now: self.start) == .reply(.error("7", error)))
        #expect(machine.lineReceived(.invalid(id: nil, error), now: self.start) == .reply(.error("*", error)))
    }

    @Test func keepalivePingsThenCloses() {
        var machine = self.openMachine(ProtocolLimits(idleTimeout: .seconds(600), pingInterval: .seconds(30), maxUnansweredPings: 2))
        _ = machine.lineReceived(self.request("busy"), now: self.start)  // in flight, so never idle
        #expect(machine.tick(now: self.start + .seconds(10)) == .none)
        #expect(machine.tick(now: self.start + .seconds(30)) == .sendPing)
        #expect(machine.tick(now: self.start + .seconds(60)) == .sendPing)
        #expect(machine.tick(now: self.start + .seconds(90)) == .close(reason: "no answer to 2 pings"))
        #expect(machine.phase == .closing)
    }

    @Test func pongResetsKeepalive() {
        var machine = self.openMachine(ProtocolLimits(idleTimeout: .seconds(600), pingInterval: .seconds(30), maxUnansweredPings: 1))
        _ = machine.lineReceived(self.request("busy"), now: self.start)
        #expect(machine.tick(now: self.start + .seconds(30)) == .sendPing)
        _ = machine.lineReceived(.pong, now: self.start + .seconds(31))
        #expect(machine.unansweredPings == 0)
        #expect(machine.tick(now: self.start + .seconds(45)) == .none)
    }

    @Test func idleConnectionCloses() {
        var machine = self.openMachine(ProtocolLimits(idleTimeout: .seconds(60), pingInterval: .seconds(30)))
        _ = machine.lineReceived(self.request("a"), now: self.start)
        machine.requestCompleted(id: "a", now: self.start + .seconds(1))
        #expect(machine.tick(now: self.start + .seconds(30)) == .sendPing)
        _ = machine.lineReceived(.pong, now: self.start + .seconds(31))
        // Pongs keep a connection alive, not busy: with no request for the idle timeout it closes.
        #expect(machine.tick(now: self.start + .seconds(61)) == .close(reason: "idle for 60000 ms"))
    }

    @Test func drainAnswersWhatWasReadThenCloses() {
        var machine = self.openMachine()
        _ = machine.lineReceived(self.request("a"), now: self.start)
        #expect(machine.drain() == .none)
        #expect(machine.phase == .draining)
        #expect(machine.wantsToRead, "keeps reading so new requests get an answer")
        guard case .reply(let refused) = machine.lineReceived(self.request("late"), now: self.start),
            case .error(let error) = refused.outcome
        else {
            Issue.record("expected unavailable")
            return
        }
        #expect(error.code == .unavailable)
        let early = machine.drainFinished()
        #expect(!early)
        machine.requestCompleted(id: "a", now: self.start)
        let finished = machine.drainFinished()
        #expect(finished)
        #expect(machine.phase == .closing)
        let again = machine.drainFinished()
        #expect(!again, "bye is said once")
    }

    @Test func drainOfAnIdleConnectionClosesAtOnce() {
        var machine = self.openMachine()
        #expect(machine.drain() == .closeNow)
    }

    @Test func oversizedLineClosesOnce() {
        var machine = self.openMachine()
        let first = machine.oversizedLine()
        let second = machine.oversizedLine()
        #expect(first)
        #expect(!second)
        #expect(!machine.answersRequests)
    }
}
