import ConcordProtocol
import ConcordTestSupport
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOEmbedded
import NIOTLS
import Testing

@testable import ConcordClient

/// One client connection's handler on an embedded channel: no socket, no TLS, and time that
/// moves only when a test moves it. What it writes is read back as bytes; what the server says
/// is written in as bytes.
@Suite("A client connection's handler")
struct ClientConnectionHandlerTests {
    /// A connected handler, the calls' answers as they arrive, and a client that is never
    /// dialled (nothing here is handed back to it).
    final class Connection {
        let channel: EmbeddedChannel
        let retired: RetiredFlag
        let client: ConcordClient
        let answers = NIOLockedValueBox<[String: Result<Response, ConcordError>]>([:])

        init(maxLineLength: Int = 1 << 16) throws {
            var logger = Logger(label: "concord.test")
            logger.logLevel = .critical
            let retired = RetiredFlag()
            self.retired = retired
            let handler = ClientConnectionHandler(endpoint: "replica-1", maxLineLength: maxLineLength, logger: logger, retired: retired)
            self.channel = EmbeddedChannel(handler: handler)
            try self.channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 7401)).wait()
            self.client = try makeTestClient(port: 1)
        }

        var now: NIODeadline { self.channel.embeddedEventLoop.now }

        /// Sends a call whose caller knows it as `id`.
        func call(_ id: String, verb: String = "participants.regions.get", deadline: TimeAmount = .seconds(10), stream: StreamCall? = nil) throws {
            let answers = self.answers
            let call = OutboundCall(
                request: Request(id: id, verb: verb), deadline: self.now + deadline,
                completion: .callback { result in answers.withLockedValue { $0[id] = result } }, client: self.client, stream: stream
            )
            try self.channel.writeOutbound(call)
        }

        /// What the handler has written, once the loop has run its coalesced flush.
        func written() throws -> String {
            self.channel.embeddedEventLoop.run()
            var text = ""
            while let buffer = try self.channel.readOutbound(as: ByteBuffer.self) {
                text += String(buffer: buffer)
            }
            return text
        }

        func serverSays(_ text: String) throws {
            try self.channel.writeInbound(ByteBuffer(string: text))
        }

        func answer(_ id: String) -> Result<Response, ConcordError>? {
            self.answers.withLockedValue { $0[id] }
        }

        func failure(_ id: String) -> ConcordError? {
            guard case .failure(let error)? = self.answer(id) else { return nil }
            return error
        }

        var isOpen: Bool { self.channel.isActive }
    }

    static func line(_ id: String, _ outcome: Response.Outcome) -> String {
        var buffer = ByteBuffer()
        LineCodec.write(id: id, outcome, into: &buffer)
        return String(buffer: buffer)
    }

    @Test func callsWrittenInOneTickLeaveInOneWriteWithTheirOwnWireIDs() throws {
        let connection = try Connection()
        try connection.call("caller-a")
        try connection.call("caller-b", verb: "ping")
        try connection.call("caller-a")
        let lines = try connection.written().split(separator: "\n")
        #expect(lines.map { $0.split(separator: " ").prefix(2).joined(separator: " ") } == [
            "1 participants.regions.get", "2 ping", "3 participants.regions.get",
        ])
        #expect(try connection.written().isEmpty)
    }

    @Test func answersFindTheirCallsInAnyOrderAndAcrossReads() throws {
        let connection = try Connection()
        for id in ["caller-a", "caller-b", "caller-c"] { try connection.call(id) }
        _ = try connection.written()
        let answers = Self.line("3", .ok(ByteBuffer(string: #"{"n":3}"#)))
            + Self.line("1", .error(ConcordError(.notFound, "no region XX", field: "code")))
            + Self.line("2", .ok(ByteBuffer(string: #"{"n":2}"#)))
        // Split inside a line and inside an id.
        let bytes = Array(answers.utf8)
        for range in [0..<5, 5..<21, 21..<bytes.count] {
            try connection.serverSays(String(decoding: bytes[range], as: UTF8.self))
        }
        #expect(try connection.answer("caller-c")?.get() == Response(id: "caller-c", outcome: .ok(ByteBuffer(string: #"{"n":3}"#))))
        #expect(try connection.answer("caller-b")?.get() == Response(id: "caller-b", outcome: .ok(ByteBuffer(string: #"{"n":2}"#))))
        #expect(try connection.answer("caller-a")?.get() == Response(id: "caller-a", outcome: .error(ConcordError(.notFound, "no region XX", field: "code"))))
    }

    @Test func aLineThatAnswersNoCallOfOursChangesNothing() throws {
        let connection = try Connection()
        try connection.call("caller-a")
        _ = try connection.written()
        // An id never given, one given as another form of the same number, an unreadable line.
        try connection.serverSays(Self.line("2", .ok(Request.emptyBody)) + Self.line("01", .ok(Request.emptyBody)) + "garbage\n")
        #expect(connection.answer("caller-a") == nil)
        #expect(connection.isOpen && !connection.retired.isSet)
        try connection.serverSays(Self.line("1", .ok(Request.emptyBody)))
        #expect(try connection.answer("caller-a")?.get().outcome == .ok(Request.emptyBody))
        // Answered once: a second answer for the same id is nobody's.
        try connection.serverSays(Self.line("1", .ok(ByteBuffer(string: "{}"))))
        #expect(try connection.answer("caller-a")?.get().outcome == .ok(Request.emptyBody))
    }

    @Test func aPingIsAnsweredWithAPong() throws {
        let connection = try Connection()
        try connection.serverSays("* ping {}\n")
        #expect(try connection.written() == "* pong\n")
        #expect(connection.isOpen)
    }

    @Test func aCallIsFailedAtItsDeadlineAndOnlyThen() throws {
        let connection = try Connection()
        try connection.call("soon", deadline: .seconds(1))
        try connection.call("later", deadline: .seconds(60))
        _ = try connection.written()
        connection.channel.embeddedEventLoop.advanceTime(by: .milliseconds(999))
        #expect(connection.answer("soon") == nil)
        connection.channel.embeddedEventLoop.advanceTime(by: .milliseconds(1))
        let error = try #require(connection.failure("soon"))
        #expect(error.code == .deadlineExceeded)
        #expect(error.message == "no answer from replica-1 before the deadline")
        #expect(connection.answer("later") == nil)
        // Its answer, arriving late, is nobody's; the connection goes on.
        try connection.serverSays(Self.line("1", .ok(Request.emptyBody)) + Self.line("2", .ok(Request.emptyBody)))
        #expect(connection.failure("soon")?.code == .deadlineExceeded)
        #expect(try connection.answer("later")?.get().outcome == .ok(Request.emptyBody))
        // The timer was moved on to the later call, and nothing is left for it to fail.
        connection.channel.embeddedEventLoop.advanceTime(by: .seconds(120))
        #expect(try connection.answer("later")?.get().outcome == .ok(Request.emptyBody))
    }

    /// The timer armed for a long call is moved earlier for a short one sent after it.
    @Test func aShortDeadlineAfterALongOneFiresFirst() throws {
        let connection = try Connection()
        try connection.call("long", deadline: .milliseconds(1500))
        try connection.call("short", deadline: .milliseconds(100))
        _ = try connection.written()
        connection.channel.embeddedEventLoop.advanceTime(by: .milliseconds(100))
        #expect(connection.failure("short")?.code == .deadlineExceeded)
        #expect(connection.answer("long") == nil)
        connection.channel.embeddedEventLoop.advanceTime(by: .milliseconds(1400))
        #expect(connection.failure("long")?.code == .deadlineExceeded)
    }

    @Test func whenTheConnectionEndsEveryCallStillOutFailsAsUnavailable() throws {
        let connection = try Connection()
        try connection.call("caller-a")
        try connection.call("caller-b")
        _ = try connection.written()
        try connection.channel.close().wait()
        for id in ["caller-a", "caller-b"] {
            let error = try #require(connection.failure(id))
            #expect(error.code == .unavailable)
            #expect(error.message == "connection to replica-1 closed")
        }
        #expect(connection.retired.isSet)
    }

    @Test func byeRetiresTheConnectionClosesItAndSaysWhy() throws {
        let connection = try Connection()
        try connection.call("caller-a")
        _ = try connection.written()
        try connection.serverSays(#"* bye {"reason":"shutting down"}"# + "\n")
        #expect(connection.retired.isSet)
        #expect(!connection.isOpen)
        #expect(connection.failure("caller-a")?.message == #"connection to replica-1 closed: server said bye: {"reason":"shutting down"}"#)
    }

    /// A server that refuses a call as closing never processed it: the answer goes to the
    /// caller as it is, and no new call is written here.
    @Test func anUnprocessedRefusalRetiresTheConnection() throws {
        let connection = try Connection()
        try connection.call("caller-a")
        _ = try connection.written()
        let refusal = ConcordError(.unavailable, "server is shutting down", unprocessed: true)
        try connection.serverSays(Self.line("1", .error(refusal)))
        #expect(try connection.answer("caller-a")?.get().outcome == .error(refusal))
        #expect(connection.retired.isSet)
        #expect(connection.isOpen, "the server closes it")
    }

    /// A server that refused this client's certificate says so unsolicited: what is still out
    /// fails as unauthorized, with the server's reason, not as a closed connection.
    @Test func aRefusedCertificateFailsWhatIsOutAsUnauthorized() throws {
        let connection = try Connection()
        try connection.call("caller-a")
        try connection.call("caller-b")
        _ = try connection.written()
        try connection.serverSays(Self.line("*", .error(ConcordError(.unauthorized, "certificate revoked"))))
        let refusal = ConcordError(.unavailable, "server is closing", unprocessed: true)
        try connection.serverSays(Self.line("1", .error(refusal)))
        let answered = try #require(try connection.answer("caller-a")?.get())
        #expect(answered.outcome == .error(ConcordError(.unauthorized, "replica-1 refused this client: certificate revoked")))
        try connection.channel.close().wait()
        #expect(connection.failure("caller-b") == ConcordError(.unauthorized, "replica-1 refused this client: certificate revoked"))
    }

    @Test func aLineLongerThanTheClientAcceptsClosesTheConnection() throws {
        let connection = try Connection(maxLineLength: 64)
        try connection.call("caller-a")
        _ = try connection.written()
        try connection.serverSays("1 ok " + String(repeating: "x", count: 100))
        #expect(!connection.isOpen)
        #expect(connection.failure("caller-a")?.message == "connection to replica-1 closed: server sent a line longer than this client accepts")
    }

    @Test func aServerThatDoesNotSpeakTheProtocolIsLeft() throws {
        let connection = try Connection()
        try connection.call("caller-a")
        _ = try connection.written()
        connection.channel.pipeline.fireUserInboundEventTriggered(TLSUserEvent.handshakeCompleted(negotiatedProtocol: "h2"))
        #expect(!connection.isOpen)
        #expect(connection.failure("caller-a")?.message == "connection to replica-1 closed: server did not agree to ALPN \(ConcordProtocolVersion.alpn)")
    }

    @Test func aStreamsItemsGoToItAndItKnowsItsWireID() throws {
        let connection = try Connection()
        let items = NIOLockedValueBox<[String]>([])
        let stream = StreamCall { body in items.withLockedValue { $0.append(String(buffer: body)) } }
        try connection.call("other")
        try connection.call("watching", verb: "watch", stream: stream)
        _ = try connection.written()
        #expect(stream.placement?.wireID == "2")
        try connection.serverSays(#"2 more {"seq":1}"# + "\n" + #"1 more {"seq":9}"# + "\n" + #"2 more {"seq":2}"# + "\n")
        #expect(items.withLockedValue { $0 } == [#"{"seq":1}"#, #"{"seq":2}"#])
        try connection.serverSays(Self.line("2", .ok(Request.emptyBody)))
        #expect(try connection.answer("watching")?.get().outcome == .ok(Request.emptyBody))
    }
}
