import ConcordPool
import CoreMetrics
import Logging
import ConcordProtocol
import ConcordServer
import ConcordWire
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import NIOCore

/// `watch {services?, kinds?, after?, from?}`: a stream of the committed changes of the data services,
/// one `ID more {"type":"change",...}` line each, until the caller cancels or disconnects
/// (docs/protocol.md, "Streams"). Without `after` it starts from now (`from: "start"`: from the
/// beginning of every feed). The gateway's hub follows each service's feed once for every watch
/// (`WatchHub`) and queues each change for the watches that want it, in commit order per service.
///
/// Memory per watch is bounded twice: at most `queue` events wait for it in the gateway, and
/// when the caller has not read what was sent for `patience` (the connection's outbound buffer
/// is over its high mark), the watch ends with `resync` and the cursor to resume from, rather
/// than keep more for a reader that does not read.
struct Watches: Sendable {
    let pools: [String: ServicePool]
    let hub: WatchHub
    let authority: TokenAuthority?
    /// How long a watcher may leave sent events unread before the watch ends with `resync`.
    var patience: Duration = .seconds(5)
    /// Events queued for a watcher that has not taken them yet; when a burst fills them, the
    /// watcher reads the rest from the feed's history at its own pace.
    var queue = 512

    private struct Followed {
        var service: String
        var pool: ServicePool
        var kinds: [String]?
    }

    func watch(_ request: Request, context: RequestContext, writer: StreamWriter) async throws -> ByteBuffer {
        let body = try RecordlessBody(request.body)
        try body.checkFields(["services", "kinds", "after", "from"])
        let services = try body.strings("services") ?? self.pools.keys.sorted()
        for (index, service) in services.enumerated() where self.pools[service] == nil {
            let routed = self.pools.keys.sorted()
            throw ConcordError(
                .badRequest, "services[\(index)]: no service '\(service)' behind this gateway; it routes \(routed.joined(separator: ", "))",
                field: "body.services[\(index)]", rule: .oneOf(allowed: routed, got: service)
            )
        }
        var actor: (name: String, role: String)?
        var permitted: [String] = []
        var refusal: ConcordError?
        for service in services {
            guard let authority else {
                permitted.append(service)
                continue
            }
            do {
                let grant = try authority.authorize(token: request.metadata.auth, verb: Substring("\(service).changes"), needs: .reader, for: context)
                actor = (grant.metadataName, grant.role.description)
                permitted.append(service)
            } catch {
                if error.code == .unauthorized { throw error }
                refusal = error
            }
        }
        guard !permitted.isEmpty else {
            throw ConcordError(.forbidden, "this token may watch none of \(services.joined(separator: ", ")): \(refusal?.message ?? "no service to watch")", field: "metadata.auth")
        }
        var followed = permitted.map { Followed(service: $0, pool: self.pools[$0]!, kinds: nil) }
        if let kinds = try body.strings("kinds") {
            // A kind is a service's when it lists its records (`SERVICE.KIND.list`).
            for entry in followed where !entry.pool.knowsVerbs {
                await withCheckedContinuation { continuation in entry.pool.whenVerbsKnown { continuation.resume() } }
            }
            let kept = followed.map { Set(Self.kinds(kept: $0)) }
            for (index, kind) in kinds.enumerated() where !kept.contains(where: { $0.contains(kind) }) {
                let all = kept.reduce(into: Set<String>()) { $0.formUnion($1) }.sorted()
                throw ConcordError(
                    .badRequest, "kinds[\(index)]: no watched service keeps '\(kind)' records; they keep \(all.joined(separator: ", "))",
                    field: "body.kinds[\(index)]", rule: .oneOf(allowed: all, got: kind)
                )
            }
            followed = zip(followed, kept).compactMap { entry, kept in
                let own = kinds.filter(kept.contains)
                return own.isEmpty ? nil : Followed(service: entry.service, pool: entry.pool, kinds: own)
            }
        }
        var cursor = WatchCursor()
        if let text = try body.string("after") {
            guard let given = WatchCursor(parsing: text) else {
                throw ConcordError(
                    .badRequest, "after must be the cursor of a watch event, like participants:12,agreements:40; got '\(text)'",
                    field: "body.after", rule: .form(.watchCursor, got: text)
                )
            }
            for service in given.positions.keys where !followed.contains(where: { $0.service == service }) {
                let services = followed.map(\.service)
                throw ConcordError(
                    .badRequest, "after names \(service), which this watch does not follow (\(services.joined(separator: ", ")))",
                    field: "body.after", rule: .oneOf(allowed: services, got: service)
                )
            }
            cursor = given
        } else {
            switch try body.string("from") ?? "now" {
            case "start":
                break
            case "now":
                // Each feed from where it ends now: only what is committed from here on.
                for entry in followed {
                    let answer = try await entry.pool.call(
                        "\(entry.service).changes", body: ByteBuffer(string: #"{"tail":true}"#), actor: actor, deadline: .seconds(5)
                    )
                    if let end = FeedCursor(parsing: try JSONBody.decode(ChangesPage.self, from: answer).cursor) {
                        cursor.positions[entry.service] = end.position
                    }
                }
            case let other:
                throw ConcordError(
                    .badRequest, "from must be now (the default) or start, got '\(other)'", field: "body.from", rule: .oneOf(allowed: ["now", "start"], got: other)
                )
            }
        }
        return try await self.follow(followed, from: cursor, actor: actor, trace: request.metadata.trace, writer: writer, logger: context.logger)
    }

    /// The kinds of record `entry`'s service keeps: those it lists (`SERVICE.KIND.list`).
    private static func kinds(kept entry: Followed) -> [String] {
        entry.pool.declaredVerbs.compactMap { verb in
            let parts = verb.split(separator: ".")
            guard parts.count == 3, parts[0] == entry.service, parts[2] == "list" else { return nil }
            return String(parts[1])
        }
    }

    /// Watches open at this gateway, as a metric.
    private static let watching = Meter(label: "concord_gateway_watchers")

    /// Joins the hub's feeds from `start` and sends what they queue for this watch, until the
    /// caller cancels, disconnects or reads too slowly.
    private func follow(
        _ followed: [Followed], from start: WatchCursor, actor: (name: String, role: String)?, trace: String?, writer: StreamWriter,
        logger: Logger
    ) async throws -> ByteBuffer {
        Self.watching.increment()
        defer { Self.watching.decrement() }
        var kinds: [String: Set<String>?] = [:]
        for entry in followed { kinds.updateValue(entry.kinds.map(Set.init), forKey: entry.service) }
        let watcher = Watcher(kinds: kinds, from: start, queue: self.queue)
        // Where the watch starts, first: a watcher whose connection drops before any change
        // resumes from here, not from a later "now".
        var sent = start.description
        func end(_ reason: String, resync: Bool = false, at cursor: String? = nil) throws -> ByteBuffer {
            ByteBuffer(bytes: try Feed.sorted(WatchEnd(cursor: cursor ?? sent, resync: resync, reason: reason)))
        }
        if await writer.send(ByteBuffer(bytes: try Feed.sorted(WatchEvent(type: "start", cursor: sent))), patience: self.patience) != .sent { return try end("closed") }
        let feeds = followed.compactMap { self.hub.feeds[$0.service] }
        defer { for feed in feeds { feed.leave(watcher) } }
        return try await withThrowingTaskGroup(of: Void.self) { group in
            // Joins every feed, then joins again each one whose follower let it go.
            group.addTask {
                do {
                    for feed in feeds {
                        try await feed.join(watcher, from: start.positions[feed.service] ?? 0, actor: actor, trace: trace)
                    }
                    while let service = await watcher.nextDetached(), let feed = self.hub.feeds[service] {
                        try await feed.join(watcher, from: watcher.cursor.positions[service] ?? 0, actor: actor, trace: trace)
                    }
                } catch let error as ConcordError {
                    watcher.fail(error)
                } catch {
                    watcher.finish()
                }
            }
            defer {
                watcher.finish()
                group.cancelAll()
            }
            for await event in watcher.events {
                watcher.taken()
                switch await writer.send(event.line, patience: self.patience) {
                case .sent:
                    sent = event.cursor
                case .slow:
                    // Written, but nothing more will be.
                    sent = event.cursor
                    logger.info("watch ended: the watcher did not read its events for \(self.patience); told to resync from \(sent)")
                    return try end("the watcher did not read its events for \(self.patience); resume from the cursor", resync: true)
                case .closed:
                    return try end("closed")
                }
            }
            if let failure = watcher.failure { throw failure }
            return try end("cancelled")
        }
    }
}

/// A request body as a JSON object, read field by field with errors that name the field.
private struct RecordlessBody {
    let object: [String: JSONValue]

