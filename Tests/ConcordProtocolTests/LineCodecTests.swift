import ConcordProtocol
import NIOCore
import Testing

@Suite struct LineCodecTests {
    func parse(_ text: String) -> ClientLine { LineCodec.parseClientLine(ByteBuffer(string: text)) }

    func request(_ text: String) -> Request? {
        if case .request(let request) = self.parse(text) { return request }
        return nil
    }

    func error(_ text: String) -> (String?, ConcordError)? {
        if case .invalid(let id, let error) = self.parse(text) { return (id, error) }
        return nil
    }

    @Test func minimalRequest() throws {
        let request = try #require(self.request("1 ping"))
        #expect(request.id == "1")
        #expect(request.verb == "ping")
        #expect(request.metadata.isEmpty)
        #expect(String(buffer: request.body) == "{}")
    }

    @Test func aVerbsServiceIsWhatComesBeforeItsFirstDot() {
        #expect(Request(id: "1", verb: "participants.sessions.list").service == "participants")
        #expect(Request(id: "1", verb: "ping").service == "ping", "a built-in has no dot")
        #expect(Request(id: "1", verb: ".x").service == "")
        // A string bridged or sliced into a new one searches the same way.
        let made = String("brief.session".utf8.map { Character(UnicodeScalar($0)) })
        #expect(Request(id: "1", verb: made).service == "brief")
    }

    @Test func fullRequestKeepsBodyBytesExactly() throws {
        let text = #"req-9 participants.sessions.list deadline=2500 trace=00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01 idem=k1 auth=tok x-tenant=iran {"limit": 10, "q": "Тегеран"}"#
        let request = try #require(self.request(text))
        #expect(request.id == "req-9")
        #expect(request.verb == "participants.sessions.list")
        #expect(request.service == "participants")
        #expect(request.metadata.deadlineMilliseconds == 2500)
        #expect(request.metadata.trace == "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")
        #expect(request.metadata.idempotencyKey == "k1")
        #expect(request.metadata.auth == "tok")
        #expect(request.metadata.extensions == [.init(key: "x-tenant", value: "iran")])
        #expect(String(buffer: request.body) == #"{"limit": 10, "q": "Тегеран"}"#)
    }

    @Test func linesAreReadFromTheReaderIndexOn() throws {
        // Parsing works on the readable bytes of whatever buffer it is given.
        var buffer = ByteBuffer(string: "junk7 participants.get deadline=50 {\"id\":\"x\"}")
        buffer.moveReaderIndex(forwardBy: 4)
        guard case .request(let request) = LineCodec.parseClientLine(buffer) else {
            Issue.record("not a request")
            return
        }
        #expect(request.id == "7" && request.verb == "participants.get" && request.metadata.deadlineMilliseconds == 50)
        #expect(String(buffer: request.body) == #"{"id":"x"}"#)
        var reply = ByteBuffer(string: "junk7 ok {\"a\":1}")
        reply.moveReaderIndex(forwardBy: 4)
        #expect(try LineCodec.parseServerLine(reply) == .response(.ok("7", ByteBuffer(string: #"{"a":1}"#))))
        var bad = ByteBuffer(string: "junk7 err not_found {\"message\":\"no such\",\"field\":\"body.id\"}")
        bad.moveReaderIndex(forwardBy: 4)
        #expect(try LineCodec.parseServerLine(bad) == .response(.error("7", ConcordError(.notFound, "no such", field: "body.id"))))
    }

