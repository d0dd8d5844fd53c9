import ConcordProtocol
import NIOCore
import Testing

@testable import ConcordClient

/// Every decision of a client connection, on the machine alone: calls are labels, time is a
/// number the test chooses.
@Suite("A client connection's machine")
struct ClientConnectionStateTests {
    typealias Machine = ClientConnectionState<String>

    static let start = NIODeadline.uptimeNanoseconds(1_000_000_000)

    static func at(_ seconds: Int64) -> NIODeadline {
        Self.start + .seconds(seconds)
    }

    /// Sends `call` and returns its wire id, failing the test if the machine hands it back.
    static func send(_ machine: inout Machine, _ call: String, deadline: NIODeadline) -> (wireID: String, armTimer: NIODeadline?) {
        guard case .write(let wireID, let armTimer) = machine.send(call, callerID: "caller-\(call)", deadline: deadline, isActive: true) else {
            Issue.record("\(call) was handed back")
            return ("", nil)
        }
        return (Machine.wireIDText(wireID), armTimer)
    }

    static func completed(_ action: Machine.AnswerAction) -> (call: String, callerID: String, failure: ConcordError?)? {
        guard case .complete(let call, let callerID, let failure) = action else { return nil }
        return (call, callerID, failure)
    }

    static let closing = ConcordError(.unavailable, "server is shutting down", unprocessed: true)

    @Test func eachCallGetsItsOwnWireIDAndItsAnswerFindsItsCaller() {
        var machine = Machine(endpoint: "replica-1")
        let first = Self.send(&machine, "a", deadline: Self.at(10))
        let second = Self.send(&machine, "b", deadline: Self.at(10))
        #expect(first.wireID == "1")
        #expect(second.wireID == "2")
        #expect(machine.outstanding == 2)

        let answer = Self.completed(machine.answerReceived(id: second.wireID, error: nil))
        #expect(answer?.call == "b")
        #expect(answer?.callerID == "caller-b")
        #expect(answer?.failure == nil)
        #expect(!machine.isRetired)
        #expect(machine.outstanding == 1)
    }

    @Test func aLineForNoCallOfOursIsNothing() {
        var machine = Machine(endpoint: "replica-1")
        let sent = Self.send(&machine, "a", deadline: Self.at(10))
        _ = machine.answerReceived(id: sent.wireID, error: nil)
        // Answered already, never sent, not a wire id this connection writes.
        for id in [sent.wireID, "zz", "01", "caller-a"] {
            guard case .none = machine.answerReceived(id: id, error: nil) else {
                Issue.record("\(id) completed a call")
                continue
            }
        }
        #expect(machine.itemReceived(id: sent.wireID) == nil)
    }

    @Test func theTimerIsMovedOnlyForAnEarlierDeadline() {
        var machine = Machine(endpoint: "replica-1")
        #expect(Self.send(&machine, "a", deadline: Self.at(10)).armTimer == Self.at(10))
        #expect(Self.send(&machine, "b", deadline: Self.at(30)).armTimer == nil)
        #expect(Self.send(&machine, "c", deadline: Self.at(10)).armTimer == nil)
        #expect(Self.send(&machine, "d", deadline: Self.at(2)).armTimer == Self.at(2))
        #expect(machine.timerArmedFor == Self.at(2))
    }

    @Test func whenTheTimerFiresOnlyCallsPastTheirDeadlineFailAndItIsSetForTheNext() {
        var machine = Machine(endpoint: "replica-1")
        _ = Self.send(&machine, "short", deadline: Self.at(1))
        _ = Self.send(&machine, "middle", deadline: Self.at(5))
        _ = Self.send(&machine, "long", deadline: Self.at(60))

        let fired = machine.timerFired(now: Self.at(5))
        #expect(fired.expired.sorted() == ["middle", "short"])
        #expect(fired.error.code == .deadlineExceeded)
        #expect(fired.error.message == "no answer from replica-1 before the deadline")
        #expect(fired.armTimer == Self.at(60))
        #expect(machine.outstanding == 1)

        let last = machine.timerFired(now: Self.at(60))
        #expect(last.expired == ["long"])
        #expect(last.armTimer == nil)
        #expect(machine.timerArmedFor == nil)
        // With nothing armed, the next call sets the timer again, however late its deadline.
        #expect(Self.send(&machine, "next", deadline: Self.at(600)).armTimer == Self.at(600))
    }

    @Test func aTimerThatFiresEarlyExpiresNothing() {
        var machine = Machine(endpoint: "replica-1")
        _ = Self.send(&machine, "a", deadline: Self.at(10))
        let fired = machine.timerFired(now: Self.at(9))
        #expect(fired.expired.isEmpty)
        #expect(fired.armTimer == Self.at(10))
    }

    @Test func anUnprocessedAnswerRetiresTheConnection() {
        var machine = Machine(endpoint: "replica-1")
        let a = Self.send(&machine, "a", deadline: Self.at(10))
        let b = Self.send(&machine, "b", deadline: Self.at(10))

        let first = Self.completed(machine.answerReceived(id: a.wireID, error: Self.closing))
        #expect(first?.call == "a")
        // Its own answer stands: the caller retries it elsewhere.
        #expect(first?.failure == nil)
        #expect(machine.isRetired)
        let second = Self.completed(machine.answerReceived(id: b.wireID, error: Self.closing))
        #expect(second?.call == "b" && second?.failure == nil)
        #expect(machine.isRetired)

        guard case .handBack = machine.send("c", callerID: "caller-c", deadline: Self.at(10), isActive: true) else {
            Issue.record("a retired connection took a new call")
            return
        }
    }

