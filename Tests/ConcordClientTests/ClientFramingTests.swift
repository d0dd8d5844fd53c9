import ConcordClient
import ConcordProtocol
import ConcordTLS
import ConcordTestSupport
import NIOCore
import Testing

@Suite("Client framing", .timeLimit(.minutes(1)))
struct ClientFramingTests {
    @Test func repliesSplitAndMergedAcrossReadsAreAllMatched() async throws {
        try await withTestServer(router: testRouter()) { server in
            let client = try makeTestClient(port: server.localPort)
            // Many replies of varied sizes arrive merged and split across TLS records.
            let texts = (0..<200).map { String(repeating: "é", count: $0 * 37 % 5000) }
            let answers = try await withThrowingTaskGroup(of: (String, Echo).self) { group in
                for text in texts {
                    group.addTask { (text, try await client.call("test.echo", Echo(text: text), as: Echo.self)) }
                }
                return try await group.reduce(into: [(String, Echo)]()) { $0.append($1) }
            }
            #expect(answers.allSatisfy { $0.0 == $0.1.text })
            await client.close()
        }
    }

    @Test func aReplyLongerThanTheClientAcceptsClosesTheConnectionWithTheReason() async throws {
        try await withTestServer(router: testRouter()) { server in
            let client = try ConcordClient(configuration: .init(
                host: "127.0.0.1", port: server.localPort, tls: TestCertificates.identity("client"), maxLineLength: 512
            ))
            do {
                _ = try await client.call("test.echo", Echo(text: String(repeating: "x", count: 2000)), as: Echo.self)
                Issue.record("a 2000-byte reply must not fit a 512-byte client limit")
            } catch let error as ConcordError {
                #expect(error.code == .unavailable)
                #expect(error.message.contains("longer than this client accepts"), "\(error)")
            }
            // The next call opens a new connection and works.
            let small = try await client.call("test.echo", Echo(text: "ok"), as: Echo.self)
            #expect(small.text == "ok")
            await client.close()
        }
    }
}
