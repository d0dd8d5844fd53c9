import NIOCore
import NIOPosix
import NIOSSL

/// A TCP proxy that terminates TLS and re-encrypts to its target, made of SwiftNIO and
/// swift-nio-ssl and nothing else: no framing, no routing, no tokens, bytes in and bytes out,
/// as nginx's stream proxy does. `scripts/bench-reference.sh` runs it in front of redis beside
/// nginx, on the same traffic, so the gateway's CPU per forward can be read against both: what
/// the stack it is built on costs before any of Concord's code runs, and what nginx costs.
public struct ReferenceProxy: Sendable {
    public struct Configuration: Sendable {
        public var listenHost = "127.0.0.1"
        public var listenPort: Int
        public var targetHost = "127.0.0.1"
        public var targetPort: Int
        /// PEM files: the certificate and key it answers with, and the roots it checks the
        /// target's certificate against (for `serverName`).
        public var certificate: String
        public var key: String
        public var trustRoots: String
        public var serverName = "localhost"
        /// Offered and accepted on both sides (`concord/1` in front of a Concord service, which
        /// also sees the certificate as the proxy's own, as it would a gateway's); none for redis.
        public var applicationProtocols: [String] = []
        public var threads = 1

        public init(listenPort: Int, targetPort: Int, certificate: String, key: String, trustRoots: String) {
            self.listenPort = listenPort
            self.targetPort = targetPort
            self.certificate = certificate
            self.key = key
            self.trustRoots = trustRoots
        }
    }

    let configuration: Configuration

    public init(configuration: Configuration) {
        self.configuration = configuration
    }

    /// Listens until the process ends.
    public func run() async throws {
        let configuration = self.configuration
        var inbound = TLSConfiguration.makeServerConfiguration(
            certificateChain: try NIOSSLCertificate.fromPEMFile(configuration.certificate).map { .certificate($0) },
            privateKey: .privateKey(try NIOSSLPrivateKey(file: configuration.key, format: .pem))
        )
        inbound.minimumTLSVersion = .tlsv12
        inbound.applicationProtocols = configuration.applicationProtocols
        var outbound = TLSConfiguration.makeClientConfiguration()
        outbound.trustRoots = .file(configuration.trustRoots)
        outbound.certificateVerification = .fullVerification
        outbound.certificateChain = inbound.certificateChain
        outbound.privateKey = inbound.privateKey
        outbound.applicationProtocols = configuration.applicationProtocols
        let serverContext = try NIOSSLContext(configuration: inbound)
        let clientContext = try NIOSSLContext(configuration: outbound)

        let group = MultiThreadedEventLoopGroup(numberOfThreads: configuration.threads)
        let server = try await ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 256)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            // Nothing is read until the target is connected and the two are glued.
            .childChannelOption(.autoRead, value: false)
            .childChannelInitializer { inboundChannel in
                inboundChannel.eventLoop.makeCompletedFuture {
                    try inboundChannel.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: serverContext))
                }.flatMap {
                    ClientBootstrap(group: inboundChannel.eventLoop)
                        .channelOption(.socketOption(.tcp_nodelay), value: 1)
                        .channelInitializer { outboundChannel in
                            outboundChannel.eventLoop.makeCompletedFuture {
                                let tls = try NIOSSLClientHandler(context: clientContext, serverHostname: configuration.serverName)
                                try outboundChannel.pipeline.syncOperations.addHandler(tls)
                            }
                        }
                        .connect(host: configuration.targetHost, port: configuration.targetPort)
                }.flatMapThrowing { outboundChannel in
                    let (toTarget, toClient) = GlueHandler.matchedPair()
                    try inboundChannel.pipeline.syncOperations.addHandler(toTarget)
                    try outboundChannel.pipeline.syncOperations.addHandler(toClient)
                }.flatMap {
                    inboundChannel.setOption(.autoRead, value: true)
                }
            }
            .bind(host: configuration.listenHost, port: configuration.listenPort).get()
        try await server.closeFuture.get()
        try await group.shutdownGracefully()
    }
}

/// One side of a pair that passes what one channel reads to the other channel, and holds reads
/// while the other cannot write (as SwiftNIO's connect-proxy example does).
final class GlueHandler: ChannelDuplexHandler {
    typealias InboundIn = NIOAny
    typealias OutboundIn = NIOAny
    typealias OutboundOut = NIOAny

    private var partner: GlueHandler?
    private var context: ChannelHandlerContext?
    private var pendingRead = false

    static func matchedPair() -> (GlueHandler, GlueHandler) {
        let first = GlueHandler()
        let second = GlueHandler()
        first.partner = second
        second.partner = first
        return (first, second)
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.context = nil
        self.partner = nil
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        self.partner?.context?.write(data, promise: nil)
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        self.partner?.context?.flush()
    }

    func channelInactive(context: ChannelHandlerContext) {
        self.partner?.context?.close(promise: nil)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        self.partner?.context?.close(promise: nil)
        context.close(promise: nil)
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        guard context.channel.isWritable, let partner = self.partner, partner.pendingRead else { return }
        partner.pendingRead = false
        partner.context?.read()
    }

    func read(context: ChannelHandlerContext) {
        if self.partner?.context?.channel.isWritable ?? false {
            context.read()
        } else {
            self.pendingRead = true
        }
    }
}
