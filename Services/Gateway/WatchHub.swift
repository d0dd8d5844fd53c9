import ConcordPool
import ConcordProtocol
import ConcordWire
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import NIOConcurrencyHelpers
import NIOCore
import ServiceLifecycle

/// The gateway's followers of the change feeds: one per service, however many watch. A
/// follower long-polls `SERVICE.changes {wait}`, which answers as soon as a write commits, and
/// hands each change to every watcher that wants it; a watcher's own queue is bounded, and a
/// watcher that does not keep up ends with `resync` (`Watcher`). So a change costs the service
/// one read however many watch, and reaches every watcher within a round trip of its commit.
///
/// A follower starts when its first watcher joins and stops when its last one leaves. As a
/// `Service`, the hub stops every follower at shutdown.
final class WatchHub: Service, Sendable {
    let feeds: [String: Feed]

    init(pools: [String: ServicePool]) {
        self.feeds = Dictionary(uniqueKeysWithValues: pools.map { ($0.key, Feed(service: $0.key, pool: $0.value)) })
    }

    func run() async throws {
        try? await gracefulShutdown()
        for feed in self.feeds.values { feed.stop() }
    }
}

/// One service's follower, the watchers it hands changes to, and the changes it handed out
/// last, for a watcher that joins a little behind it.
final class Feed: Sendable {
    let service: String
    let pool: ServicePool
    /// Changes kept for watchers that join behind the follower.
    static let remembered = 1_024
    /// Changes asked for at a time.
    static let page = 500
    /// How long the service holds a follower's question when nothing has changed.
    static let wait = 2_000

    private let state = NIOLockedValueBox(State())

    private struct State {
        var following: Task<Void, Never>?
        /// Every change up to here is handed out; `recent` holds those after `floor`.
        var position: Int64 = 0
        var floor: Int64 = 0
        var recent = CircularBuffer<Remembered>()
        var watchers: [ObjectIdentifier: Watcher] = [:]
        /// The service could not be asked, and watchers were told.
        var unavailable = false
    }

    struct Remembered {
        var position: Int64
        var kind: String
        var encoded: [UInt8]
    }

    init(service: String, pool: ServicePool) {
        self.service = service
        self.pool = pool
    }

    /// Joins `watcher` from `position`: from then on, every change after it comes to the
    /// watcher in commit order. A watcher behind what the follower remembers reads the feed
    /// itself (as `actor`), as fast as it takes the changes, until it is not. Returns once it
    /// is joined or it ended; a watcher the follower lets go later joins again.
    func join(_ watcher: Watcher, from position: Int64, actor: (name: String, role: String)?, trace: String?) async throws {
        var from = position
        var toldUnavailable = false
        while true {
            let joined = self.state.withLockedValue { state -> Bool in
                if state.following == nil {
                    state.position = from
                    state.floor = from
                    state.recent.removeAll()
                    state.unavailable = false
                    state.watchers[ObjectIdentifier(watcher)] = watcher
                    // On one of the pool's loops: an answer of the service resumes the follower
                    // there, and a watcher on that loop is written to without a thread hop.
                    let loop = EventLoopTaskExecutor(eventLoop: self.pool.eventLoopGroup.next())
                    state.following = Task(executorPreference: loop) { await self.follow() }
                    return true
                }
                guard from >= state.floor else { return false }
                for change in state.recent where change.position > from {
                    guard watcher.push(service: self.service, position: change.position, kind: change.kind, encoded: change.encoded) else { return true }
                }
                watcher.advance(service: self.service, to: state.position)
                state.watchers[ObjectIdentifier(watcher)] = watcher
                return true
            }
            if joined { return }
            // Further behind than the follower remembers: the history, a page at a time, as
            // fast as the watcher takes it.
            let size = min(Self.page, watcher.queue / 2)
            guard await watcher.room(for: size) else { return }
            var ask = #"{"limit":\#(size),"after":"\#(self.service):\#(from)""#
            if let kinds = watcher.kinds[self.service] ?? nil {
                ask += #","kinds":["# + kinds.sorted().map { "\"\($0)\"" }.joined(separator: ",") + "]"
            }
            let page: ChangesPage
            do {
                page = try await self.changes(ask + "}", metadata: Metadata(trace: trace), actor: actor)
            } catch {
                if error.code == .badRequest || Task.isCancelled { throw error }
                if !toldUnavailable {
                    toldUnavailable = true
                    guard watcher.unavailable(service: self.service, message: error.message) else { return }
                }
                try await Task.sleep(for: .milliseconds(200))
                continue
            }
            for change in page.items {
                guard let position = FeedCursor(parsing: change.cursor)?.position else { continue }
                guard watcher.push(service: self.service, position: position, kind: change.kind, encoded: try Self.encode(change)) else { return }
            }
            from = FeedCursor(parsing: page.cursor)?.position ?? from
            watcher.advance(service: self.service, to: from)
            if Task.isCancelled { return }
        }
    }

