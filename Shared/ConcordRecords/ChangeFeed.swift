import ConcordProtocol
import ConcordStorage
import ConcordWire
import NIOConcurrencyHelpers
import NIOCore

/// The change feed: every audit entry gets a position when its transaction is about to commit,
/// and `SERVICE.changes` reads entries by position. docs/records.md, "The change feed", says
/// why a reader that asks again with the last cursor it saw gets every later change exactly
/// once, even with many replicas writing to one PostgreSQL.
///
/// The trap it avoids: a position taken from a sequence when a write starts can belong to a
/// transaction that commits after a later position has been read, so a reader that passed the
/// later one never sees it. Here a transaction takes its positions last, by incrementing the one
/// row of `feed_clock`: that row's lock is held until the transaction commits, so the next
/// writer's positions come only after this one's are committed and visible. Positions are in
/// commit order, and none can appear behind one a reader has seen. The cost: writers of one
/// service commit one at a time from that moment (docs/records.md has the figures).
enum ChangeFeed {
    /// Gives this transaction's audit entries their positions, in the order they were written.
    /// Only the transaction's own entries have none: others' are committed with theirs, or not
    /// visible to it (PostgreSQL's read committed; SQLite has one writer).
    /// Returns them, positioned.
    @discardableResult
    static func stamp(in session: any DatabaseSession, of database: any Database) async throws -> [FeedEntry] {
        // The clock moves on by this transaction's entries, and only when it has some: a
        // transaction without any locks nothing.
        let clock = try await session.query(
            """
            UPDATE feed_clock SET position = position + (SELECT COUNT(*) FROM audit WHERE position IS NULL)
            WHERE id = 1 AND EXISTS (SELECT 1 FROM audit WHERE position IS NULL) RETURNING position
            """
        )
        guard let last = try clock.first?.integer("position") else {
            // No entries, or no clock to number them by: the second would leave them out of
            // the feed for good.
            guard try await session.query("SELECT 1 AS pending FROM audit WHERE position IS NULL LIMIT 1").isEmpty else {
                throw StorageError(.corrupt, "feed_clock has no row; the change feed's migration did not run")
            }
            return []
        }
        // The entries' ids sort in the order they were written (time, then a random tail): the
        // last written takes the clock's new position, the one before it the position before.
        let stamped = try await session.query(
            """
            UPDATE audit SET position = $1 + 1 - ranked.n
            FROM (SELECT id, ROW_NUMBER() OVER (ORDER BY id DESC) AS n FROM audit WHERE position IS NULL) AS ranked
            WHERE audit.id = ranked.id
            RETURNING position, at, verb, operation, kind, record_key, version_before, version_after, trace_id, actor, actor_role
            """,
            [.integer(last)]
        )
        let entries = try stamped.map { row in try FeedEntry(position: try row.integer("position"), row: row) }.sorted { $0.position < $1.position }
        // Followers waiting in `changes {wait}` in other processes wake when this commits.
        try await database.announceCommit(in: session)
        return entries
    }
}

extension RecordSchema {
    /// Positions for the audit trail, and the clock that hands them out; entries already there
    /// are numbered in id order.
    public static let changeFeed = [
        "ALTER TABLE audit ADD COLUMN position BIGINT",
        """
        UPDATE audit SET position = ranked.n
        FROM (SELECT id, ROW_NUMBER() OVER (ORDER BY id) AS n FROM audit) AS ranked WHERE audit.id = ranked.id
        """,
        "CREATE UNIQUE INDEX audit_by_position ON audit (position)",
        "CREATE INDEX audit_unpositioned ON audit (id) WHERE position IS NULL",
        "CREATE TABLE feed_clock (id INTEGER PRIMARY KEY, position BIGINT NOT NULL)",
        "INSERT INTO feed_clock (id, position) SELECT 1, COALESCE(MAX(position), 0) FROM audit",
    ]
}

extension RecordStore {
    /// A write transaction whose audit entries join the change feed as it commits: every write
    /// of the store goes through here.
    func write<Result: Sendable>(_ work: @escaping @Sendable (any DatabaseSession) async throws -> Result) async throws -> Result {
        let database = self.database
        let recent = self.recentChanges
        let (result, _) = try await database.write { session in
            let result = try await work(session)
            return (result, try await ChangeFeed.stamp(in: session, of: database))
        } committed: { (_, entries: [FeedEntry]) in
            guard !entries.isEmpty else { return }
            // Committed: a follower waiting here takes them from memory, without a read.
            recent.add(entries)
            database.commits.committed()
        }
        return result
    }

