import ConcordPool
import ConcordServer
import Logging
import NIOCore

/// A real protocol server serving in a task until `stop()`: for a test that starts and stops
/// servers on its own schedule (replicas it takes down), where `withTestServer`'s one closure
/// does not fit.
public final class RunningServer: Sendable {
    public let server: ConcordServer
    private let task: Task<Void, any Error>

    public init(_ configuration: ServerConfiguration, router: Router, logger: Logger = quietLogger) async throws {
        let server = try await ConcordServer.bind(configuration: configuration, router: router, logger: logger)
        self.server = server
        self.task = Task { try await server.run() }
    }

    /// Where it listens, by the address it bound.
    public var endpoint: Endpoint { Endpoint(host: self.server.localAddress.ipAddress ?? "127.0.0.1", port: self.server.localPort) }

    /// Shuts it down gracefully and waits until it has stopped.
    public func stop() async {
        self.server.beginShutdown()
        _ = try? await self.task.value
    }
}
