import ConcordProtocol
import ConcordTLS
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import NIOSSL
import ServiceLifecycle

/// A protocol server: TLS listener, connections, routing, graceful drain.
///
/// Bind first (so the port is known), then run it as a `Service`. On graceful shutdown it stops
/// accepting, lets every connection answer what it has read, says bye, and closes; connections
/// still busy after the drain timeout are cut.
public final class ConcordServer: Service, Sendable {
    public static let version = "0.1.0"

    public let configuration: ServerConfiguration
    /// The address actually bound (port 0 resolved).
    public let localAddress: SocketAddress
    private let serverChannel: NIOAsyncChannel<any Channel, Never>
    private let connections: NIOLockedValueBox<Connections>
    private let logger: Logger

    private struct Connections {
        var open: [ObjectIdentifier: any Channel] = [:]
        var draining = false
    }

    public var localPort: Int { self.localAddress.port ?? 0 }

    /// Binds the listener. Built-in verbs (`ping`, `health`, `ready`, `hello`, `verbs`) are added to `router`.
    ///
    /// - Parameter readiness: answers the `ready` verb; return false while a dependency (a
    ///   database, say) is not usable yet.
    public static func bind(
        configuration: ServerConfiguration,
        router: Router,
        readiness: @escaping @Sendable () async -> Bool = { true },
        eventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        logger: Logger
    ) async throws -> ConcordServer {
        // Rebuilt from the files when they change (certificate rotation); each connection takes the current one.
        let tls = try ReloadingTLSContext.server(configuration.tls, peerAuthentication: configuration.peerAuthentication)
        let connections = NIOLockedValueBox(Connections())
        var logger = logger
        logger[metadataKey: LogKey.service] = "\(configuration.serviceName)"

        var router = router
        let helloBody = ServerShared.helloBody(for: configuration)
        let pong = ByteBuffer(string: #"{"pong":true}"#)
        let alive = ByteBuffer(string: #"{"status":"alive"}"#)
        router.registerInline("ping") { _ in .ok(pong) }
        router.registerInline("health") { _ in .ok(alive) }
        router.registerInline("hello") { _ in .ok(helloBody) }
        router.registerCancel()
        let catalogue = VerbCatalogue(service: configuration.serviceName, verbs: router.catalogue.merging(
            Router.builtins.map { ($0, VerbKind.builtin) }, uniquingKeysWith: { _, builtin in builtin }
        ))
        let verbsBody = (try? Router.encode(catalogue, allocator: ByteBufferAllocator())) ?? Request.emptyBody
        router.registerInline("verbs") { _ in .ok(verbsBody) }
        router.registerRaw("ready", kind: .builtin) { _, _ in
            if connections.withLockedValue({ $0.draining }) {
                throw ConcordError(.unavailable, "shutting down")
            }
            guard await readiness() else {
                throw ConcordError(.unavailable, "\(configuration.serviceName) is not ready yet")
            }
            return ByteBuffer(string: #"{"status":"ready"}"#)
        }
        let shared = ServerShared(configuration: configuration, router: router, helloBody: helloBody, tls: tls)
        let connectionLogger = logger

        let channel = try await ServerBootstrap(group: eventLoopGroup)
            .serverChannelOption(.backlog, value: 256)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.tcpOption(.tcp_nodelay), value: 1)
            .childChannelOption(.writeBufferWaterMark, value: .init(low: 64 * 1024, high: 256 * 1024))
            .childChannelOption(.maxMessagesPerRead, value: 4)
            .bind(host: configuration.host, port: configuration.port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandlers([
                        NIOSSLServerHandler(context: tls.current()),
                        ServerConnectionHandler(shared: shared, logger: connectionLogger, eventLoop: channel.eventLoop),
                    ])
                    return channel
                }
            }
        guard let address = channel.channel.localAddress else {
            throw ConcordError(.internal, "listener has no local address")
        }
        logger.info("listening", metadata: [LogKey.address: "\(address)"])
        return ConcordServer(configuration: configuration, localAddress: address, serverChannel: channel, connections: connections, logger: logger)
    }

    private init(
        configuration: ServerConfiguration,
        localAddress: SocketAddress,
        serverChannel: NIOAsyncChannel<any Channel, Never>,
        connections: NIOLockedValueBox<Connections>,
        logger: Logger
    ) {
        self.configuration = configuration
        self.localAddress = localAddress
        self.serverChannel = serverChannel
        self.connections = connections
        self.logger = logger
    }

    public func run() async throws {
        await withGracefulShutdownHandler {
            await withDiscardingTaskGroup { group in
                do {
                    try await self.serverChannel.executeThenClose { inbound in
                        for try await connection in inbound {
                            group.addTask { await self.serve(connection) }
                        }
                    }
                } catch {
                    self.logger.error("listener failed", metadata: [LogKey.error: "\(error)"])
                }
            }
        } onGracefulShutdown: {
            self.beginShutdown()
        }
        self.logger.info("stopped")
    }

    /// Stops accepting and drains every connection; cuts the rest after the drain timeout.
    public func beginShutdown() {
        let channels = self.connections.withLockedValue { state -> [any Channel] in
            guard !state.draining else { return [] }
            state.draining = true
            return Array(state.open.values)
        }
        self.logger.info("draining", metadata: [LogKey.connections: "\(channels.count)"])
        self.serverChannel.channel.close(promise: nil)
        for channel in channels {
            channel.pipeline.fireUserInboundEventTriggered(ConnectionDrainEvent())
        }
        let connections = self.connections
        self.serverChannel.channel.eventLoop.scheduleTask(in: TimeAmount(self.configuration.drainTimeout)) {
            for channel in connections.withLockedValue({ Array($0.open.values) }) {
                channel.close(promise: nil)
            }
        }
    }

    private func serve(_ channel: any Channel) async {
        let key = ObjectIdentifier(channel)
        let draining = self.connections.withLockedValue { state in
            state.open[key] = channel
            return state.draining
        }
        if draining {
            channel.pipeline.fireUserInboundEventTriggered(ConnectionDrainEvent())
        }
        try? await channel.closeFuture.get()
        self.connections.withLockedValue { _ = $0.open.removeValue(forKey: key) }
    }
}
