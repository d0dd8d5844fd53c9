import NIOCore

/// One scheduled task standing for all the deadlines of a connection's calls in flight.
///
/// A connection keeps many calls in flight whose deadlines are mostly seconds away and that
/// almost all finish long before them. A timer per call costs a scheduler insertion and a removal
/// on the event loop for every call; this timer is armed for the earliest deadline only and moved
/// only when an earlier one arrives. When it fires, the owner expires what is overdue and covers
/// the earliest deadline still pending. Used from its event loop only.
public struct EarliestDeadlineTimer {
    private var armedFor: NIODeadline?
    private var scheduled: Scheduled<Void>?

    public init() {}

    /// Whether the timer already fires no later than `deadline`. Check it before building the
    /// closure for ``cover(_:on:fire:)``: on the common path nothing needs allocating.
    public func covers(_ deadline: NIODeadline) -> Bool {
        self.armedFor.map { $0 <= deadline } ?? false
    }

    /// Makes sure `fire` runs on `eventLoop` no later than `deadline`.
    public mutating func cover(_ deadline: NIODeadline, on eventLoop: any EventLoop, fire: @escaping @Sendable () -> Void) {
        if self.covers(deadline) { return }
        self.scheduled?.cancel()
        self.armedFor = deadline
        self.scheduled = eventLoop.scheduleTask(deadline: deadline, fire)
    }

    /// Call first thing when `fire` runs: the timer is no longer armed.
    public mutating func fired() {
        self.armedFor = nil
        self.scheduled = nil
    }

    public mutating func cancel() {
        self.scheduled?.cancel()
        self.fired()
    }

    /// The keys of `entries` whose deadline is at or before `now`, and the earliest deadline
    /// among the others.
    public static func partition<Key, Entry>(
        _ entries: [Key: Entry], now: NIODeadline, deadline: (Entry) -> NIODeadline
    ) -> (overdue: [Key], earliestRemaining: NIODeadline?) {
        var overdue: [Key] = []
        var earliest: NIODeadline?
        for (key, entry) in entries {
            let due = deadline(entry)
            if due <= now {
                overdue.append(key)
            } else if earliest.map({ due < $0 }) ?? true {
                earliest = due
            }
        }
        return (overdue, earliest)
    }
}
