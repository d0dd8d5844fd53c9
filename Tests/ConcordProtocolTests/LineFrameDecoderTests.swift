import ConcordProtocol
import NIOCore
import NIOEmbedded
import NIOTestUtils
import Testing

@Suite struct LineFrameDecoderTests {
    /// Feeds `chunks` through a real ByteToMessageHandler and returns every frame it produced.
    func frames(_ chunks: [[UInt8]], max: Int = 16) throws -> [LineFrame] {
        let channel = EmbeddedChannel(handler: ByteToMessageHandler(LineFrameDecoder(maxLineLength: max)))
        var frames: [LineFrame] = []
        for chunk in chunks {
            try channel.writeInbound(ByteBuffer(bytes: chunk))
            while let frame = try channel.readInbound(as: LineFrame.self) { frames.append(frame) }
        }
        _ = try? channel.finish()
        return frames
    }

    func line(_ text: String) -> LineFrame { .line(ByteBuffer(string: text)) }

    @Test func splitReadsAreJoined() throws {
        let result = try frames([Array("1 pi".utf8), Array("ng".utf8), Array("\n".utf8)])
        #expect(result == [line("1 ping")])
    }

    @Test func mergedReadsAreSplit() throws {
        let result = try frames([Array("1 ping\n2 ping\n3 pi".utf8), Array("ng\n".utf8)])
        #expect(result == [line("1 ping"), line("2 ping"), line("3 ping")])
    }

    @Test func byteByByte() throws {
        let result = try frames(Array("a b\r\nc d\n".utf8).map { [$0] })
        #expect(result == [line("a b"), line("c d")])
    }

    @Test func crlfIsAccepted() throws {
        #expect(try frames([Array("1 ping\r\n".utf8)]) == [line("1 ping")])
    }

    @Test func emptyLinesAreFrames() throws {
        #expect(try frames([Array("\n\r\n".utf8)]) == [line(""), line("")])
    }

    @Test func exactlyMaxLengthIsAccepted() throws {
        let text = String(repeating: "x", count: 16)
        #expect(try frames([Array((text + "\n").utf8)]) == [line(text)])
        #expect(try frames([Array((text + "\r\n").utf8)]) == [line(text)])
        // Same, when the terminator arrives in a later read.
        #expect(try frames([Array(text.utf8), Array("\r".utf8), Array("\n".utf8)]) == [line(text)])
    }

    @Test func oneByteOverIsOversized() throws {
        let text = String(repeating: "x", count: 17)
        let withNewline = try frames([Array((text + "\n").utf8)])
        #expect(withNewline.count == 1)
        guard case .oversized(let prefix) = withNewline.first else {
            Issue.record("expected oversized, got \(withNewline)")
            return
        }
        #expect(String(buffer: prefix).hasPrefix("xxxx"))
        // Without a terminator it is detected as soon as the 17th byte that is not a CR arrives.
        let unterminated = try frames([Array(text.utf8)])
        #expect(unterminated.count == 1)
        if case .oversized = unterminated.first {} else { Issue.record("expected oversized") }
    }

    @Test func everythingAfterOversizedIsDropped() throws {
        let result = try frames([Array((String(repeating: "y", count: 40) + "\n1 ping\n").utf8)])
        #expect(result.count == 1)
        if case .oversized = result.first {} else { Issue.record("expected oversized") }
    }

    @Test func invalidUTF8PassesFramingButFailsParsing() throws {
        let bytes: [UInt8] = Array("7 ping {\"a\":\"".utf8) + [0xFF, 0xFE] + Array("\"}\n".utf8)
        let result = try frames([bytes], max: 64)
        #expect(result.count == 1)
        guard case .line(let line) = result.first else { return }
        #expect(LineCodec.parseClientLine(line) == .invalid(id: "7", ConcordError(.badRequest, "body is not valid UTF-8", field: "body")))
    }

    @Test func oversizedPrefixYieldsTheRequestID() {
        #expect(LineCodec.leadingID(ByteBuffer(string: "abc-1 ping xxxxxxx")) == "abc-1")
        #expect(LineCodec.leadingID(ByteBuffer(string: "xxxxxxxxxxxxxxx")) == nil)
        #expect(LineCodec.leadingID(ByteBuffer(string: "!!! ping")) == nil)
    }
}

@Suite struct LineFramerTests {
    func frames(_ chunks: [String], max: Int = 16) -> [LineFrame] {
        var framer = LineFramer(maxLineLength: max)
        var frames: [LineFrame] = []
        for chunk in chunks {
            framer.append(ByteBuffer(string: chunk))
            while let frame = framer.next() { frames.append(frame) }
        }
        return frames
    }

    @Test func splitAndMergedReads() {
        #expect(self.frames(["1 pi", "ng\r", "\n2 ping\n3", " ping\n"]) == [
            .line(ByteBuffer(string: "1 ping")), .line(ByteBuffer(string: "2 ping")), .line(ByteBuffer(string: "3 ping")),
        ])
    }

    @Test func maxLengthAcrossReads() {
        let exact = String(repeating: "x", count: 16)
        #expect(self.frames([String(exact.prefix(10)), String(exact.dropFirst(10)), "\r\n"]) == [.line(ByteBuffer(string: exact))])
        let over = self.frames([String(repeating: "y", count: 10), String(repeating: "y", count: 7)])
        #expect(over.count == 1)
        if case .oversized = over.first {} else { Issue.record("expected oversized, got \(over)") }
    }
}

/// NIO's own decoder verifier: the same input fed whole, a byte at a time, and in random
/// chunks, with EOF at the end, must give the same frames.
@Suite struct LineFrameDecoderVerifierTests {
    @Test func framesDoNotDependOnHowTheBytesArrive() throws {
        try ByteToMessageDecoderVerifier.verifyDecoder(
            stringInputOutputPairs: [
                ("1 ping\n", [.line(ByteBuffer(string: "1 ping"))]),
                ("2 test.echo {}\r\n", [.line(ByteBuffer(string: "2 test.echo {}"))]),
                ("\n", [.line(ByteBuffer())]),
                ("a\nb\n", [.line(ByteBuffer(string: "a")), .line(ByteBuffer(string: "b"))]),
            ],
            decoderFactory: { LineFrameDecoder(maxLineLength: 64) }
        )
    }
}