    func leave(_ watcher: Watcher) {
        _ = self.state.withLockedValue { $0.watchers.removeValue(forKey: ObjectIdentifier(watcher)) }
    }

    func stop() {
        let following = self.state.withLockedValue { state in
            defer { state.following = nil }
            return state.following
        }
        following?.cancel()
    }

    /// The follower: asks the service for what came after its position, waiting for a commit
    /// when nothing has, and hands out each change; until its last watcher leaves.
    private func follow() async {
        while !Task.isCancelled {
            let position = self.state.withLockedValue { state -> Int64? in
                if state.watchers.isEmpty {
                    state.following = nil
                    return nil
                }
                return state.position
            }
            guard let position else { return }
            let page: ChangesPage
            do {
                page = try await self.changes(#"{"limit":\#(Self.page),"wait":\#(Self.wait),"after":"\#(self.service):\#(position)"}"#)
            } catch {
                if Task.isCancelled { break }
                if error.code == .badRequest {
                    // The service refuses the position itself (its store was replaced): asking
                    // again will not change that, and every watcher has to start again.
                    let watchers = self.state.withLockedValue { state in
                        defer {
                            state.watchers = [:]
                            state.following = nil
                        }
                        return state.watchers.values
                    }
                    for watcher in watchers { watcher.fail(error) }
                    return
                }
                let watchers = self.state.withLockedValue { state -> [Watcher] in
                    guard !state.unavailable else { return [] }
                    state.unavailable = true
                    return Array(state.watchers.values)
                }
                for watcher in watchers where !watcher.unavailable(service: self.service, message: error.message) { self.leave(watcher) }
                try? await Task.sleep(for: .milliseconds(200))
                continue
            }
            // Encoded once, whoever watches.
            var changes: [Remembered] = []
            for change in page.items {
                guard let position = FeedCursor(parsing: change.cursor)?.position, let encoded = try? Self.encode(change) else { continue }
                changes.append(Remembered(position: position, kind: change.kind, encoded: encoded))
            }
            let resume = FeedCursor(parsing: page.cursor)?.position ?? position
            self.state.withLockedValue { state in
                state.unavailable = false
                for change in changes {
                    state.recent.append(change)
                    if state.recent.count > Self.remembered, let oldest = state.recent.popFirst() { state.floor = oldest.position }
                    for (id, watcher) in state.watchers where watcher.wants(service: self.service, kind: change.kind) {
                        if !watcher.push(service: self.service, position: change.position, kind: change.kind, encoded: change.encoded) {
                            state.watchers[id] = nil
                        }
                    }
                }
                state.position = max(state.position, resume)
                for watcher in state.watchers.values { watcher.advance(service: self.service, to: state.position) }
            }
        }
        self.state.withLockedValue { $0.following = nil }
    }

    /// One question to the service's feed.
    private func changes(
        _ ask: String, metadata: Metadata = Metadata(), actor: (name: String, role: String)? = nil
    ) async throws(ConcordError) -> ChangesPage {
        let answer = try await self.pool.call("\(self.service).changes", body: ByteBuffer(string: ask), metadata: metadata, actor: actor, deadline: .seconds(15))
        do {
            return try JSONBody.decode(ChangesPage.self, from: answer)
        } catch {
            throw ConcordError(.internal, "\(self.service).changes answered what is not a page of changes: \(error)")
        }
    }

    static func encode(_ change: Change) throws -> [UInt8] {
        try change.sortedJSON() ?? Array(Self.sorted(change))
    }

    /// A watch's lines with their keys in order, so they read the same every time.
    static func sorted(_ value: some Encodable) throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return try encoder.encode(value)
    }
}

/// One `watch` call's side of the hub: the kinds it wants of each service, where it stands,
/// and its queue of event lines, bounded. A push that finds the queue full detaches the watch
/// from that service's follower (its cursor stays at the last change queued), and the watch
/// joins again from there, reading the history at its own pace until it has caught up: a
/// burst costs a fast reader nothing but a detour, and memory stays bounded. Only a reader
/// that stops reading ends with `resync` (the stream writer's patience).
final class Watcher: Sendable {
    /// Per service followed, the kinds wanted (nil: all).
    let kinds: [String: Set<String>?]
    let queue: Int
    let events: AsyncStream<Event>
    private let continuation: AsyncStream<Event>.Continuation
    private let state: NIOLockedValueBox<State>

    struct Event: Sendable {
        var line: ByteBuffer
        /// Where the watch stands once this event is seen.
        var cursor: String
    }

    private struct State {
        var cursor: WatchCursor
        var failure: ConcordError?
        var ended = false
        /// Events queued and not yet taken by the writer.
        var pending = 0
        /// Services whose follower let this watch go, to join again.
        var detached: [String] = []
        var detachedWaiter: CheckedContinuation<String?, Never>?
        /// A catch-up waiting for room in the queue: how much, and its continuation.
        var roomWaiter: (count: Int, continuation: CheckedContinuation<Bool, Never>)?
    }

