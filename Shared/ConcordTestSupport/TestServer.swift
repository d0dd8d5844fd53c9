import ConcordClient
import ConcordProtocol
import ConcordServer
import ConcordTLS
import Logging
import NIOCore
import Foundation

/// Runs a real protocol server on 127.0.0.1, port 0, with real TLS, for the length of `body`,
/// then shuts it down gracefully and waits until it has stopped.
public func withTestServer<T: Sendable>(
    router: Router = Router(),
    limits: ProtocolLimits = ProtocolLimits(),
    peerAuthentication: PeerAuthentication = .required,
    peerPolicy: PeerPolicy = .open,
    drainTimeout: Duration = .seconds(5),
    serviceName: String = "participants",
    readiness: @escaping @Sendable () async -> Bool = { true },
    _ body: (ConcordServer) async throws -> T
) async throws -> T {
    var logger = Logger(label: "concord.test.server")
    logger.logLevel = ProcessInfo.processInfo.environment["CONCORD_TEST_LOG"] == nil ? .critical : .trace
    let configuration = ServerConfiguration(
        host: "127.0.0.1",
        port: 0,
        tls: TestCertificates.identity(serviceName),
        peerAuthentication: peerAuthentication,
        peerPolicy: peerPolicy,
        limits: limits,
        serviceName: serviceName,
        drainTimeout: drainTimeout
    )
    let server = try await ConcordServer.bind(configuration: configuration, router: router, readiness: readiness, logger: logger)
    return try await withThrowingTaskGroup(of: Void.self) { group in
        group.addTask { try await server.run() }
        do {
            let result = try await body(server)
            server.beginShutdown()
            try await group.waitForAll()
            return result
        } catch {
            server.beginShutdown()
            try? await group.waitForAll()
            throw error
        }
    }
}

/// A client for a test server, presenting the given identity (nil: no client certificate). It
/// waits 30 s for a connection: a test of what a server answers must not fail because a loaded
/// machine (a build beside the tests, debug-mode certificate checks) took 5 s to connect.
public func makeTestClient(
    port: Int,
    identity: String? = "client",
    serverName: String? = nil,
    connectTimeout: Duration = .seconds(30),
    defaultDeadline: Duration = .seconds(10)
) throws -> ConcordClient {
    var tls = TestCertificates.identity(identity)
    if identity == nil { tls.certificatePath = nil; tls.keyPath = nil }
    return try ConcordClient(
        configuration: .init(
            host: "127.0.0.1", port: port, tls: tls, serverName: serverName, connectTimeout: connectTimeout, defaultDeadline: defaultDeadline
        )
    )
}
