@testable import ConcordLoad
import NIOCore
import NIOEmbedded
import Testing

/// The line relay that bench-reference measures as the protocol's floor does the work it is
/// counted for: on two embedded channels (no sockets), a client's line goes on rewritten and the
/// answer comes back under the client's id.
@Suite("The line relay (reference-proxy --lines)")
struct LineRelayTests {
    let client = EmbeddedChannel()
    let service = EmbeddedChannel()

    init() throws {
        let relay = LineRelay(
            grants: ["t0ken": .init(actor: "bench", mayWrite: false, role: "reader")],
            reads: ["participants.officials.get"], defaultDeadline: .seconds(60)
        )
        let (clientSide, serviceSide) = relay.handlers()
        try self.client.pipeline.syncOperations.addHandler(clientSide)
        try self.service.pipeline.syncOperations.addHandler(serviceSide)
    }

    func send(_ text: String, on channel: EmbeddedChannel) throws {
        try channel.writeInbound(ByteBuffer(string: text))
        channel.pipeline.fireChannelReadComplete()
    }

    func written(on channel: EmbeddedChannel) throws -> String {
        var text = ""
        while let buffer = try channel.readOutbound(as: ByteBuffer.self) { text += String(buffer: buffer) }
        return text
    }

    @Test func aRequestGoesOnUnderItsOwnIdAndItsAnswerComesBackUnderTheClients() throws {
        // Split across reads, with CR LF: framing keeps the partial line.
        try self.send("c-7 participants.officials.get auth=t0ken idem=k1 ", on: self.client)
        #expect(try self.written(on: self.service).isEmpty)
        try self.send("deadline=2500 {\"id\":\"mehdi-dousti\"}\r\n", on: self.client)
        let line = try self.written(on: self.service)
        let parts = line.dropLast().split(separator: " ")
        #expect(parts.count == 8, "\(line)")
        #expect(parts[0] == "1")
        #expect(parts[1] == "participants.officials.get")
        #expect(Array(parts[2...4]) == ["actor=bench", "role=reader", "deadline=2500"])
        #expect(parts[5].hasPrefix("trace=00-") && parts[5].count == "trace=".count + 55, "\(parts[5])")
        #expect(parts[6] == "idem=k1")
        #expect(parts[7] == #"{"id":"mehdi-dousti"}"#)
        #expect(!line.contains("auth="))

        try self.send("* hello {}\n1 ok {\"name\":\"Mehdi Dousti\"}\n", on: self.service)
        #expect(try self.written(on: self.client) == "* hello {}\nc-7 ok {\"name\":\"Mehdi Dousti\"}\n")
        // An answer for an id it does not hold (already answered) goes nowhere.
        try self.send("1 ok {}\n", on: self.service)
        #expect(try self.written(on: self.client).isEmpty)
    }

    @Test func aTraceTheClientSentIsKeptAndNoneIsAdded() throws {
        let trace = "trace=00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
        try self.send("a participants.officials.get \(trace) auth=t0ken\n", on: self.client)
        let line = try self.written(on: self.service)
        #expect(line == "1 participants.officials.get actor=bench role=reader deadline=60000 \(trace)\n")
    }

    @Test func anUnknownTokenOrAVerbBeyondTheRoleIsRefusedAndNothingGoesOn() throws {
        try self.send("a participants.officials.get auth=wrong {}\n", on: self.client)
        try self.send("b participants.officials.delete auth=t0ken {}\n", on: self.client)
        try self.send("c participants.officials.get {}\n", on: self.client)
        let answers = try self.written(on: self.client).split(separator: "\n")
        #expect(answers.map { $0.split(separator: " ").prefix(3).joined(separator: " ") } == ["a err unauthorized", "b err forbidden", "c err unauthorized"])
        #expect(try self.written(on: self.service).isEmpty)
    }

    @Test func theServicesPingIsAnsweredAndNotPassedOn() throws {
        try self.send("* ping {}\n", on: self.service)
        #expect(try self.written(on: self.service) == "* pong\n")
        #expect(try self.written(on: self.client).isEmpty)
    }

    @Test func aRequestUnansweredByItsDeadlineIsAnsweredDeadlineExceeded() throws {
        try self.send("slow participants.officials.get auth=t0ken deadline=50 {}\n", on: self.client)
        _ = try self.written(on: self.service)
        self.client.embeddedEventLoop.advanceTime(by: .milliseconds(49))
        #expect(try self.written(on: self.client).isEmpty)
        self.client.embeddedEventLoop.advanceTime(by: .milliseconds(1))
        #expect(try self.written(on: self.client).hasPrefix("slow err deadline_exceeded "))
        try self.send("1 ok {}\n", on: self.service)
        #expect(try self.written(on: self.client).isEmpty, "answered once")
    }
}