    init(kinds: [String: Set<String>?], from cursor: WatchCursor, queue: Int) {
        self.kinds = kinds
        self.queue = queue
        (self.events, self.continuation) = AsyncStream.makeStream(of: Event.self, bufferingPolicy: .bufferingOldest(queue))
        self.state = NIOLockedValueBox(State(cursor: cursor))
    }

    var cursor: WatchCursor { self.state.withLockedValue { $0.cursor } }
    var failure: ConcordError? { self.state.withLockedValue { $0.failure } }

    func wants(service: String, kind: String) -> Bool {
        guard let wanted = self.kinds[service] else { return false }
        return wanted?.contains(kind) ?? true
    }

    /// Queues a change (JSON, `encoded`) at `position` of `service`'s feed, unless the watch is
    /// already past it or does not want its kind. False when the watch takes no more from this
    /// follower: its queue was full (it is detached, to join again), or it ended.
    func push(service: String, position: Int64, kind: String, encoded: [UInt8]) -> Bool {
        let (taken, waiter) = self.state.withLockedValue { state -> (Bool, CheckedContinuation<String?, Never>?) in
            guard !state.ended else { return (false, nil) }
            guard position > state.cursor.positions[service] ?? 0, self.wants(service: service, kind: kind) else { return (true, nil) }
            var cursor = state.cursor
            cursor.positions[service] = position
            let text = cursor.description
            var line = ByteBuffer()
            line.reserveCapacity(encoded.count + text.utf8.count + 40)
            line.writeString(#"{"change":"#)
            line.writeBytes(encoded)
            line.writeString(#","cursor":""#)
            line.writeString(text)
            line.writeString(#"","type":"change"}"#)
            guard !self.enqueue(Event(line: line, cursor: text), in: &state) else {
                state.cursor = cursor
                return (true, nil)
            }
            state.detached.append(service)
            defer { state.detachedWaiter = nil }
            return (false, state.detachedWaiter)
        }
        waiter?.resume(returning: service)
        return taken
    }

    /// Says that `service` cannot be asked now (the watch goes on and misses nothing).
    func unavailable(service: String, message: String) -> Bool {
        self.state.withLockedValue { state in
            guard !state.ended else { return false }
            let event = WatchEvent(type: "unavailable", service: service, message: message, cursor: state.cursor.description)
            guard let line = try? ByteBuffer(bytes: Feed.sorted(event)) else { return true }
            _ = self.enqueue(Event(line: line, cursor: state.cursor.description), in: &state)
            return true
        }
    }

    private func enqueue(_ event: Event, in state: inout State) -> Bool {
        guard state.pending < self.queue, case .enqueued = self.continuation.yield(event) else { return false }
        state.pending += 1
        return true
    }

    /// The writer took an event off the queue.
    func taken() {
        let waiter = self.state.withLockedValue { state -> CheckedContinuation<Bool, Never>? in
            state.pending -= 1
            guard let waiter = state.roomWaiter, state.pending + waiter.count <= self.queue else { return nil }
            state.roomWaiter = nil
            return waiter.continuation
        }
        waiter?.resume(returning: true)
    }

    /// Waits until `count` more events fit in the queue; false when the watch ended.
    func room(for count: Int) async -> Bool {
        await withCheckedContinuation { continuation in
            let now = self.state.withLockedValue { state -> Bool? in
                if state.ended { return false }
                if state.pending + count <= self.queue { return true }
                state.roomWaiter = (count, continuation)
                return nil
            }
            if let now { continuation.resume(returning: now) }
        }
    }

    /// The next service to join again, once its follower let this watch go; nil when the
    /// watch ended.
    func nextDetached() async -> String? {
        await withCheckedContinuation { continuation in
            let now = self.state.withLockedValue { state -> String?? in
                if state.ended { return .some(nil) }
                if !state.detached.isEmpty { return .some(state.detached.removeFirst()) }
                state.detachedWaiter = continuation
                return nil
            }
            if let now { continuation.resume(returning: now) }
        }
    }

    /// Every change of `service` up to `position` is queued or not wanted.
    func advance(service: String, to position: Int64) {
        self.state.withLockedValue { state in
            guard !state.ended, position > state.cursor.positions[service] ?? 0 else { return }
            state.cursor.positions[service] = position
        }
    }

    /// Ends the watch with `error`, once what is queued is sent.
    func fail(_ error: ConcordError) {
        self.state.withLockedValue { state in
            if !state.ended { state.failure = error }
        }
        self.finish()
    }

    /// The watch is over: nothing more is queued, and nobody waits to queue.
    func finish() {
        let (detached, room) = self.state.withLockedValue { state in
            state.ended = true
            defer {
                state.detachedWaiter = nil
                state.roomWaiter = nil
            }
            return (state.detachedWaiter, state.roomWaiter?.continuation)
        }
        detached?.resume(returning: nil)
        room?.resume(returning: false)
        self.continuation.finish()
    }
}
