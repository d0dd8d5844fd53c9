import ConcordProtocol
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import ConcordTLS
import NIOCore

/// What every connection of one server reads and never changes.
struct ServerShared: Sendable {
    let configuration: ServerConfiguration
    let router: Router
    /// The body of the `hello` event and verb: identity, version and limits.
    let helloBody: ByteBuffer
    /// The server's TLS identity and the revocation list it checks peers against.
    let tls: ReloadingTLSContext

    init(configuration: ServerConfiguration, router: Router, helloBody: ByteBuffer, tls: ReloadingTLSContext) {
        self.configuration = configuration
        self.router = router
        self.helloBody = helloBody
        self.tls = tls
    }

    /// The `hello` body for a configuration: identity, version and limits.
    static func helloBody(for configuration: ServerConfiguration) -> ByteBuffer {
        let limits = configuration.limits
        let hello = Hello(
            protocol: ConcordProtocolVersion.alpn,
            service: configuration.serviceName,
            version: configuration.serviceVersion,
            limits: .init(
                maxLineLength: limits.maxLineLength,
                maxInFlight: limits.maxInFlight,
                idleTimeoutMs: limits.idleTimeout.wholeMilliseconds,
                pingIntervalMs: limits.pingInterval.wholeMilliseconds,
                maxUnansweredPings: limits.maxUnansweredPings,
                maxDeadlineMs: limits.maxDeadline.wholeMilliseconds
            )
        )
        // Encoding a struct of strings and integers cannot fail.
        return (try? Router.encode(hello, allocator: ByteBufferAllocator())) ?? Request.emptyBody
    }
}

/// Sent as `* hello` when a connection opens, and as the answer to the `hello` verb.
public struct Hello: Codable, Sendable, Hashable {
    public struct Limits: Codable, Sendable, Hashable {
        public var maxLineLength: Int
        public var maxInFlight: Int
        public var idleTimeoutMs: Int64
        public var pingIntervalMs: Int64
        public var maxUnansweredPings: Int
        public var maxDeadlineMs: Int64
    }

    public var `protocol`: String
    public var service: String
    public var version: String
    public var limits: Limits
}