    /// Like `changes`, but when nothing after `after` matches, waits up to `wait` for a commit
    /// that brings a match (a long poll: what a follower asks, so it hears of a change as soon
    /// as it commits without asking again and again).
    public func changes(service: String, after: Int64, kinds: [String]?, limit: Int, wait: Duration) async throws -> ChangesPage {
        let until = ContinuousClock.now + wait
        var after = after
        while true {
            let seen = self.database.commits.generation
            if let entries = self.recentChanges.after(after, limit: limit) {
                let items = entries.filter { kinds?.contains($0.kind) ?? true }.map { $0.change(of: service) }
                let resume = entries.last?.position ?? after
                if !items.isEmpty || Task.isCancelled {
                    return ChangesPage(items: items, cursor: FeedCursor(service: service, position: resume).description, more: entries.count == limit)
                }
                after = resume
            }
            let page = try await self.changes(service: service, after: after, kinds: kinds, limit: limit)
            let left = until - ContinuousClock.now
            if !page.items.isEmpty || page.more || left <= .zero || Task.isCancelled { return page }
            // Quiet for these kinds up to the page's cursor: wait from there.
            after = FeedCursor(parsing: page.cursor)?.position ?? after
            await self.database.commits.wait(since: seen, timeout: left)
        }
    }

    /// The last `count` committed changes (of `kinds` when given), oldest first, and the cursor
    /// of the feed's end: what a page that shows "what changed lately" asks, in one read.
    public func latest(service: String, kinds: [String]?, count: Int) async throws -> ChangesPage {
        let (top, rows) = try await self.readFeed(after: nil, kinds: kinds, limit: count, newestFirst: true)
        let items = try rows.map { row in try FeedEntry(position: try row.integer("position"), row: row).change(of: service) }
        return ChangesPage(items: items, cursor: FeedCursor(service: service, position: top ?? 0).description, more: false)
    }

    /// In one statement, so one snapshot: `top`, the last position committed when it ran, and
    /// at most `limit` entries after `after` (all when nil) of `kinds`, in position order; the
    /// last `limit` of them with `newestFirst`.
    private func readFeed(after: Int64?, kinds: [String]?, limit: Int, newestFirst: Bool) async throws -> (top: Int64?, rows: [SQLRow]) {
        var binds: [SQLValue] = []
        var condition = "position IS NOT NULL"
        if let after {
            binds.append(.integer(after))
            condition = "position > $1"
        }
        if let kinds, !kinds.isEmpty {
            let placeholders = kinds.map { kind in
                binds.append(.text(kind))
                return "$\(binds.count)"
            }
            condition += " AND kind IN (\(placeholders.joined(separator: ", ")))"
        }
        let sql = """
            SELECT clock.top, a.position, a.at, a.verb, a.operation, a.kind, a.record_key, a.version_before, a.version_after,
                a.trace_id, a.actor, a.actor_role
            FROM (SELECT MAX(position) AS top FROM audit) AS clock
            LEFT JOIN (SELECT * FROM audit WHERE \(condition) ORDER BY position\(newestFirst ? " DESC" : "") LIMIT \(limit)) AS a ON 1 = 1
            ORDER BY a.position
            """
        let final = binds
        let answer = try await self.database.read { session in try await session.query(sql, final) }
        let top = try answer.first.flatMap { $0["top"] == .null ? nil : try $0.integer("top") }
        return (top, answer.filter { $0["position"] != .null })
    }

    /// The committed changes after `after` (a position of this service's feed), of `kinds` when
    /// given, oldest first, at most `limit`.
    /// With `tail`, no change: only the cursor of the feed's end, where a follower that starts
    /// from now begins.
    public func changes(service: String, after: Int64, kinds: [String]?, limit: Int, tail: Bool = false) async throws -> ChangesPage {
        // One snapshot: `top` is where a reader may resume once it has every matching change up
        // to it. Without that, a filtered reader whose kinds are quiet would scan the same
        // entries again each time.
        let (read, rows) = try await self.readFeed(after: after, kinds: kinds, limit: limit + 1, newestFirst: false)
        let top = read ?? after
        if after > top {
            // A cursor this store never gave out: from another deployment, or the store was
            // restored from an older backup. Resuming from it would silently skip changes.
            throw RecordError(
                .pastTheEnd,
                "after \(FeedCursor(service: service, position: after)) is past the end of \(service)'s feed (\(FeedCursor(service: service, position: top))); was the store replaced? Start again without after",
                field: "after"
            )
        }
        let items = try rows.prefix(limit).map { row in
            try FeedEntry(position: try row.integer("position"), row: row).change(of: service)
        }
        if tail { return ChangesPage(items: [], cursor: FeedCursor(service: service, position: max(after, top)).description, more: false) }
        let more = rows.count > limit
        // A full page resumes after its last item; otherwise every match up to `top` is here.
        let resume = more ? (items.last.flatMap { FeedCursor(parsing: $0.cursor)?.position } ?? after) : max(after, top)
        return ChangesPage(items: items, cursor: FeedCursor(service: service, position: resume).description, more: more)
    }
}

