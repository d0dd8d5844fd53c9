import ConcordProtocol
import NIOConcurrencyHelpers
import NIOCore
import NIOEmbedded
import Testing

/// One timer per connection for every request's deadline, as a task: armed for the earliest,
/// re-armed only for an earlier one. On an embedded loop, whose time moves only when the test
/// moves it. The rule alone, without a loop: `DeadlineCoverTests`.
@Suite("The earliest-deadline timer")
struct EarliestDeadlineTimerTests {
    let loop = EmbeddedEventLoop()
    let fired = NIOLockedValueBox<[String]>([])

    func fire(_ name: String) -> @Sendable () -> Void {
        let fired = self.fired
        return { fired.withLockedValue { $0.append(name) } }
    }

    @Test func anEarlierDeadlineReArmsItAndALaterOneDoesNot() {
        var timer = EarliestDeadlineTimer()
        let start = self.loop.now
        #expect(!timer.covers(start + .seconds(5)))
        timer.cover(start + .seconds(5), on: self.loop, fire: self.fire("long"))
        #expect(timer.covers(start + .seconds(5)) && timer.covers(start + .seconds(6)))
        timer.cover(start + .seconds(6), on: self.loop, fire: self.fire("later"))
        #expect(!timer.covers(start + .milliseconds(100)))
        timer.cover(start + .milliseconds(100), on: self.loop, fire: self.fire("short"))

        self.loop.advanceTime(by: .milliseconds(100))
        #expect(self.fired.withLockedValue { $0 } == ["short"], "the short deadline's, not after the long one")
        self.loop.advanceTime(by: .seconds(10))
        #expect(self.fired.withLockedValue { $0 } == ["short"], "the replaced timer never fires")
    }

    @Test func onceFiredOrCancelledItCoversNothing() {
        var timer = EarliestDeadlineTimer()
        let start = self.loop.now
        timer.cover(start + .seconds(1), on: self.loop, fire: self.fire("first"))
        timer.fired()
        #expect(!timer.covers(start + .seconds(2)))
        timer.cover(start + .seconds(2), on: self.loop, fire: self.fire("second"))
        timer.cancel()
        #expect(!timer.covers(start + .seconds(3)))
        self.loop.advanceTime(by: .seconds(5))
        #expect(self.fired.withLockedValue { $0 } == ["first"])
    }
}
