import NIOCore

/// The rule of one timer standing for all the deadlines of a connection's calls in flight, as a
/// value: no event loop, no task.
///
/// A connection keeps many calls in flight whose deadlines are mostly seconds away and that
/// almost all finish long before them. A timer per call costs a scheduler insertion and a removal
/// on the event loop for every call; one timer is armed for the earliest deadline only and moved
/// only when an earlier one arrives. When it fires, its owner expires what is overdue
/// (``partition(_:now:deadline:)``) and covers the earliest deadline still pending.
///
/// The client's connection machine holds one and arms its timer as told;
/// ``EarliestDeadlineTimer`` pairs one with the scheduled task for the server's handler.
public struct DeadlineCover: Sendable, Equatable {
    /// When the timer is set to fire, if it is.
    public private(set) var armedFor: NIODeadline?

    public init() {}

    /// Whether the timer already fires no later than `deadline`.
    public func covers(_ deadline: NIODeadline) -> Bool {
        self.armedFor.map { $0 <= deadline } ?? false
    }

    /// Where the timer must move so that it fires no later than `deadline`: nil when it already
    /// does, else `deadline`, which it is then held to be armed for.
    public mutating func cover(_ deadline: NIODeadline) -> NIODeadline? {
        if self.covers(deadline) { return nil }
        self.armedFor = deadline
        return deadline
    }

    /// The timer fired or was cancelled: it is armed for nothing. True when it had been armed
    /// (a task to cancel).
    @discardableResult
    public mutating func disarm() -> Bool {
        defer { self.armedFor = nil }
        return self.armedFor != nil
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