    @Test func aCallOnAConnectionThatIsNoLongerActiveIsHandedBack() {
        var machine = Machine(endpoint: "replica-1")
        guard case .handBack = machine.send("a", callerID: "caller-a", deadline: Self.at(10), isActive: false) else {
            Issue.record("an inactive connection took a call")
            return
        }
        #expect(machine.outstanding == 0)
        #expect(machine.timerArmedFor == nil)
    }

    @Test func aRefusedCertificateIsWhatEveryCallStillOutFailsWith() {
        var machine = Machine(endpoint: "replica-1")
        let a = Self.send(&machine, "a", deadline: Self.at(10))
        _ = Self.send(&machine, "b", deadline: Self.at(10))

        guard case .none = machine.answerReceived(id: unsolicitedID, error: ConcordError(.unauthorized, "certificate 0x1f is revoked")) else {
            Issue.record("the unsolicited refusal completed a call")
            return
        }
        // A call the server answers as unprocessed (it is closing) fails with the refusal, not as a retry.
        let answered = Self.completed(machine.answerReceived(id: a.wireID, error: Self.closing))
        #expect(answered?.failure?.code == .unauthorized)
        #expect(answered?.failure?.message == "replica-1 refused this client: certificate 0x1f is revoked")

        let closed = machine.closed()
        #expect(closed.failed == ["b"])
        #expect(closed.error.code == .unauthorized)
    }

    @Test func anUnsolicitedErrorThatIsNoRefusalIsOnlyTheReason() {
        var machine = Machine(endpoint: "replica-1")
        _ = Self.send(&machine, "a", deadline: Self.at(10))
        _ = machine.answerReceived(id: unsolicitedID, error: ConcordError(.badRequest, "line too long"))
        let closed = machine.closed()
        #expect(closed.error.code == .unavailable)
        #expect(closed.error.message == "connection to replica-1 closed: bad_request: line too long")
    }

    @Test func whenTheConnectionEndsEveryCallStillOutFailsWithTheReason() {
        var machine = Machine(endpoint: "replica-1")
        _ = Self.send(&machine, "a", deadline: Self.at(10))
        _ = Self.send(&machine, "b", deadline: Self.at(20))
        machine.lineTooLong()

        let closed = machine.closed()
        #expect(closed.failed.sorted() == ["a", "b"])
        #expect(closed.error.code == .unavailable)
        #expect(closed.error.message == "connection to replica-1 closed: server sent a line longer than this client accepts")
        #expect(closed.cancelTimer)
        #expect(machine.isRetired)
        #expect(machine.outstanding == 0)
        let again = machine.closed()
        #expect(!again.cancelTimer)
    }

    @Test func pingIsAnsweredAndByeRetiresAndCloses() {
        var machine = Machine(endpoint: "replica-1")
        let ping = machine.eventReceived(ServerEvent(name: .ping, body: ByteBuffer()))
        #expect(ping == .pong)
        let hello = machine.eventReceived(ServerEvent(name: .hello, body: ByteBuffer(string: "{}")))
        #expect(hello == .none)
        #expect(!machine.isRetired)
        let bye = machine.eventReceived(ServerEvent(name: .bye, body: ByteBuffer(string: #""draining""#)))
        #expect(bye == .retireAndClose)
        #expect(machine.isRetired)
        let closed = machine.closed()
        #expect(closed.error.message == #"connection to replica-1 closed: server said bye: "draining""#)
    }

    @Test func aServerThatDoesNotSpeakTheProtocolIsLeft() {
        var machine = Machine(endpoint: "replica-1")
        let agreed = machine.handshakeCompleted(negotiated: ConcordProtocolVersion.alpn)
        #expect(agreed)
        let http = machine.handshakeCompleted(negotiated: "http/1.1")
        #expect(!http)
        let none = machine.handshakeCompleted(negotiated: nil)
        #expect(!none)
        #expect(machine.closeReason == "server did not agree to ALPN \(ConcordProtocolVersion.alpn)")
    }

    @Test func aFailureRetiresAndTheFirstReasonStands() {
        var machine = Machine(endpoint: "replica-1")
        machine.failed("connection reset by peer")
        machine.failed("broken pipe")
        #expect(machine.isRetired)
        #expect(machine.closeReason == "connection reset by peer")
    }

    @Test func aStreamsItemsFindTheirCallUntilItIsAnswered() {
        var machine = Machine(endpoint: "replica-1")
        let sent = Self.send(&machine, "watch", deadline: .distantFuture)
        #expect(machine.itemReceived(id: sent.wireID) == "watch")
        #expect(machine.itemReceived(id: "2") == nil)
        _ = machine.answerReceived(id: sent.wireID, error: nil)
        #expect(machine.itemReceived(id: sent.wireID) == nil)
    }
}