    init(_ body: ByteBuffer) throws(ConcordError) {
        guard let value = try? JSONBody.decode(JSONValue.self, from: body) else {
            throw ConcordError(.badRequest, "body is not JSON", field: "body", rule: .json)
        }
        guard case .object(let object) = value else {
            throw ConcordError(.badRequest, "body must be a JSON object", field: "body", rule: .type(expected: .object))
        }
        self.object = object
    }

    func checkFields(_ allowed: Set<String>) throws(ConcordError) {
        if let unknown = self.object.keys.sorted().first(where: { !allowed.contains($0) }) {
            throw ConcordError(
                .badRequest, "unknown field '\(unknown)'; watch takes \(allowed.sorted().joined(separator: ", "))", field: "body.\(unknown)",
                rule: .unknownField(allowed: allowed.sorted())
            )
        }
    }

    func string(_ field: String) throws(ConcordError) -> String? {
        switch self.object[field] {
        case nil, .null?: return nil
        case .string(let text)?: return text
        default: throw ConcordError(.badRequest, "\(field) must be a string", field: "body.\(field)", rule: .type(expected: .string))
        }
    }

    func strings(_ field: String) throws(ConcordError) -> [String]? {
        switch self.object[field] {
        case nil, .null?: return nil
        case .array(let values)?:
            return try values.enumerated().map { index, value throws(ConcordError) in
                guard case .string(let text) = value else {
                    throw ConcordError(.badRequest, "\(field)[\(index)] must be a string", field: "body.\(field)[\(index)]", rule: .type(expected: .string))
                }
                return text
            }
        default: throw ConcordError(.badRequest, "\(field) must be a list of strings", field: "body.\(field)", rule: .type(expected: .array))
        }
    }
}
