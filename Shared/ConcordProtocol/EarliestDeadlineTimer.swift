import NIOCore

/// One scheduled task standing for all the deadlines of a connection's calls in flight: the
/// rule of ``DeadlineCover`` with the task it moves. Used from its event loop only.
public struct EarliestDeadlineTimer {
    private var rule = DeadlineCover()
    private var scheduled: Scheduled<Void>?

    public init() {}

    /// Whether the timer already fires no later than `deadline`. Check it before building the
    /// closure for ``cover(_:on:fire:)``: on the common path nothing needs allocating.
    public func covers(_ deadline: NIODeadline) -> Bool {
        self.rule.covers(deadline)
    }

    /// Makes sure `fire` runs on `eventLoop` no later than `deadline`.
    public mutating func cover(_ deadline: NIODeadline, on eventLoop: any EventLoop, fire: @escaping @Sendable () -> Void) {
        guard let moveTo = self.rule.cover(deadline) else { return }
        self.scheduled?.cancel()
        self.scheduled = eventLoop.scheduleTask(deadline: moveTo, fire)
    }

    /// Call first thing when `fire` runs: the timer is no longer armed.
    public mutating func fired() {
        self.rule.disarm()
        self.scheduled = nil
    }

    public mutating func cancel() {
        self.scheduled?.cancel()
        self.fired()
    }
}
