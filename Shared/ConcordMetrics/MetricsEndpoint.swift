import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import ServiceLifecycle

/// Serves `GET /metrics` in Prometheus' text format over plain HTTP, for a Prometheus server to
/// scrape: the process's one HTTP listener, apart from its TLS protocol port. Any other path is
/// 404, any other method 405. Bind first (so the port is known), then run it as a `Service`.
public final class MetricsEndpoint: Service, Sendable {
    public let localAddress: SocketAddress
    private let channel: any Channel
    private let logger: Logger

    public static func bind(
        host: String, port: Int, eventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton, logger: Logger
    ) async throws -> MetricsEndpoint {
        PrometheusExposition.bootstrap()
        let channel = try await ServerBootstrap(group: eventLoopGroup)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline(withErrorHandling: true)
                    try channel.pipeline.syncOperations.addHandler(ScrapeHandler())
                }
            }
            .bind(host: host, port: port)
            .get()
        guard let address = channel.localAddress else { throw MetricsEndpointError.noAddress }
        logger.info("metrics at http://\(host):\(address.port ?? port)/metrics")
        return MetricsEndpoint(localAddress: address, channel: channel, logger: logger)
    }

    private init(localAddress: SocketAddress, channel: any Channel, logger: Logger) {
        self.localAddress = localAddress
        self.channel = channel
        self.logger = logger
    }

    public var localPort: Int { self.localAddress.port ?? 0 }

    public func run() async throws {
        // Scraped until the process stops: Prometheus sees the last figures during the drain.
        await withGracefulShutdownHandler {
            try? await self.channel.closeFuture.get()
        } onGracefulShutdown: {
            self.channel.close(promise: nil)
        }
    }
}

public enum MetricsEndpointError: Error, CustomStringConvertible {
    case noAddress
    case badAddress(String)

    public var description: String {
        switch self {
        case .noAddress: "the metrics listener has no local address"
        case .badAddress(let text): "metrics address must be HOST:PORT, e.g. 127.0.0.1:9464, got '\(text)'"
        }
    }
}

/// `--metrics HOST:PORT`: where to serve metrics.
public struct MetricsAddress: Sendable, Equatable {
    public var host: String
    public var port: Int

    public init(parsing text: String) throws(MetricsEndpointError) {
        guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]), (0...65535).contains(port) else {
            throw .badAddress(text)
        }
        var host = String(text[..<colon])
        if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        guard !host.isEmpty else { throw .badAddress(text) }
        self.host = host
        self.port = port
    }
}

/// One scrape: the request's head decides, the body (there is none to a GET) is ignored.
private final class ScrapeHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private var head: HTTPRequestHead?

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch self.unwrapInboundIn(data) {
        case .head(let head):
            self.head = head
        case .body:
            break
        case .end:
            guard let head = self.head else { return }
            self.head = nil
            self.respond(to: head, context: context)
        }
    }

    private func respond(to head: HTTPRequestHead, context: ChannelHandlerContext) {
        let path = head.uri.split(separator: "?", maxSplits: 1).first.map(String.init) ?? head.uri
        let status: HTTPResponseStatus
        var body = context.channel.allocator.buffer(capacity: 0)
        var headers = HTTPHeaders()
        if head.method != .GET && head.method != .HEAD {
            status = .methodNotAllowed
            headers.add(name: "Allow", value: "GET, HEAD")
            body.writeString("only GET /metrics is served here\n")
        } else if path != "/metrics" {
            status = .notFound
            body.writeString("not found: metrics are at /metrics\n")
        } else {
            status = .ok
            body.writeBytes(PrometheusExposition.text())
        }
        headers.add(name: "Content-Type", value: status == .ok ? "text/plain; version=0.0.4; charset=utf-8" : "text/plain; charset=utf-8")
        headers.add(name: "Content-Length", value: "\(body.readableBytes)")
        let keepAlive = head.isKeepAlive
        if !keepAlive { headers.add(name: "Connection", value: "close") }
        context.write(self.wrapOutboundOut(.head(HTTPResponseHead(version: head.version, status: status, headers: headers))), promise: nil)
        if head.method != .HEAD {
            context.write(self.wrapOutboundOut(.body(.byteBuffer(body))), promise: nil)
        }
        let done = context.writeAndFlush(self.wrapOutboundOut(.end(nil)))
        if !keepAlive {
            done.whenComplete { [channel = context.channel] _ in channel.close(promise: nil) }
        }
    }
}
