import ConcordProtocol
import NIOCore
import Testing

/// The rule of one timer for every deadline of a connection, as a value: time is whatever the
/// test says.
@Suite("The deadline cover")
struct DeadlineCoverTests {
    static let start = NIODeadline.uptimeNanoseconds(1_000_000_000)

    @Test func itMovesOnlyForAnEarlierDeadline() {
        var cover = DeadlineCover()
        #expect(!cover.covers(Self.start))
        let first = cover.cover(Self.start + .seconds(5))
        #expect(first == Self.start + .seconds(5), "an unarmed timer is armed")
        let equal = cover.cover(Self.start + .seconds(5))
        #expect(equal == nil, "an equal deadline is covered")
        let later = cover.cover(Self.start + .seconds(6))
        #expect(later == nil, "a later one is covered")
        #expect(cover.armedFor == Self.start + .seconds(5))
        let earlier = cover.cover(Self.start + .milliseconds(100))
        #expect(earlier == Self.start + .milliseconds(100), "an earlier one moves it")
        #expect(cover.armedFor == Self.start + .milliseconds(100))
    }

    @Test func disarmingSaysWhetherATaskWasArmed() {
        var cover = DeadlineCover()
        let unarmed = cover.disarm()
        #expect(!unarmed, "nothing to cancel")
        _ = cover.cover(Self.start + .seconds(1))
        let armed = cover.disarm()
        #expect(armed)
        #expect(cover.armedFor == nil && !cover.covers(Self.start + .seconds(2)))
        let again = cover.cover(Self.start + .seconds(2))
        #expect(again == Self.start + .seconds(2), "armed again once disarmed")
    }

    @Test func partitionSplitsTheDueFromTheRestAndNamesTheNextDeadline() {
        let entries: [Int: NIODeadline] = [
            1: Self.start + .seconds(1), 2: Self.start + .seconds(3), 3: Self.start + .seconds(2), 4: Self.start,
        ]
        let (overdue, earliest) = DeadlineCover.partition(entries, now: Self.start + .seconds(1), deadline: { $0 })
        #expect(overdue.sorted() == [1, 4], "a deadline at now is due")
        #expect(earliest == Self.start + .seconds(2))
        let none = DeadlineCover.partition(entries, now: Self.start + .seconds(3), deadline: { $0 })
        #expect(none.overdue.count == 4 && none.earliestRemaining == nil)
    }
}
