import ConcordProtocol
import ConcordStorage
import ConcordWire

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
    static func stamp(in session: any DatabaseSession) async throws {
        // The entries' ids sort in the order they were written (time, then a random tail).
        let pending = try await session.query("SELECT id FROM audit WHERE position IS NULL ORDER BY id")
        guard !pending.isEmpty else { return }
        let clock = try await session.query(
            "UPDATE feed_clock SET position = position + $1 WHERE id = 1 RETURNING position", [.integer(Int64(pending.count))]
        )
        guard let last = try clock.first?.integer("position") else {
            throw StorageError(.corrupt, "feed_clock has no row; the change feed's migration did not run")
        }
        for (offset, row) in pending.enumerated() {
            let position = last - Int64(pending.count - 1 - offset)
            try await session.query("UPDATE audit SET position = $1 WHERE id = $2", [.integer(position), .text(try row.text("id"))])
        }
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
        try await self.database.write { session in
            let result = try await work(session)
            try await ChangeFeed.stamp(in: session)
            return result
        }
    }

    /// The committed changes after `after` (a position of this service's feed), of `kinds` when
    /// given, oldest first, at most `limit`.
    /// With `tail`, no change: only the cursor of the feed's end, where a follower that starts
    /// from now begins.
    public func changes(service: String, after: Int64, kinds: [String]?, limit: Int, tail: Bool = false) async throws -> ChangesPage {
        var binds: [SQLValue] = [.integer(after)]
        var condition = "position > $1"
        if let kinds, !kinds.isEmpty {
            let placeholders = kinds.map { kind in
                binds.append(.text(kind))
                return "$\(binds.count)"
            }
            condition += " AND kind IN (\(placeholders.joined(separator: ", ")))"
        }
        // One statement, so one snapshot: `top`, the last position committed when it ran, is
        // where a reader may resume once it has every matching change up to it. Without that, a
        // filtered reader whose kinds are quiet would scan the same entries again each time.
        let sql = """
            SELECT clock.top, a.position, a.at, a.verb, a.operation, a.kind, a.record_key, a.version_before, a.version_after,
                a.trace_id, a.actor, a.actor_role
            FROM (SELECT MAX(position) AS top FROM audit) AS clock
            LEFT JOIN (SELECT * FROM audit WHERE \(condition) ORDER BY position LIMIT \(limit + 1)) AS a ON 1 = 1
            ORDER BY a.position
            """
        let final = binds
        let answer = try await self.database.read { session in try await session.query(sql, final) }
        let top = try answer.first.flatMap { $0["top"] == .null ? nil : try $0.integer("top") } ?? after
        let rows = answer.filter { $0["position"] != .null }
        if after > top {
            // A cursor this store never gave out: from another deployment, or the store was
            // restored from an older backup. Resuming from it would silently skip changes.
            throw ConcordError(
                .badRequest,
                "after \(FeedCursor(service: service, position: after)) is past the end of \(service)'s feed (\(FeedCursor(service: service, position: top))); was the store replaced? Start again without after",
                field: "after"
            )
        }
        let items = try rows.prefix(limit).map { row in
            Change(
                cursor: FeedCursor(service: service, position: try row.integer("position")).description,
                service: service,
                kind: try row.text("kind"),
                key: try row.text("record_key"),
                operation: try row.text("operation"),
                versionBefore: row["version_before"] == .null ? nil : try row.integer("version_before"),
                versionAfter: row["version_after"] == .null ? nil : try row.integer("version_after"),
                verb: try row.text("verb"),
                actor: try row.text("actor"),
                actorRole: row["actor_role"] == .null ? nil : try row.text("actor_role"),
                at: try row.text("at"),
                traceID: row["trace_id"] == .null ? nil : try row.text("trace_id")
            )
        }
        if tail { return ChangesPage(items: [], cursor: FeedCursor(service: service, position: max(after, top)).description, more: false) }
        let more = rows.count > limit
        // A full page resumes after its last item; otherwise every match up to `top` is here.
        let resume = more ? (items.last.flatMap { FeedCursor(parsing: $0.cursor)?.position } ?? after) : max(after, top)
        return ChangesPage(items: items, cursor: FeedCursor(service: service, position: resume).description, more: more)
    }
}
