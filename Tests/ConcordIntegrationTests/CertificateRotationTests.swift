import ConcordClient
import ConcordProtocol
import ConcordServer
import ConcordTLS
import ConcordTestSupport
import Foundation
import Logging
import NIOConcurrencyHelpers
import Testing
import X509

/// Certificates rotate under a running server and its clients: new connections use the new
/// identity, open ones carry on, and revoked or expired certificates are refused.
@Suite(.timeLimit(.minutes(1))) struct CertificateRotationTests {
    /// A certificates directory of its own: rotating the shared test set would disturb other suites.
    static func makeDirectory() throws -> URL {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("concord-rotation-\(UUID().uuidString.prefix(8))")
        try CertificateAuthority.initialize(directory: directory, identities: ["participants", "client"])
        return directory
    }

    /// The client's current certificate and key, copied into `directory/aside` as a thief (or an
    /// operator keeping the old leaves) would, as an identity that trusts the directory's CA.
    static func clientFilesKept(in directory: URL, aside: String) throws -> TLSIdentity {
        let kept = directory.appendingPathComponent(aside)
        try FileManager.default.createDirectory(at: kept, withIntermediateDirectories: true)
        for file in ["client.pem", "client-key.pem"] {
            try FileManager.default.copyItem(at: directory.appendingPathComponent(file), to: kept.appendingPathComponent(file))
        }
        return TLSIdentity(
            caPath: directory.appendingPathComponent("ca.pem").path,
            certificatePath: kept.appendingPathComponent("client.pem").path,
            keyPath: kept.appendingPathComponent("client-key.pem").path
        )
    }

    static func withServer<T: Sendable>(directory: URL, _ body: (ConcordServer, TLSIdentity) async throws -> T) async throws -> T {
        var logger = Logger(label: "concord.test.rotation")
        logger.logLevel = .critical
        let identity = TLSIdentity.standard(directory: directory.path, name: "participants")
        let server = try await ConcordServer.bind(
            configuration: ServerConfiguration(host: "127.0.0.1", port: 0, tls: identity, serviceName: "participants", drainTimeout: .seconds(2)),
            router: testRouter(), logger: logger
        )
        return try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await server.run() }
            defer { server.beginShutdown() }
            let result = try await body(server, identity)
            server.beginShutdown()
            try await group.waitForAll()
            return result
        }
    }

    /// Generous deadlines: what is tested is that no call fails across a rotation, not how fast
    /// calls are; on a machine busy with a build, 5 s calls ran out.
    static func client(port: Int, identity: TLSIdentity) throws -> ConcordClient {
        try ConcordClient(configuration: .init(
            host: "127.0.0.1", port: port, tls: identity, connectTimeout: .seconds(30), defaultDeadline: .seconds(30)
        ))
    }

    @Test func rotatingUnderLoadFailsNoRequestAndNewConnectionsUseTheNewIdentity() async throws {
        let directory = try Self.makeDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let clientIdentity = TLSIdentity.standard(directory: directory.path, name: "client")
        try await Self.withServer(directory: directory) { server, serverIdentity in
            let opened = try Self.client(port: server.localPort, identity: clientIdentity)
            let _: Echo = try await opened.call("test.echo", Echo(text: "before"))

            let stop = NIOLockedValueBox(false)
            let counts = NIOLockedValueBox((calls: 0, connections: 0, failures: [String]()))
            try await withThrowingTaskGroup(of: Void.self) { group in
                for worker in 0..<4 {
                    group.addTask {
                        var round = 0
                        while !stop.withLockedValue({ $0 }) {
                            // A fresh client every few calls: a new connection, a new handshake
                            // with whatever identity the files hold at that moment.
                            let client = try Self.client(port: server.localPort, identity: clientIdentity)
                            counts.withLockedValue { $0.connections += 1 }
                            for _ in 0..<5 {
                                do {
                                    let _: Echo = try await client.call("test.echo", Echo(text: "w\(worker)-\(round)"))
                                    counts.withLockedValue { $0.calls += 1 }
                                } catch {
                                    counts.withLockedValue { $0.failures.append("\(error)") }
                                }
                                round += 1
                            }
                            await client.close()
                        }
                    }
                }
                // Rotations between calls, paced by the calls answered, not by the clock: a busy
                // machine makes the run longer, not thinner.
                func answered(atLeast target: Int) async throws {
                    let giveUp = ContinuousClock.now + .seconds(60)
                    while counts.withLockedValue({ $0.calls + $0.failures.count }) < target {
                        guard ContinuousClock.now < giveUp else {
                            Issue.record("fewer than \(target) calls answered in 60 s: \(counts.withLockedValue { $0 })")
                            return
                        }
                        try await Task.sleep(for: .milliseconds(10))
                    }
                }
                var last: [CertificateAuthority.Rotation] = []
                for rotation in 1...5 {
                    try await answered(atLeast: 12 * rotation)
                    last = try CertificateAuthority.rotate(in: directory)
                }
                try await answered(atLeast: 72)
                stop.withLockedValue { $0 = true }
                try await group.waitForAll()

                let totals = counts.withLockedValue { $0 }
                #expect(totals.failures.isEmpty, "failed during rotation: \(totals.failures.prefix(3))")
                #expect(totals.calls > 50 && totals.connections > 10, "too little load to prove anything: \(totals)")
                // A new connection after the last rotation: the server now presents the last serial.
                let after = try Self.client(port: server.localPort, identity: clientIdentity)
                let _: Echo = try await after.call("test.echo", Echo(text: "after"))
                await after.close()
                let participants = try #require(last.first { $0.name == "participants" })
                let serverContext = try ReloadingTLSContext.server(serverIdentity, peerAuthentication: .required)
                #expect(serverContext.certificateSerial == participants.serial)
                #expect(try ReloadingTLSContext.client(clientIdentity).certificateSerial == last.first { $0.name == "client" }?.serial)
            }
            // The connection opened before any rotation carries on.
            let _: Echo = try await opened.call("test.echo", Echo(text: "still open"))
            await opened.close()
        }
    }

    @Test func aRevokedCertificateIsRefusedAfterRotationAndItsReplacementAccepted() async throws {
        let directory = try Self.makeDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        // The client's current files, kept aside as a thief who copied them would.
        let stolenIdentity = try Self.clientFilesKept(in: directory, aside: "stolen")
        try await Self.withServer(directory: directory) { server, _ in
            let before = try Self.client(port: server.localPort, identity: stolenIdentity)
            let _: Echo = try await before.call("test.echo", Echo(text: "accepted before revocation"))
            await before.close()

            let rotations = try CertificateAuthority.rotate(in: directory, names: ["client"], revoke: true)
            #expect(rotations.count == 1 && rotations[0].revoked)
            #expect(try RevocationList.load(directory.appendingPathComponent("revoked").path).contains(rotations[0].previousSerial))

            let thief = try Self.client(port: server.localPort, identity: stolenIdentity)
            let error = await #expect(throws: ConcordError.self) {
                let _: Echo = try await thief.call("test.echo", Echo(text: "with a revoked certificate"))
            }
            #expect(error?.code == .unauthorized, "\(String(describing: error))")
            #expect(error?.message.contains("revoked") == true)
            #expect(error?.message.contains(rotations[0].previousSerial) == true)
            await thief.close()

            let owner = try Self.client(port: server.localPort, identity: .standard(directory: directory.path, name: "client"))
            let echoed: Echo = try await owner.call("test.echo", Echo(text: "with the new certificate"))
            #expect(echoed.text == "with the new certificate")
            await owner.close()
        }
    }

    @Test func anExpiredCertificateIsRefusedAfterRotation() async throws {
        let directory = try Self.makeDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        // Issued three years ago for two years: expired a year ago, by the deployment's own CA.
        let expiredDirectory = directory.appendingPathComponent("expired")
        try FileManager.default.createDirectory(at: expiredDirectory, withIntermediateDirectories: true)
        try CertificateAuthority.issuing(in: directory)
            .issue(name: "client", now: Date().addingTimeInterval(-3 * 365 * 86_400)).write(to: expiredDirectory)
        try await Self.withServer(directory: directory) { server, _ in
            _ = try CertificateAuthority.rotate(in: directory)
            let expired = try Self.client(port: server.localPort, identity: TLSIdentity(
                caPath: directory.appendingPathComponent("ca.pem").path,
                certificatePath: expiredDirectory.appendingPathComponent("client.pem").path,
                keyPath: expiredDirectory.appendingPathComponent("client-key.pem").path
            ))
            await #expect(throws: ConcordError.self) {
                let _: Echo = try await expired.call("test.echo", Echo(text: "expired"))
            }
            await expired.close()
            let current = try Self.client(port: server.localPort, identity: .standard(directory: directory.path, name: "client"))
            let _: Echo = try await current.call("test.echo", Echo(text: "current"))
            await current.close()
        }
    }

    @Test func aCAChangeKeepsEveryConnectionWorkingAndThenDropsTheOldCA() async throws {
        let directory = try Self.makeDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        // The old CA's leaf, to show that it is refused once the CA change is finished.
        let oldLeaf = try Self.clientFilesKept(in: directory, aside: "old")
        let clientIdentity = TLSIdentity.standard(directory: directory.path, name: "client")
        try await Self.withServer(directory: directory) { server, _ in
            func check(_ step: String) async throws {
                let client = try Self.client(port: server.localPort, identity: clientIdentity)
                let echoed: Echo = try await client.call("test.echo", Echo(text: step))
                #expect(echoed.text == step)
                await client.close()
            }
            try await check("before")
            #expect(throws: TLSSetupError.self, "finishing before beginning is refused") {
                try CertificateAuthority.finishAuthorityChange(in: directory)
            }
            try CertificateAuthority.beginAuthorityChange(in: directory)
            try await check("both CAs trusted")
            let early = #expect(throws: TLSSetupError.self, "finishing before the leaves are rotated is refused") {
                try CertificateAuthority.finishAuthorityChange(in: directory)
            }
            #expect(early?.message.contains("client") == true)
            try CertificateAuthority.rotate(in: directory)
            try await check("leaves from the new CA")
            try CertificateAuthority.finishAuthorityChange(in: directory)
            try await check("the new CA alone")
            #expect(try CertificateAuthority.inventory(of: directory).filter { $0.file == "ca.pem" }.count == 1)

            // A leaf of the old CA is no longer trusted.
            let old = try Self.client(port: server.localPort, identity: oldLeaf)
            await #expect(throws: ConcordError.self) {
                let _: Echo = try await old.call("test.echo", Echo(text: "old CA"))
            }
            await old.close()
        }
    }

    @Test func rotationRefusesUnknownNamesAndLeavesTheDirectoryAlone() throws {
        let directory = try Self.makeDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let before = try String(contentsOf: directory.appendingPathComponent("client.pem"), encoding: .utf8)
        let error = #expect(throws: TLSSetupError.self) {
            try CertificateAuthority.rotate(in: directory, names: ["client", "gatewey"])
        }
        #expect(error?.message.contains("gatewey") == true)
        #expect(error?.message.contains("participants") == true, "the message lists the leaves there are")
        #expect(try String(contentsOf: directory.appendingPathComponent("client.pem"), encoding: .utf8) == before)
    }

    @Test func aDamagedRevocationListIsNamedAndTheContextKeepsItsIdentity() throws {
        let error = #expect(throws: TLSSetupError.self) {
            try RevocationList.parse("ab12\nnot a serial\n", path: "revoked")
        }
        #expect(error?.message.contains("line 2") == true)
        let list = try RevocationList.parse("# comment\n AB12  # client, replaced\n\n", path: "revoked")
        #expect(list.contains("ab12") && list.count == 1)

        let directory = try Self.makeDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let context = try ReloadingTLSContext.client(.standard(directory: directory.path, name: "client"))
        let serial = context.certificateSerial
        try Data("not a serial\n".utf8).write(to: directory.appendingPathComponent("revoked"))
        try CertificateAuthority.rotate(in: directory, names: ["client"])
        _ = context.current()
        #expect(context.certificateSerial == serial, "a damaged list keeps the identity the context had")
        try Data("# nothing revoked\n".utf8).write(to: directory.appendingPathComponent("revoked"))
        _ = context.current()
        #expect(context.certificateSerial != serial, "once the list is readable the rotated certificate is taken")
    }
}
