import ConcordProtocol
import Logging
import NIOCore

/// What a handler knows about the request it serves, besides its body.
public struct RequestContext: Sendable {
    public let requestID: String
    public let verb: String
    public let metadata: Metadata
    /// When the answer stops being useful; the server answers `deadline_exceeded` at this instant.
    public let deadline: NIODeadline
    /// Carries the request id, verb and trace id as metadata.
    public var logger: Logger
    public let eventLoop: any EventLoop
    public let allocator: ByteBufferAllocator
}

/// Metadata keys for logs: one vocabulary across every Concord process.
public enum LogKey {
    public static let requestID = "concord.request_id"
    public static let verb = "concord.verb"
    public static let trace = "concord.trace"
    public static let peer = "concord.peer"
    public static let error = "concord.error"
    public static let code = "concord.code"
    public static let address = "concord.address"
    public static let service = "concord.service"
}
