import ConcordProtocol
import ConcordTLS
import NIOCore
import NIOPosix
import NIOSSL

/// A bare TLS (or plaintext) connection that sends whatever bytes a test wants and reads lines,
/// the way `openssl s_client -quiet` does. For testing what peers that break the rules get.
public struct RawLineConnection: Sendable {
    private let outbound: NIOAsyncChannelOutboundWriter<ByteBuffer>
    private let inbound: NIOAsyncChannelInboundStream<ByteBuffer>.AsyncIterator.Box

    /// Connects with TLS, ALPN and (unless `identity` is nil) a client certificate, runs `body`,
    /// and closes the connection.
    public static func with<T: Sendable>(
        port: Int,
        identity: String? = "client",
        caDirectory: String = TestCertificates.directory,
        alpn: [String] = [ConcordProtocolVersion.alpn],
        tls: Bool = true,
        receiveBufferSize: Int? = nil,
        _ body: (RawLineConnection) async throws -> T
    ) async throws -> T {
        let sslContext: NIOSSLContext? = try tls ? Self.makeSSLContext(identity: identity, caDirectory: caDirectory, alpn: alpn) : nil
        var bootstrap = ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
        if let receiveBufferSize {
            // A peer that reads slowly: small kernel buffer, so unread replies pile up at the server.
            bootstrap = bootstrap.channelOption(.socketOption(.so_rcvbuf), value: SocketOptionValue(receiveBufferSize))
                .channelOption(.maxMessagesPerRead, value: 1)
                .channelOption(.recvAllocator, value: FixedSizeRecvByteBufferAllocator(capacity: 4096))
        }
        let channel = try await bootstrap
            .connect(host: "127.0.0.1", port: port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    if let sslContext {
                        try channel.pipeline.syncOperations.addHandler(NIOSSLClientHandler(context: sslContext, serverHostname: nil))
                    }
                    try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(RawLineDecoder()))
                    return try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel)
                }
            }
        return try await channel.executeThenClose { inbound, outbound in
            try await body(RawLineConnection(outbound: outbound, inbound: .init(inbound.makeAsyncIterator())))
        }
    }

    private static func makeSSLContext(identity: String?, caDirectory: String, alpn: [String]) throws -> NIOSSLContext {
        do {
            var identityFiles = TLSIdentity.standard(directory: caDirectory, name: identity)
            if identity == nil { identityFiles.certificatePath = nil; identityFiles.keyPath = nil }
            var configuration = try ConcordTLSConfiguration.client(identity: identityFiles)
            configuration.applicationProtocols = alpn
            // The foreign CA cannot verify our server; the test is about the server refusing us.
            configuration.certificateVerification = .none
            return try NIOSSLContext(configuration: configuration)
        }
    }

    /// Sends `text` exactly as given (add the "\n" yourself).
    public func send(_ text: String) async throws {
        try await self.outbound.write(ByteBuffer(string: text))
    }

    public func send(bytes: [UInt8]) async throws {
        try await self.outbound.write(ByteBuffer(bytes: bytes))
    }

    /// The next line from the server, without its LF; nil once the server has closed.
    public func readLine() async throws -> String? {
        guard let buffer = try await self.inbound.next() else { return nil }
        return String(buffer: buffer)
    }

    /// Reads lines until one does not start with "* " (skipping hello, ping), or the end.
    public func readReply() async throws -> String? {
        while let line = try await self.readLine() {
            if line.hasPrefix("* hello ") || line.hasPrefix("* ping ") { continue }
            return line
        }
        return nil
    }

    /// Half-closes: no more bytes from this side.
    public func finish() {
        self.outbound.finish()
    }
}

extension NIOAsyncChannelInboundStream.AsyncIterator {
    /// Lets a `Sendable` struct hold the iterator of its inbound stream.
    public final class Box: @unchecked Sendable {
        private var iterator: NIOAsyncChannelInboundStream<Inbound>.AsyncIterator
        init(_ iterator: NIOAsyncChannelInboundStream<Inbound>.AsyncIterator) { self.iterator = iterator }
        func next() async throws -> Inbound? { try await self.iterator.next() }
    }
}

/// Lines without a length limit: the test reads whatever the server says.
struct RawLineDecoder: NIOSingleStepByteToMessageDecoder {
    typealias InboundOut = ByteBuffer
    mutating func decode(buffer: inout ByteBuffer) throws -> ByteBuffer? {
        guard let newline = buffer.readableBytesView.firstIndex(of: UInt8(ascii: "\n")) else { return nil }
        let length = newline - buffer.readerIndex
        let line = buffer.readSlice(length: length)!
        buffer.moveReaderIndex(forwardBy: 1)
        return line
    }
    mutating func decodeLast(buffer: inout ByteBuffer, seenEOF: Bool) throws -> ByteBuffer? {
        try self.decode(buffer: &buffer)
    }
}
