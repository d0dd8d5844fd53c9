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
        flushes.add(Connection("replica", log: log), busy: false)
        flushes.add(Connection("caller", log: log), busy: false)
        self.loop.run()
        #expect(log.entries.isEmpty, "no task was asked for")
        flushes.readEnds()
        #expect(Set(log.entries) == ["replica", "caller"] && log.entries.count == 2)
        flushes.readEnds()
        #expect(log.entries.count == 2, "each flush runs once")
    }

    /// A connection busy with more than the line just written (fifty callers on one replica
    /// connection) waits for the tick's end, so what every read of the tick writes to it leaves
    /// in one write; one with a single call under way leaves at the read's end.
    @Test func aBusyConnectionWaitsForTheTicksEnd() {
        let flushes = LoopFlushes.of(self.loop)
        let log = Log()
        flushes.readBegins()
        flushes.add(Connection("replica", log: log), busy: true)
        flushes.add(Connection("caller", log: log), busy: false)
        flushes.readEnds()
        #expect(log.entries == ["caller"])
        flushes.readBegins()
        flushes.readEnds()
        #expect(log.entries == ["caller"], "another read's end is not the tick's")
        self.loop.run()
        #expect(log.entries == ["caller", "replica"])
    }

    @Test func withNothingReadingOneTaskRunsEveryFlushAskedFor() {
        let flushes = LoopFlushes.of(self.loop)
        let log = Log()
        flushes.add(Connection("a", log: log), busy: false)
        flushes.add(Connection("b", log: log), busy: true)
        #expect(log.entries.isEmpty)
        self.loop.run()
        #expect(log.entries.sorted() == ["a", "b"])
        // A read that begins and ends before the task runs takes the flush with it; the task
        // then finds nothing left.
        flushes.add(Connection("c", log: log), busy: false)
        self.loop.run()
        #expect(log.entries.count == 3 && log.entries.last == "c")
    }

    /// A flush that asks for another (a write it causes) once the read has ended has it run
    /// by the tick's task; one asked for during the tick's task runs in the same pass.
    @Test func aFlushThatAsksForAnotherHasItRunByTheTicksEnd() {
        let flushes = LoopFlushes.of(self.loop)
        let log = Log()
        let first = Connection("first", log: log)
        let second = Connection("second", log: log)
        first.then = { flushes.add(second, busy: false) }
        flushes.readBegins()
        flushes.add(first, busy: false)
        flushes.readEnds()
        #expect(log.entries == ["first"])
        self.loop.run()
        #expect(log.entries == ["first", "second"])

        let third = Connection("third", log: log)
        let fourth = Connection("fourth", log: log)
        third.then = { flushes.add(fourth, busy: true) }
        flushes.add(third, busy: true)
        self.loop.run()
        #expect(log.entries == ["first", "second", "third", "fourth"])
    }
}