    /// An error body's text is read as JSON writes it: every escape, a character outside the
    /// basic plane as its two surrogates; a malformed string ends the members read, not the line.
    @Test func anErrorBodysEscapesAreRead() throws {
        let escaped = ByteBuffer(string: #"7 err bad_request {"message":"a \"b\"\\c\/\n\u00e9\ud83d\ude00","field":"body.name"}"#)
        #expect(try LineCodec.parseServerLine(escaped) == .response(.error("7", ConcordError(.badRequest, "a \"b\"\\c/\né😀", field: "body.name"))))
        let loneSurrogate = ByteBuffer(string: #"7 err bad_request {"field":"body.name","message":"x\ud83d"}"#)
        #expect(try LineCodec.parseServerLine(loneSurrogate) == .response(.error("7", ConcordError(.badRequest, "", field: "body.name"))))
    }

    @Test func writtenRequestParsesBack() throws {
        let original = Request(
            id: "a.b:c_d-1",
            verb: "agreements.actions.create",
            metadata: Metadata(deadlineMilliseconds: 10, trace: "t", idempotencyKey: "i", auth: "a", extensions: [.init(key: "k", value: "v")]),
            body: ByteBuffer(string: #"{"x":[1,2]}"#)
        )
        var buffer = ByteBuffer()
        LineCodec.write(original, into: &buffer)
        #expect(buffer.readableBytesView.last == UInt8(ascii: "\n"))
        buffer.moveWriterIndex(to: buffer.writerIndex - 1)
        #expect(LineCodec.parseClientLine(buffer) == .request(original))
    }

    /// Every part a request line can carry, written after what the buffer already holds (the
    /// writer counts the line's length first, then writes it in one pass).
    @Test func everyPartOfARequestIsWrittenAfterWhatTheBufferHolds() throws {
        let original = Request(
            id: "req-1",
            verb: "participants.officials.get",
            metadata: Metadata(
                deadlineMilliseconds: 1_234_567_890, trace: "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
                idempotencyKey: "idem-1", auth: "tok", actor: "Mehdi%20Dousti", actorRole: "secretariat",
                extensions: [.init(key: "x-a", value: "1"), .init(key: "x-b", value: "two")]
            ),
            body: ByteBuffer(string: #"{"q":"Тегеран"}"#)
        )
        var buffer = ByteBuffer(string: "earlier line\n")
        LineCodec.write(original, id: "42", into: &buffer)
        let text = String(buffer: buffer)
        #expect(text.hasPrefix("earlier line\n42 participants.officials.get deadline=1234567890 trace="))
        #expect(text.hasSuffix(#" {"q":"Тегеран"}"# + "\n"))
        buffer.moveReaderIndex(forwardBy: "earlier line\n".utf8.count)
        buffer.moveWriterIndex(to: buffer.writerIndex - 1)
        var expected = original
        expected.id = "42"
        #expect(LineCodec.parseClientLine(buffer) == .request(expected))
    }

    /// A proxy passes a request on in its own envelope (`Metadata.Relay`): the token stays
    /// behind, who acts is the relay's alone (what the caller said under `actor` and `role` is
    /// dropped, even when the relay names nobody), the deadline is what is left, a trace is
    /// added only where the request had none, and the rest goes as received.
    @Test func aRelayedRequestGoesInTheRelaysEnvelope() throws {
        let sent = Request(
            id: "7",
            verb: "participants.officials.get",
            metadata: Metadata(
                deadlineMilliseconds: 5_000, idempotencyKey: "k", auth: "secret", actor: "mallory", actorRole: "admin",
                extensions: [.init(key: "x-a", value: "1")]
            ),
            body: ByteBuffer(string: #"{"id":"mehdi-dousti"}"#)
        )
        func relayed(_ request: Request, _ relay: Metadata.Relay) throws -> Request {
            var buffer = ByteBuffer()
            LineCodec.write(request, id: "9", relay: relay, into: &buffer)
            #expect(!String(buffer: buffer).contains("secret"))
            buffer.moveWriterIndex(to: buffer.writerIndex - 1)
            guard case .request(let parsed) = LineCodec.parseClientLine(buffer) else { throw ConcordError(.internal, "not a request") }
            return parsed
        }

        let named = try relayed(sent, Metadata.Relay(deadlineMilliseconds: 4_321, actor: "Maryam%20Ahmadi", actorRole: "reader", trace: "00-new"))
        #expect(named.id == "9" && named.verb == sent.verb && named.body == sent.body)
        #expect(named.metadata == Metadata(
            deadlineMilliseconds: 4_321, trace: "00-new", idempotencyKey: "k", actor: "Maryam%20Ahmadi", actorRole: "reader",
            extensions: [.init(key: "x-a", value: "1")]
        ))

        let nobody = try relayed(sent, Metadata.Relay(deadlineMilliseconds: 1))
        #expect(nobody.metadata.actor == nil && nobody.metadata.actorRole == nil && nobody.metadata.auth == nil)
        #expect(nobody.metadata.trace == nil && nobody.metadata.deadlineMilliseconds == 1)

        var traced = sent
        traced.metadata.trace = "00-own"
        #expect(try relayed(traced, Metadata.Relay(deadlineMilliseconds: 1, trace: "00-new")).metadata.trace == "00-own")

        // Without a relay, the request is written as it is.
        var buffer = ByteBuffer()
        LineCodec.write(sent, into: &buffer)
        #expect(String(buffer: buffer).contains(" auth=secret actor=mallory role=admin "))
    }

    /// A buffer of outgoing lines is written again in place once a write is done with its
    /// bytes; one a write still holds, or grown large, is replaced.
    @Test func aBufferOfLinesIsReusedOnceTheWriteIsDoneWithIt() {
        let allocator = ByteBufferAllocator()
        var output = allocator.buffer(capacity: 512)
        output.writeString("1 ok {}\n")
        let storage = output.withUnsafeReadableBytes { $0.baseAddress }
        output.clearAfterWrite(allocator: allocator)
        #expect(output.readableBytes == 0)
        output.writeString("2 ok {}\n")
        #expect(output.withUnsafeReadableBytes { $0.baseAddress } == storage, "the same storage, written again")

        let held = output
        output.clearAfterWrite(allocator: allocator)
        output.writeString("3 ok {}\n")
        #expect(String(buffer: held) == "2 ok {}\n", "what a write holds is not overwritten")
        #expect(output.withUnsafeReadableBytes { $0.baseAddress } != storage)

        output.writeBytes([UInt8](repeating: 0x20, count: 100_000))
        output.clearAfterWrite(allocator: allocator)
        #expect(output.capacity <= 1 << 10, "a buffer grown by a large answer is let go of")
    }

    /// A verb read before is taken as it is when a line names it again; any other verb is
    /// checked as always.
    /// The previous line's token is taken as it is when a line carries it again (the same
    /// string, not a new one); another token, or a value that only begins like it, is read as
    /// always.
    @Test func aKnownTokenIsReusedAndOthersAreReadAsAlways() throws {
        let known = String(repeating: "ab", count: 32)
        func parsed(_ text: String) -> Request? {
            var request: Request?
            let other = LineCodec.parseClientLine(ByteBuffer(string: text), knownVerb: nil, knownAuth: known) { request = $0 }
            #expect(other == nil)
            return request
        }
        let same = try #require(parsed("1 ping auth=\(known) {}"))
        #expect(same.metadata.auth == known)
        #expect(same.metadata.auth.map { $0.utf8.withContiguousStorageIfAvailable { $0.baseAddress } }
            == known.utf8.withContiguousStorageIfAvailable { $0.baseAddress }, "the same string's bytes")
        #expect(try #require(parsed("2 ping auth=other-token {}")).metadata.auth == "other-token")
        #expect(try #require(parsed("3 ping auth=\(known)c {}")).metadata.auth == known + "c")
        #expect(try #require(parsed("4 ping {}")).metadata.auth == nil)
    }

    @Test func aKnownVerbIsReusedAndOthersAreStillChecked() throws {
        let known = "participants.officials.get"
        guard case .request(let same) = LineCodec.parseClientLine(ByteBuffer(string: "1 participants.officials.get {}"), knownVerb: known),
              case .request(let other) = LineCodec.parseClientLine(ByteBuffer(string: "2 participants.officials.list {}"), knownVerb: known)
        else {
            Issue.record("not requests")
            return
        }
        #expect(same.verb == known)
        #expect(other.verb == "participants.officials.list")
        guard case .invalid(_, let error) = LineCodec.parseClientLine(ByteBuffer(string: "3 Participants.officials.get {}"), knownVerb: known) else {
            Issue.record("an invalid verb was accepted")
            return
        }
        #expect(error.field == "verb")
        #expect(LineCodec.parseClientLine(ByteBuffer(string: "4 participants.officials.ge {}"), knownVerb: known)
            == LineCodec.parseClientLine(ByteBuffer(string: "4 participants.officials.ge {}")))
    }

    /// The server's form: a request is handed over, any other line comes back, and both read
    /// as the plain form reads them.
    @Test func theHandingFormAgreesWithThePlainOne() {
        for text in ["1 ping", #"2 participants.get deadline=50 auth=tok {"id":"x"}"#, "* pong", "", "3 Ping", "* ping", "4"] {
            var handed: Request?
            let other = LineCodec.parseClientLine(ByteBuffer(string: text), knownVerb: "ping") { handed = $0 }
            let plain = self.parse(text)
            if let handed {
                #expect(other == nil, "\(text)")
                #expect(plain == .request(handed), "\(text)")
            } else {
                #expect(other == plain, "\(text)")
            }
        }
    }

    /// The load tool writes each request's id digit by digit, instead of formatting a string.
    @Test("a number is written as its decimal digits", arguments: [0, 7, 9, 10, 16, 99, 100, 12_345, 1 << 32, UInt64.max] as [UInt64])
    func aNumberIsWrittenAsItsDecimalDigits(_ value: UInt64) {
        var buffer = ByteBuffer(string: "x")
        LineCodec.writeDecimal(value, into: &buffer)
        #expect(String(buffer: buffer) == "x\(value)")
    }

    @Test func responsesRoundTrip() throws {
        for response in [
            Response.ok("7", ByteBuffer(string: #"{"pong":true}"#)),
            Response.error("8", ConcordError(.notFound, "no session 9 with \"quotes\"\nand a newline", field: "body.id")),
            Response.error("*", ConcordError(.tooLarge, "line too long")),
            Response.error("9", ConcordError(.unavailable, "server is shutting down", unprocessed: true)),
            Response.error("10", ConcordError(.rateLimited, "token 'bench' is over 200 requests a second", field: "metadata.auth", retryAfterMs: 5)),
        ] {
            var buffer = ByteBuffer()
            LineCodec.write(response, into: &buffer)
            let text = String(buffer: buffer)
            #expect(text.filter { $0 == "\n" }.count == 1, "one line only: \(text)")
            buffer.moveWriterIndex(to: buffer.writerIndex - 1)
            #expect(try LineCodec.parseServerLine(buffer) == .response(response))
        }
    }

    static let rules: [Rule] = [
        .required, .empty, .tooLong(max: 200), .tooMany(max: 5), .controlCharacters,
        .oneOf(allowed: ["signed", "in-force"], got: "fly\"ing"), .form(.countryCode, got: "I R"), .type(expected: .integer),
        .range(low: "01", high: "12", got: "13"), .range(low: "01", high: "28", got: "30", part: .day), .json, .noRecord, .exists, .versionMoved, .stillNamed, .unknownReference,
        .notBefore(other: "startDate"), .notAfter(other: "until"), .differs(other: "reporter"), .cycle,
        .move(from: "signed", allowed: ["in-force", "withdrawn"], got: "proposed"), .move(from: "completed", allowed: [], got: "signed"),
        .unknownField(allowed: ["id", "version"]),
    ]

    @Test(arguments: Self.rules)
    func aRuleCrossesTheWireWithItsError(_ rule: Rule) throws {
        let response = Response.error("4", ConcordError(.badRequest, "refused", field: "body.status", rule: rule))
        var buffer = ByteBuffer()
        LineCodec.write(response, into: &buffer)
        buffer.moveWriterIndex(to: buffer.writerIndex - 1)
        #expect(try LineCodec.parseServerLine(buffer) == .response(response))
    }

    @Test func aRuleIsFlatFieldsOfTheErrorObject() throws {
        var buffer = ByteBuffer()
        let error = ConcordError(.badRequest, "no", field: "body.status", rule: .oneOf(allowed: ["signed", "in-force"], got: "flying"))
        LineCodec.write(.error("3", error), into: &buffer)
        #expect(
            String(buffer: buffer)
                == #"3 err bad_request {"message":"no","field":"body.status","rule":"one_of","allowed":"signed,in-force","got":"flying"}"# + "\n"
        )
        // A rule this version does not know, or one without what it needs, is no rule: the
        // message still stands.
        let unknown = try LineCodec.parseServerLine(ByteBuffer(string: #"5 err bad_request {"message":"m","rule":"tomorrow"}"#))
        #expect(unknown == .response(.error("5", ConcordError(.badRequest, "m"))))
        let partial = try LineCodec.parseServerLine(ByteBuffer(string: #"5 err bad_request {"message":"m","rule":"too_long"}"#))
        #expect(partial == .response(.error("5", ConcordError(.badRequest, "m"))))
    }

    @Test func errorLineIsReadableByHand() {
        var buffer = ByteBuffer()
        LineCodec.write(.error("3", ConcordError(.badRequest, "missing field 'name'", field: "body.name")), into: &buffer)
        #expect(String(buffer: buffer) == #"3 err bad_request {"message":"missing field 'name'","field":"body.name"}"# + "\n")
    }

    @Test func eventsParse() throws {
        let line = try LineCodec.parseServerLine(ByteBuffer(string: #"* hello {"protocol":"concord/1"}"#))
        #expect(line == .event(ServerEvent(name: .hello, body: ByteBuffer(string: #"{"protocol":"concord/1"}"#))))
    }

    @Test func controlAndEmptyLines() {
        #expect(self.parse("* pong") == .pong)
        #expect(self.parse("") == .empty)
        #expect(self.parse("   ") == .empty)
        #expect(self.error("* ping")?.1.code == .badRequest)
    }

    @Test(arguments: [
        ("hello world!", "verb"),
        ("1", "verb"),
        ("1 Ping", "verb"),
        ("1 ping.", "verb"),
        ("1 .ping", "verb"),
        ("1 ping deadline=0", "metadata.deadline"),
        ("1 ping deadline=soon", "metadata.deadline"),
        ("1 ping deadline=99999999999", "metadata.deadline"),
        ("1 ping notmeta", "metadata"),
        ("1 ping =x", "metadata"),
        ("1 ping Key=x", "metadata"),
        ("1 ping key=", "metadata.key"),
    ])
    func grammarErrorsNameTheField(text: String, field: String) throws {
        let (id, error) = try #require(self.error(text), "\(text) should be invalid")
        #expect(error.code == .badRequest)
        #expect(error.field == field)
        #expect(!error.message.isEmpty)
        #expect(id != nil, "the id is still echoed for '\(text)'")
    }

    @Test func invalidIDsAreAnsweredWithoutAnID() throws {
        for text in ["{\"json\":1}", "é ping", String(repeating: "a", count: 65) + " ping", "a/b ping"] {
            let (id, error) = try #require(self.error(text), "\(text)")
            #expect(id == nil)
            #expect(error.field == "id")
        }
    }

    @Test func tooManyMetadataEntries() throws {
        let text = "1 ping " + (0..<17).map { "k\($0)=v" }.joined(separator: " ")
        #expect(self.error(text)?.1.field == "metadata")
    }

    @Test func errorCodesAreStable() {
        #expect(ErrorCode.all.map(\.wire) == [
            "bad_request", "unauthorized", "forbidden", "not_found", "conflict", "too_large", "rate_limited", "unavailable",
            "deadline_exceeded", "internal",
        ])
        for code in ErrorCode.all { #expect(ErrorCode(wire: code.wire) == code) }
        #expect(ErrorCode(wire: "teapot") == nil)
    }
}
