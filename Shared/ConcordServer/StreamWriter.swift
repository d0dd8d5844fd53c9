import ConcordProtocol
import NIOCore

/// How a streaming handler pushes its items: each `send` writes one `ID more BODY` line on the
/// request's connection. The connection's outbound buffer is the only buffer: when the peer
/// has not read what was sent (the buffer is over its high mark), `send` waits for it to, at
/// most `patience`, and then says `slow`; the handler decides what that means (a watch ends with
/// a cursor to resume from). So a peer that stops reading costs at most one high mark of memory.
public final class StreamWriter: Sendable {
    public enum Outcome: Sendable, Equatable {
        /// Written, and the peer keeps up.
        case sent
        /// Written, but the peer had not read what was sent before within `patience`.
        case slow
        /// Not written: the request was cancelled or answered, or the connection is gone.
        case closed
    }

    private let serial: UInt64
    private let connection: NIOLoopBound<ServerConnectionHandler>
    private let eventLoop: any EventLoop

    init(serial: UInt64, connection: NIOLoopBound<ServerConnectionHandler>, eventLoop: any EventLoop) {
        self.serial = serial
        self.connection = connection
        self.eventLoop = eventLoop
    }

    /// Writes `body` as the request's next item.
    public func send(_ body: ByteBuffer, patience: Duration = .seconds(5)) async -> Outcome {
        let connection = self.connection
        let serial = self.serial
        let promise = self.eventLoop.makePromise(of: Outcome.self)
        self.eventLoop.execute {
            connection.value.pushItem(serial: serial, body: body, patience: TimeAmount(patience), promise: promise)
        }
        return (try? await promise.futureResult.get()) ?? .closed
    }
}
