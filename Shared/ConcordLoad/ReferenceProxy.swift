import NIOCore
import NIOPosix
import NIOSSL

/// A TCP proxy that terminates TLS and re-encrypts to its target, made of SwiftNIO and
/// swift-nio-ssl and nothing else: no framing, no routing, no tokens, bytes in and bytes out,
/// as nginx's stream proxy does. `scripts/bench-reference.sh` runs it in front of redis beside
/// nginx, on the same traffic, so the gateway's CPU per forward can be read against both: what
/// the stack it is built on costs before any of Concord's code runs, and what nginx costs.
public enum ReferenceProxy {
    /// Listens on 127.0.0.1:`port` and forwards each connection to 127.0.0.1:`target`, until the
    /// process ends.
    /// - `certificates`: a directory holding gateway.pem and gateway-key.pem (answered with, and
    ///   shown to the target) and ca.pem (the target's certificate is checked against it, for
    ///   `localhost`).
    /// - `applicationProtocols`: offered and accepted on both sides: `concord/1` in front of a
    ///   Concord service (which takes the proxy for a gateway); none in front of redis.
    /// - `lines`: relay Concord's lines as a gateway must (`LineRelay`) instead of passing bytes.
    public static func run(
        port: Int, target: Int, certificates: String, applicationProtocols: [String], threads: Int, lines: Lines? = nil
    ) async throws {
        var inbound = TLSConfiguration.makeServerConfiguration(
            certificateChain: try NIOSSLCertificate.fromPEMFile("\(certificates)/gateway.pem").map { .certificate($0) },
            privateKey: .privateKey(try NIOSSLPrivateKey(file: "\(certificates)/gateway-key.pem", format: .pem))
        )
        inbound.minimumTLSVersion = .tlsv12
        inbound.applicationProtocols = applicationProtocols
        var outbound = TLSConfiguration.makeClientConfiguration()
        outbound.trustRoots = .file("\(certificates)/ca.pem")
        outbound.certificateVerification = .fullVerification
        outbound.certificateChain = inbound.certificateChain
        outbound.privateKey = inbound.privateKey
        outbound.applicationProtocols = applicationProtocols
        let serverContext = try NIOSSLContext(configuration: inbound)
        let clientContext = try NIOSSLContext(configuration: outbound)

        let group = MultiThreadedEventLoopGroup(numberOfThreads: threads)
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
                                let tls = try NIOSSLClientHandler(context: clientContext, serverHostname: "localhost")
                                try outboundChannel.pipeline.syncOperations.addHandler(tls)
                            }
                        }
                        .connect(host: "127.0.0.1", port: target)
                }.flatMapThrowing { outboundChannel in
                    if let lines {
                        let relay = LineRelay(grants: lines.grants, reads: lines.reads, defaultDeadline: .seconds(60))
                        let (clientSide, serviceSide) = relay.handlers()
                        try inboundChannel.pipeline.syncOperations.addHandler(clientSide)
                        try outboundChannel.pipeline.syncOperations.addHandler(serviceSide)
                    } else {
                        let (toTarget, toClient) = GlueHandler.matchedPair()
                        try inboundChannel.pipeline.syncOperations.addHandler(toTarget)
                        try outboundChannel.pipeline.syncOperations.addHandler(toClient)
                    }
                }.flatMap {
                    inboundChannel.setOption(.autoRead, value: true)
                }
            }
            .bind(host: "127.0.0.1", port: port).get()
        try await server.closeFuture.get()
        try await group.shutdownGracefully()
    }
}

extension ReferenceProxy {
    /// What `LineRelay` knows: each token's holder and role, and which verbs only read.
    public struct Lines: Sendable {
        var grants: [String: LineRelay.Grant]
        var reads: Set<String>

        /// - `tokens`: token, holder's name, role (`reader`, `secretariat` or `admin`).
        public init(tokens: [(token: String, actor: String, role: String)], reads: Set<String>) {
            self.grants = Dictionary(tokens.map { ($0.token, LineRelay.Grant(actor: $0.actor, mayWrite: $0.role != "reader", role: $0.role)) }) { first, _ in first }
            self.reads = reads
        }
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
