import NIOCore
import Synchronization

/// Flushes put off until their event loop is done with what it is reading, one set per loop.
///
/// A connection with lines to send flushes them once, not at every line. While the connection is
/// reading, its own read's end is when. Lines written while *another* connection reads come of
/// that read: a gateway writes a caller's request to a replica while it reads the caller's line,
/// and the replica's answer to the caller while it reads the replica's. When to flush those is
/// a matter of load:
///
/// - A connection with one call or request under way (one caller, one at a time) flushes when
///   the read that wrote its line ends, as a proxy flushes one side when its read of the other
///   ends. Each such flush used to be a task of its own: two per forwarded request at the
///   gateway, at one connection, most of whose cost was taking tasks off the loop's queue.
/// - A connection with more under way (fifty callers on one replica connection, or a caller's
///   pipelined requests) flushes at the end of the loop's tick, in one task that flushes every
///   such connection: what the tick's reads wrote to it leaves in one write. Flushed at each
///   read's end instead, the gateway at fifty connections lost that batching: less throughput
///   kept, more CPU a request (the figures: docs/performance.md).
/// - A flush asked for while nothing reads (an answer from a task) waits for that task too.
///
/// Used only on its event loop's thread.
public final class LoopFlushes: @unchecked Sendable {
    /// A connection's way of sending what it has written.
    public protocol Flushing: AnyObject {
        func flushWaiting()
    }

    /// Connections waiting to flush: mostly one, which needs no array.
    private struct Waiting {
        private var first: (any Flushing)?
        private var more: [any Flushing] = []

        mutating func add(_ connection: any Flushing) {
            if self.first == nil {
                self.first = connection
            } else {
                self.more.append(connection)
            }
        }

        mutating func next() -> (any Flushing)? {
            if let first = self.first {
                self.first = nil
                return first
            }
            return self.more.popLast()
        }
    }

    private let eventLoop: any EventLoop
    private var atReadEnd = Waiting()
    private var atTickEnd = Waiting()
    private var reading = false
    private var taskArmed = false

    private init(eventLoop: any EventLoop) {
        self.eventLoop = eventLoop
    }

    /// The flushes of `eventLoop` (looked up once per connection, when its handler is added).
    ///
    /// Kept for the process's life, with the loop they hold: a process has a few loops, which
    /// live as long as it does (a test's embedded loops are small). A weak reference instead
    /// would give every loop a side table, and every reference count of a loop (NIO takes
    /// several a read) the slow path (docs/performance.md).
    public static func of(_ eventLoop: any EventLoop) -> LoopFlushes {
        Self.all.withLock { all in
            if let flushes = all[ObjectIdentifier(eventLoop)] { return flushes }
            let flushes = LoopFlushes(eventLoop: eventLoop)
            all[ObjectIdentifier(eventLoop)] = flushes
            return flushes
        }
    }

    /// By loop: a loop held here is never freed, so its address is never another loop's.
    private static let all = Mutex<[ObjectIdentifier: LoopFlushes]>([:])

    /// A connection on this loop begins a read burst (its first `channelRead` of it).
    public func readBegins() {
        self.reading = true
    }

    /// A read burst ends (`channelReadComplete`, or the connection closing in one): the flushes
    /// waiting for it run now.
    public func readEnds() {
        self.reading = false
        self.runWaiting(atTickEnd: false)
    }

    /// `connection`'s flush runs when the read under way on this loop ends if `busy` is false,
    /// and at the end of the loop's tick if it is true or no read is under way. The connection
    /// asks once until it is flushed.
    public func add(_ connection: any Flushing, busy: Bool) {
        if self.reading && !busy {
            self.atReadEnd.add(connection)
            return
        }
        self.atTickEnd.add(connection)
        guard !self.taskArmed else { return }
        self.taskArmed = true
        self.eventLoop.execute {
            self.taskArmed = false
            self.runWaiting(atTickEnd: true)
            self.runWaiting(atTickEnd: false)
        }
    }

    /// Until none is left: a flush that asks for another (a write it causes) has it run too.
    /// Each is taken out before it runs, as a flush may add to the list.
    private func runWaiting(atTickEnd: Bool) {
        while let connection = atTickEnd ? self.atTickEnd.next() : self.atReadEnd.next() {
            connection.flushWaiting()
        }
    }
}

/// A connection's part in its loop's flushes: whether it is in a read burst, which its read's
/// end closes with the flushes that waited for it.
///
/// A class, held by the connection's handler with `let`: ending a burst runs other flushes, and
/// a flush can close a connection, whose handler then ends its burst again (`channelInactive`).
/// As a struct in the handler, that second end came inside the first's access to the handler's
/// property, and a debug build stopped there ("Fatal access conflict", CI at db7eb27).
public final class ReadBurst {
    private var flushes: LoopFlushes?
    /// Between a burst's first `channelRead` and its `channelReadComplete`.
    public private(set) var isOn = false

    public init() {}

    /// When the connection's handler is added.
    public func join(_ eventLoop: any EventLoop) {
        self.flushes = LoopFlushes.of(eventLoop)
    }

    /// At every `channelRead`: the first of a burst begins it.
    public func read() {
        guard !self.isOn else { return }
        self.isOn = true
        self.flushes?.readBegins()
    }

    /// At `channelReadComplete`, and when the connection closes or its handler goes (a burst
    /// cut short must not keep the loop's flushes waiting). The burst is off before the flushes
    /// run, so an end that one of them causes does nothing.
    public func end() {
        guard self.isOn else { return }
        self.isOn = false
        self.flushes?.readEnds()
    }

    /// `connection`'s flush, at the end of the loop's read or tick (see `LoopFlushes.add`).
    public func flushLater(_ connection: any LoopFlushes.Flushing, busy: Bool) {
        self.flushes?.add(connection, busy: busy)
    }
}
