import NIOCore

/// Where one request's answer goes, given once, from any thread: the caller's connection (the
/// server's `Router.Answer`), a continuation, a test's log.
///
/// A protocol rather than a closure: the caller's connection is a reference and a serial, which
/// an existential carries in place, where a closure over them is an allocation per request
/// (docs/performance.md).
public protocol Answering: Sendable {
    func callAsFunction(_ result: Result<ByteBuffer, ConcordError>)
}

/// A closure as the answer's destination, for callers that have one anyway (a continuation).
public struct AnswerBy: Answering {
    private let body: @Sendable (Result<ByteBuffer, ConcordError>) -> Void

    public init(_ body: @escaping @Sendable (Result<ByteBuffer, ConcordError>) -> Void) {
        self.body = body
    }

    public func callAsFunction(_ result: Result<ByteBuffer, ConcordError>) {
        self.body(result)
    }
}