/// One audit entry as the change feed gives it, before it is a wire `Change` of a service.
struct FeedEntry: Sendable {
    var position: Int64
    var kind: String
    var key: String
    var operation: String
    var versionBefore: Int64?
    var versionAfter: Int64?
    var verb: String
    var actor: String
    var actorRole: String?
    var at: String
    var traceID: String?

    init(
        position: Int64, kind: String, key: String, operation: String, versionBefore: Int64? = nil, versionAfter: Int64? = nil,
        verb: String, actor: String, actorRole: String? = nil, at: String, traceID: String? = nil
    ) {
        (self.position, self.kind, self.key, self.operation) = (position, kind, key, operation)
        (self.versionBefore, self.versionAfter, self.verb) = (versionBefore, versionAfter, verb)
        (self.actor, self.actorRole, self.at, self.traceID) = (actor, actorRole, at, traceID)
    }

    init(position: Int64, row: SQLRow) throws {
        self.position = position
        self.kind = try row.text("kind")
        self.key = try row.text("record_key")
        self.operation = try row.text("operation")
        self.versionBefore = row["version_before"] == .null ? nil : try row.integer("version_before")
        self.versionAfter = row["version_after"] == .null ? nil : try row.integer("version_after")
        self.verb = try row.text("verb")
        self.actor = try row.text("actor")
        self.actorRole = row["actor_role"] == .null ? nil : try row.text("actor_role")
        self.at = try row.text("at")
        self.traceID = row["trace_id"] == .null ? nil : try row.text("trace_id")
    }

    func change(of service: String) -> Change {
        Change(
            cursor: FeedCursor(service: service, position: self.position).description, service: service, kind: self.kind, key: self.key,
            operation: self.operation, versionBefore: self.versionBefore, versionAfter: self.versionAfter, verb: self.verb,
            actor: self.actor, actorRole: self.actorRole, at: self.at, traceID: self.traceID
        )
    }
}

/// The entries this process committed last, in position order: what a follower waiting in
/// `changes {wait}` is answered from when they are all there is after its cursor, so the change
/// it waited for costs no read. Other processes' commits leave gaps in the positions; after a
/// gap, only the store can say what is there, and it is asked.
final class RecentChanges: Sendable {
    static let capacity = 4_096
    private let entries = NIOLockedValueBox(CircularBuffer<FeedEntry>())

    func add(_ committed: [FeedEntry]) {
        self.entries.withLockedValue { entries in
            for entry in committed {
                // Writers of this process commit in position order (the feed clock's lock),
                // but may come back here out of it.
                var index = entries.endIndex
                while index > entries.startIndex, entries[entries.index(before: index)].position > entry.position {
                    index = entries.index(before: index)
                }
                if index == entries.endIndex {
                    entries.append(entry)
                } else {
                    entries.insert(entry, at: index)
                }
                if entries.count > Self.capacity { entries.removeFirst() }
            }
        }
    }

    /// The entries after `position`, at most `limit`, when they follow it without a gap up to
    /// the last one held; nil when that is not known here (a gap, or `position` not held).
    func after(_ position: Int64, limit: Int) -> [FeedEntry]? {
        self.entries.withLockedValue { entries -> [FeedEntry]? in
            guard let last = entries.last, last.position > position,
                  let first = entries.first, first.position <= position + 1
            else { return nil }
            // Positions are unique: an entry's offset from the first is its position's, unless there is a gap.
            guard Int64(entries.count) - 1 == last.position - first.position else { return nil }
            let start = entries.index(entries.startIndex, offsetBy: Int(position + 1 - first.position))
            let end = entries.index(start, offsetBy: min(limit, entries.distance(from: start, to: entries.endIndex)))
            return Array(entries[start..<end])
        }
    }
}
