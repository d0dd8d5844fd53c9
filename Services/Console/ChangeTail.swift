import ConcordProtocol
import ConcordWire
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Logging
import NIOConcurrencyHelpers
import NIOCore
import ServiceLifecycle

/// The latest committed changes of every service, kept as the console follows the gateway's
/// `watch`: the overview shows what changed recently without asking three services on every
/// page. A watch needs only the reader role, which every signed-in person has, so one follower,
/// as the console itself, serves them all and shows nobody more than they could read.
///
/// It knows the changes only while it follows: it starts the watch, then reads each service's
/// latest changes (a change that comes both ways is kept once), and from then on adds what the
/// watch brings. While it is not following (starting, or the gateway is away) `latest` is nil
/// and the overview asks the services itself.
final class ChangeTail: Service, Sendable {
    let gateway: Gateway
    let logger: Logger
    /// Changes the overview shows.
    static let kept = 10
    private let state = NIOLockedValueBox<(following: Bool, changes: LatestChanges)>((false, LatestChanges(kept: ChangeTail.kept)))

    init(gateway: Gateway, logger: Logger) {
        self.gateway = gateway
        self.logger = logger
    }

    /// The latest changes, newest first, or nil while the console is not following the feed.
    var latest: [Overview.Change]? {
        self.state.withLockedValue { $0.following ? $0.changes.items : nil }
    }

    func run() async throws {
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                await self.follow()
                self.state.withLockedValue { $0.following = false }
                try? await Task.sleep(for: .seconds(1))
            }
        }
    }

    private enum Event: Sendable {
        case start
        case change(Overview.Change)
    }

    /// One watch, until it ends: the events go through a stream, so the latest changes are read
    /// once the watch has started, and nothing the watch brings meanwhile is lost.
    private func follow() async {
        let (events, continuation) = AsyncStream.makeStream(of: Event.self)
        let metadata = Metadata(auth: self.gateway.token)
        let client = self.gateway.client
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                defer { continuation.finish() }
                do {
                    _ = try await client.stream("watch", body: ByteBuffer(string: "{}"), metadata: metadata) { buffer in
                        guard let item = try? JSONDecoder().decode(WatchEvent.self, from: Data(buffer: buffer)) else { return }
                        switch item.type {
                        case "start": continuation.yield(.start)
                        case "change": if let change = item.change { continuation.yield(.change(change)) }
                        default: break
                        }
                    }
                } catch {
                    self.logger.debug("the console's watch ended", metadata: ["error": "\(error)"])
                }
            }
            for await event in events {
                switch event {
                case .start:
                    guard case .success(let known) = await self.latestOfEveryService() else {
                        group.cancelAll()
                        return
                    }
                    self.state.withLockedValue {
                        $0.changes = LatestChanges(kept: Self.kept)
                        $0.changes.add(known)
                        $0.following = true
                    }
                case .change(let change):
                    self.state.withLockedValue { $0.changes.add([change]) }
                }
            }
        }
    }

    /// Each service's latest changes, asked at once (as `person`, or as the console), newest
    /// first; the first refusal when one cannot be asked.
    func latestOfEveryService(person: SessionCookie? = nil) async -> Result<[Overview.Change], ConcordError> {
        let gateway = self.gateway
        let answers = await withTaskGroup(of: Result<[Overview.Change], ConcordError>.self) { group in
            for service in ["agreements", "participants", "trade"] {
                group.addTask {
                    await gateway.call("\(service).changes", #"{"last":\#(Self.kept)}"#, as: ChangesPage.self, person: person).map(\.items)
                }
            }
            return await group.reduce(into: []) { $0.append($1) }
        }
        var changes = LatestChanges(kept: Self.kept)
        for answer in answers {
            switch answer {
            case .success(let items): changes.add(items)
            case .failure(let error): return .failure(error)
            }
        }
        return .success(changes.items)
    }
}

/// The newest `kept` changes of several feeds, newest first, each once (by its cursor).
struct LatestChanges: Sendable {
    let kept: Int
    private(set) var items: [Overview.Change] = []

    init(kept: Int) {
        self.kept = kept
    }

    mutating func add(_ changes: [Overview.Change]) {
        let known = Set(self.items.map(\.cursor))
        let fresh = changes.filter { !known.contains($0.cursor) }
        guard !fresh.isEmpty else { return }
        self.items = Array((self.items + fresh).sorted { ($0.at, $0.cursor) > ($1.at, $1.cursor) }.prefix(self.kept))
    }
}
