import ConcordClient
import ConcordProtocol
import ConcordServer
import ConcordTestSupport
import Foundation
import NIOCore
import Testing

/// What peers that break the rules get: a clear answer or a refusal, never a crash, and other
/// connections keep being served.
@Suite(.timeLimit(.minutes(1))) struct HostilePeerTests {
    @Test func helloAnnouncesLimitsAtConnect() async throws {
        try await withTestServer(limits: ProtocolLimits(maxLineLength: 4096, maxInFlight: 7)) { server in
            try await RawLineConnection.with(port: server.localPort) { connection in
                let hello = try #require(try await connection.readLine())
                #expect(hello.hasPrefix("* hello {"))
                #expect(hello.contains(#""maxLineLength":4096"#))
                #expect(hello.contains(#""maxInFlight":7"#))
                #expect(hello.contains(#""protocol":"concord/1""#))
            }
        }
    }

    @Test func pingByHandWithCRLF() async throws {
        try await withTestServer { server in
            try await RawLineConnection.with(port: server.localPort) { connection in
                try await connection.send("1 ping\r\n")
                #expect(try await connection.readReply() == #"1 ok {"pong":true}"#)
            }
        }
    }

    @Test func mutualTLSRequiredRefusesAClientWithoutCertificate() async throws {
        try await withTestServer(peerAuthentication: .required) { server in
            let anonymous = try makeTestClient(port: server.localPort, identity: nil)
            let error = await #expect(throws: ConcordError.self) { try await anonymous.call("ping") }
            #expect(error?.code == .unavailable)
            // The same server still serves a client with a certificate.
            let client = try makeTestClient(port: server.localPort)
            #expect(String(buffer: try await client.call("ping")) == #"{"pong":true}"#)
            await client.close()
        }
    }

    @Test func certificateFromAnotherCAIsRefused() async throws {
        try await withTestServer(peerAuthentication: .required) { server in
            let reply = try? await RawLineConnection.with(port: server.localPort, caDirectory: TestCertificates.foreignDirectory) { connection in
                try await connection.send("1 ping\n")
                return try await connection.readReply()
            }
            #expect(reply == nil, "a foreign certificate was let in: \(String(describing: reply))")
        }
    }

    @Test func optionalMutualTLSAdmitsAClientWithoutCertificate() async throws {
        try await withTestServer(peerAuthentication: .optional) { server in
            let anonymous = try makeTestClient(port: server.localPort, identity: nil)
            #expect(String(buffer: try await anonymous.call("ping")) == #"{"pong":true}"#)
            await anonymous.close()
        }
    }

    @Test func plaintextClientIsRefused() async throws {
        try await withTestServer { server in
            let reply = try? await RawLineConnection.with(port: server.localPort, tls: false) { connection in
                try await connection.send("1 ping\n")
                return try await connection.readLine()
            }
            #expect(reply == nil || reply?.contains("pong") == false)
            // And the server keeps serving.
            let client = try makeTestClient(port: server.localPort)
            #expect(String(buffer: try await client.call("ping")) == #"{"pong":true}"#)
            await client.close()
        }
    }

    @Test func missingALPNIsRefusedWithAReason() async throws {
        try await withTestServer { server in
            try await RawLineConnection.with(port: server.localPort, alpn: []) { connection in
                let line = try #require(try await connection.readLine())
                #expect(line.hasPrefix("* err bad_request "), "\(line)")
                #expect(line.contains("ALPN"))
                // Anything sent after the refusal is not processed.
                try? await connection.send("1 ping\n")
                let after = try? await connection.readLine()
                #expect(after == nil || after?.hasPrefix("1 err unavailable ") == true, "\(String(describing: after))")
            }
        }
    }

    @Test func oversizedLineIsAnsweredThenClosedWhileOthersKeepWorking() async throws {
        try await withTestServer(limits: ProtocolLimits(maxLineLength: 64 * 1024)) { server in
            let bystander = try makeTestClient(port: server.localPort)
            #expect(String(buffer: try await bystander.call("ping")) == #"{"pong":true}"#)
            try await RawLineConnection.with(port: server.localPort) { connection in
                // 2 MiB on one line, as a person pasting into s_client might.
                let huge = "big-1 test.echo {\"text\":\"" + String(repeating: "x", count: 2 << 20) + "\"}\n"
                try? await connection.send(huge)
                let reply = try #require(try await connection.readReply())
                #expect(reply.hasPrefix("big-1 err too_large "), "\(reply.prefix(200))")
                #expect(try await connection.readLine() == nil, "connection should be closed")
            }
            #expect(String(buffer: try await bystander.call("ping")) == #"{"pong":true}"#)
            await bystander.close()
        }
    }

    @Test func garbageLinesGetBadRequestAndTheConnectionSurvives() async throws {
        try await withTestServer { server in
            try await RawLineConnection.with(port: server.localPort) { connection in
                try await connection.send("GET / HTTP/1.1\n")
                let http = try #require(try await connection.readReply())
                #expect(http.hasPrefix("GET err bad_request "), "\(http)")
                try await connection.send("!!!\n")
                #expect(try await connection.readReply()?.hasPrefix("* err bad_request ") == true)
                try await connection.send("5 ping deadline=never\n")
                let deadline = try #require(try await connection.readReply())
                #expect(deadline.hasPrefix("5 err bad_request "))
                #expect(deadline.contains(#""field":"metadata.deadline""#))
                try await connection.send(bytes: Array("6 ping {\"x\":\"".utf8) + [0xC3, 0x28] + Array("\"}\n".utf8))
                #expect(try await connection.readReply()?.hasPrefix("6 err bad_request ") == true)
                try await connection.send("7 nope.nothing {}\n")
                #expect(try await connection.readReply()?.hasPrefix("7 err not_found ") == true)
                try await connection.send("\n\n8 ping\n")
                #expect(try await connection.readReply() == #"8 ok {"pong":true}"#)
            }
        }
    }

    @Test func badJSONBodyNamesTheProblem() async throws {
        try await withTestServer(router: testRouter()) { server in
            try await RawLineConnection.with(port: server.localPort) { connection in
                try await connection.send("1 test.echo {not json}\n")
                #expect(try await connection.readReply()?.hasPrefix(#"1 err bad_request {"message":"body is not valid JSON""#) == true)
                try await connection.send("2 test.echo {\"text\":5}\n")
                let typed = try #require(try await connection.readReply())
                #expect(typed.contains(#""field":"body.text""#), "\(typed)")
            }
        }
    }

    @Test func duplicateInFlightIDIsAConflict() async throws {
        try await withTestServer(router: testRouter()) { server in
            try await RawLineConnection.with(port: server.localPort) { connection in
                try await connection.send("same test.echo {\"text\":\"a\",\"delayMs\":300}\nsame ping\n")
                let first = try #require(try await connection.readReply())
                #expect(first.hasPrefix("same err conflict "), "\(first)")
                #expect(try await connection.readReply()?.hasPrefix("same ok ") == true)
            }
        }
    }

    @Test func inFlightBoundHoldsRequestsBackAndAnswersThemAll() async throws {
        let active = ActiveCounter()
        var router = Router()
        router.register("test.count", kind: .write) { (_: Empty, _) -> Empty in
            await active.enter()
            try await Task.sleep(for: .milliseconds(20))
            await active.leave()
            return Empty()
        }
        try await withTestServer(router: router, limits: ProtocolLimits(maxInFlight: 4)) { server in
            try await RawLineConnection.with(port: server.localPort) { connection in
                try await connection.send((0..<40).map { "q\($0) test.count\n" }.joined())
                var answered = 0
                while answered < 40, let line = try await connection.readReply() {
                    #expect(line.contains(" ok "), "\(line)")
                    answered += 1
                }
                #expect(answered == 40)
            }
        }
        #expect(await active.peak <= 4)
        #expect(await active.peak >= 2)
    }

    @Test func unansweredPingsCloseTheConnection() async throws {
        let limits = ProtocolLimits(idleTimeout: .seconds(60), pingInterval: .milliseconds(100), maxUnansweredPings: 2)
        try await withTestServer(limits: limits) { server in
            try await RawLineConnection.with(port: server.localPort) { connection in
                var pings = 0
                var bye: String?
                while let line = try await connection.readLine() {
                    if line.hasPrefix("* ping") { pings += 1 }
                    if line.hasPrefix("* bye") { bye = line }
                }
                #expect(pings == 2)
                #expect(bye?.contains("no answer to 2 pings") == true)
            }
        }
    }

    @Test func answeredPingsKeepTheConnection() async throws {
        // Pings every second; a connection whose pongs stop would close at the tick after the
        // third unanswered one, about 4 s in, before the 5 s this test waits. (Pings every 500 ms,
        // closing after 2 s, once failed in a parallel run that held the client back that long.)
        let limits = ProtocolLimits(idleTimeout: .seconds(60), pingInterval: .seconds(1), maxUnansweredPings: 3)
        try await withTestServer(limits: limits) { server in
            // The client library answers pings itself: several ping rounds pass, the connection stays.
            let client = try makeTestClient(port: server.localPort)
            _ = try await client.call("ping")
            try await Task.sleep(for: .milliseconds(5000))
            #expect(client.hasOpenConnection)
            await client.close()
        }
    }

    @Test func slowReaderIsDisconnected() async throws {
        var router = Router()
        let blob = String(repeating: "z", count: 60_000)
        router.register("test.blob", kind: .write) { (_: Empty, _) in Echo(text: blob) }
        let limits = ProtocolLimits(maxInFlight: 64, slowReaderTimeout: .milliseconds(300))
        try await withTestServer(router: router, limits: limits) { server in
            // Ask for far more than socket buffers hold, and never read.
            let closed = try await RawLineConnection.with(port: server.localPort, receiveBufferSize: 4096) { connection in
                for batch in 0..<40 {
                    try? await connection.send((0..<64).map { "b\(batch)-\($0) test.blob\n" }.joined())
                }
                try await Task.sleep(for: .seconds(2))
                // Now read: the server must have given up on us.
                var lines = 0
                while (try? await connection.readLine()) != nil { lines += 1 }
                // Replies that fit in socket buffers before the cut arrive; most never do.
                return lines < 40 * 64 / 2
            }
            #expect(closed)
            let client = try makeTestClient(port: server.localPort)
            #expect(String(buffer: try await client.call("ping")) == #"{"pong":true}"#)
            await client.close()
        }
    }
}

actor ActiveCounter {
    private(set) var current = 0
    private(set) var peak = 0
    func enter() {
        self.current += 1
        self.peak = max(self.peak, self.current)
    }
    func leave() { self.current -= 1 }
}
