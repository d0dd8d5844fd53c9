import ConcordClient
import ConcordMetrics
import ConcordProtocol
import ConcordTestSupport
import Foundation
import NIOCore
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Testing

@Suite("metrics address")
struct MetricsAddressTests {
    @Test("HOST:PORT parses; anything else is refused naming what was given")
    func parses() throws {
        let v4 = try MetricsAddress(parsing: "127.0.0.1:9464")
        #expect(v4.host == "127.0.0.1" && v4.port == 9464)
        let v6 = try MetricsAddress(parsing: "[::1]:0")
        #expect(v6.host == "::1" && v6.port == 0)
        for bad in ["", "9464", ":9464", "127.0.0.1:", "127.0.0.1:99999", "127.0.0.1:http"] {
            #expect(throws: MetricsEndpointError.self, "\(bad)") { try MetricsAddress(parsing: bad) }
            do {
                _ = try MetricsAddress(parsing: bad)
            } catch {
                #expect(error.description.contains("'\(bad)'"))
            }
        }
    }
}

/// The real `participants` executable with `--metrics`: what a Prometheus server would scrape.
@Suite("metrics endpoint")
struct MetricsEndpointTests {
    static func get(_ url: String) async throws -> (status: Int, body: String) {
        let (data, response) = try await URLSession.shared.data(from: URL(string: url)!)
        return ((response as? HTTPURLResponse)?.statusCode ?? 0, String(decoding: data, as: UTF8.self))
    }

    @Test("a data service counts and times each verb, and a made-up verb only as `other`")
    func scrape() async throws {
        let metricsPort = try freeLoopbackPort()
        let database = FileManager.default.temporaryDirectory.appendingPathComponent("metrics-\(UUID().uuidString).sqlite").path
        defer { try? FileManager.default.removeItem(atPath: database) }
        let service = try await ServiceProcess.start(
            "participants",
            arguments: ["serve", "--database", "sqlite:" + database, "--metrics", "127.0.0.1:\(metricsPort)"]
        )
        do {
            try await Self.check(service: service, metricsPort: metricsPort)
        } catch {
            await service.terminate()
            throw error
        }
        await service.terminate()
    }

    static func check(service: ServiceProcess, metricsPort: Int) async throws {
        let client = try service.client()
        _ = try await client.call("participants.countries.list", body: ByteBuffer(string: "{}"))
        _ = try await client.call("participants.countries.list", body: ByteBuffer(string: "{}"))
        await #expect(throws: ConcordError.self) { try await client.call("participants.invented-verb-42") }
        await client.close()

        let (status, text) = try await Self.get("http://127.0.0.1:\(metricsPort)/metrics")
        #expect(status == 200)
        #expect(text.contains(#"concord_requests_total{verb="participants.countries.list",code="ok"} 2"#))
        #expect(text.contains(#"concord_requests_total{verb="other",code="not_found"} 1"#))
        #expect(!text.contains("invented-verb-42"))
        #expect(text.contains(#"concord_request_duration_seconds_count{verb="participants.countries.list"} 2"#))
        #expect(text.contains(#"concord_request_duration_seconds_bucket{verb="participants.countries.list",le="0.0001"}"#))
        #expect(text.contains(#"concord_store_transaction_duration_seconds_count{engine="sqlite",access="read"}"#))
        #expect(text.contains(#"concord_tls_handshakes_total{result="ok"}"#))
        #expect(text.contains(#"concord_tls_certificate_expiry_timestamp_seconds{certificate="participants.pem",role="server"}"#))

        #expect(try await Self.get("http://127.0.0.1:\(metricsPort)/elsewhere").status == 404)
    }
}
