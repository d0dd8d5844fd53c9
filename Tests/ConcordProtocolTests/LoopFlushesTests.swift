import ConcordProtocol
import NIOCore
import NIOEmbedded
import Testing

/// Flushes asked for on an event loop wait for the read under way there to end, or, with none,
/// for one task of the loop. On an embedded loop, whose tasks run only when the test runs them.
@Suite("Flushes waiting for a read's end")
struct LoopFlushesTests {
    final class Connection: LoopFlushes.Flushing {
        let name: String
        var log: Log
        var then: (() -> Void)?

        init(_ name: String, log: Log) {
            self.name = name
            self.log = log
        }

        func flushWaiting() {
            self.log.entries.append(self.name)
            self.then?()
        }
    }

    final class Log {
        var entries: [String] = []
    }

    let loop = EmbeddedEventLoop()

    @Test func oneLoopHasOneSetOfFlushes() {
        #expect(LoopFlushes.of(self.loop) === LoopFlushes.of(self.loop))
        #expect(LoopFlushes.of(self.loop) !== LoopFlushes.of(EmbeddedEventLoop()))
    }

    @Test func aFlushAskedForDuringAReadWaitsForTheReadsEnd() {
        let flushes = LoopFlushes.of(self.loop)
        let log = Log()
        flushes.readBegins()
        flushes.add(Connection("replica", log: log))
        flushes.add(Connection("caller", log: log))
        self.loop.run()
        #expect(log.entries.isEmpty, "no task was asked for")
        flushes.readEnds()
        #expect(Set(log.entries) == ["replica", "caller"] && log.entries.count == 2)
        flushes.readEnds()
        #expect(log.entries.count == 2, "each flush runs once")
    }

    @Test func withNothingReadingOneTaskRunsEveryFlushAskedFor() {
        let flushes = LoopFlushes.of(self.loop)
        let log = Log()
        flushes.add(Connection("a", log: log))
        flushes.add(Connection("b", log: log))
        #expect(log.entries.isEmpty)
        self.loop.run()
        #expect(log.entries.sorted() == ["a", "b"])
        // A read that begins and ends before the task runs takes the flush with it; the task
        // then finds nothing left.
        flushes.add(Connection("c", log: log))
        flushes.readBegins()
        flushes.readEnds()
        #expect(log.entries.last == "c")
        self.loop.run()
        #expect(log.entries.count == 3)
    }

    @Test func aFlushThatAsksForAnotherHasItRunInTheSamePass() {
        let flushes = LoopFlushes.of(self.loop)
        let log = Log()
        let first = Connection("first", log: log)
        let second = Connection("second", log: log)
        first.then = { flushes.add(second) }
        flushes.readBegins()
        flushes.add(first)
        flushes.readEnds()
        #expect(log.entries == ["first", "second"])
    }
}
