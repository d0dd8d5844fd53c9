import ConcordProtocol
import NIOCore
import NIOEmbedded
import Testing

/// Flushes asked for on an event loop wait for the read under way there to end, or for one task
/// of the loop. On an embedded loop, whose tasks run only when the test runs them.
@Suite("Flushes waiting for a read's end")
struct LoopFlushesTests {
    /// A connection that notes its flush in the test's log, then does `then`.
    final class Connection: LoopFlushes.Flushing {
        let name: String
        let log: Log
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
    let log = Log()
    var flushes: LoopFlushes { LoopFlushes.of(self.loop) }

    /// A connection named `name`, its flush asked for.
    @discardableResult
    func ask(_ name: String, busy: Bool) -> Connection {
        let connection = Connection(name, log: self.log)
        self.flushes.add(connection, busy: busy)
        return connection
    }

    @Test func oneLoopHasOneSetOfFlushes() {
        #expect(LoopFlushes.of(self.loop) === LoopFlushes.of(self.loop))
        #expect(LoopFlushes.of(self.loop) !== LoopFlushes.of(EmbeddedEventLoop()))
    }

    @Test func aFlushAskedForDuringAReadWaitsForTheReadsEnd() {
        self.flushes.readBegins()
        self.ask("replica", busy: false)
        self.ask("caller", busy: false)
        self.loop.run()
        #expect(self.log.entries.isEmpty, "no task was asked for")
        self.flushes.readEnds()
        #expect(Set(self.log.entries) == ["replica", "caller"] && self.log.entries.count == 2)
        self.flushes.readEnds()
        #expect(self.log.entries.count == 2, "each flush runs once")
    }

    /// A connection busy with more than the line just written (fifty callers on one replica
    /// connection) waits for the tick's end, so what every read of the tick writes to it leaves
    /// in one write; one with a single call under way leaves at the read's end.
    @Test func aBusyConnectionWaitsForTheTicksEnd() {
        self.flushes.readBegins()
        self.ask("replica", busy: true)
        self.ask("caller", busy: false)
        self.flushes.readEnds()
        #expect(self.log.entries == ["caller"])
        self.flushes.readBegins()
        self.flushes.readEnds()
        #expect(self.log.entries == ["caller"], "another read's end is not the tick's")
        self.loop.run()
        #expect(self.log.entries == ["caller", "replica"])
    }

    /// With nothing reading, every flush waits for the loop's next task, busy or not; one task
    /// runs them all.
    @Test func withNothingReadingOneTaskRunsEveryFlushAskedFor() {
        self.ask("a", busy: false)
        self.ask("b", busy: true)
        #expect(self.log.entries.isEmpty)
        self.loop.run()
        #expect(self.log.entries.sorted() == ["a", "b"])
        self.ask("c", busy: false)
        self.loop.run()
        #expect(self.log.entries.count == 3 && self.log.entries.last == "c")
    }

    /// A flush that asks for another (a write it causes) once the read has ended has it run
    /// by the tick's task; one asked for during the tick's task runs in the same pass.
    @Test func aFlushThatAsksForAnotherHasItRunByTheTicksEnd() {
        let second = Connection("second", log: self.log)
        let flushes = self.flushes
        self.flushes.readBegins()
        self.ask("first", busy: false).then = { flushes.add(second, busy: false) }
        self.flushes.readEnds()
        #expect(self.log.entries == ["first"])
        self.loop.run()
        #expect(self.log.entries == ["first", "second"])

        let fourth = Connection("fourth", log: self.log)
        self.ask("third", busy: true).then = { flushes.add(fourth, busy: true) }
        self.loop.run()
        #expect(self.log.entries == ["first", "second", "third", "fourth"])
    }

    /// A flush can close its connection, whose handler then ends its read burst again
    /// (`channelInactive` inside `channelReadComplete`'s flush). That second end does nothing:
    /// the burst is already off, and no flush runs twice. With the burst a struct in the
    /// handler, this stopped a debug build with an access conflict (CI at db7eb27).
    @Test func aFlushThatClosesItsConnectionEndsTheBurstOnlyOnce() {
        final class Handler: LoopFlushes.Flushing {
            let burst = ReadBurst()
            var flushed = 0
            func flushWaiting() {
                self.flushed += 1
                self.burst.end()
            }
        }
        let handler = Handler()
        handler.burst.join(self.loop)
        handler.burst.read()
        #expect(handler.burst.isOn)
        handler.burst.flushLater(handler, busy: false)
        handler.burst.end()
        #expect(handler.flushed == 1)
        #expect(!handler.burst.isOn)
        self.loop.run()
        #expect(handler.flushed == 1, "ended twice, flushed once")
    }
}
