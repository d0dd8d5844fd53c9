import ConcordProtocol
import ConcordTLS
import Logging
import NIOCore

/// What a handler knows about the request it serves, besides its body.
public struct RequestContext: Sendable {
    public let requestID: String
    public let verb: String
    public let metadata: Metadata
    /// When the answer stops being useful; the server answers `deadline_exceeded` at this instant.
    public let deadline: NIODeadline
    /// The time the request was given (its `deadline=`, capped by the server's limit).
    public let budget: Duration
    /// The connection's logger; `logger` adds this request's ids when a handler logs.
    let connectionLogger: Logger
    public let eventLoop: any EventLoop
    public let allocator: ByteBufferAllocator
    /// The certificate identity of the connection's peer; nil without one.
    public let peer: PeerIdentity?

    /// On whose behalf the request acts: the gateway's `actor` metadata when the peer is the
    /// gateway, else the peer's own identity.
    public var actor: Principal { Principal(peer: self.peer, metadata: self.metadata) }

    /// Carries the request id, verb and trace id as metadata. Built on use: setting logger
    /// metadata re-renders it, which on every request cost more than most handlers.
    public var logger: Logger {
        var logger = self.connectionLogger
        logger[metadataKey: LogKey.requestID] = "\(self.requestID)"
        logger[metadataKey: LogKey.verb] = "\(self.verb)"
        if let trace = self.metadata.trace { logger[metadataKey: LogKey.trace] = "\(trace)" }
        return logger
    }
}
