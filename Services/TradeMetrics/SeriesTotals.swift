import ConcordProtocol
import ConcordRecords
import ConcordStorage
import ConcordTradeCodes
import NIOConcurrencyHelpers

/// The monthly TOTAL of every series (reporter, partner, flow, source), latest revision each,
/// held in memory so that growth for every series at once reads no table: it is a pass over
/// arrays. Kept up to date by the imports of this process as they commit; any other write (a
/// single observation created, changed or deleted, or another replica's import) moves the
/// store's generation past the one held here, and the next read loads it again from the table.
///
/// The store's generation is a counter row every write of observations moves in its own
/// transaction (`bump`), so commits are numbered; an import's rows are applied in that order
/// even when two imports finish out of order.
final class SeriesTotals: Sendable {
    struct Key: Hashable, Sendable {
        var reporter: String
        var partner: String
        var flow: String
        var sourceKey: String
    }

    struct Month: Sendable {
        /// YYYYMM.
        var period: Int32
        /// YYYYMMDD.
        var published: Int32
        var milli: Int64
        var synthetic: Bool
    }

    struct Series: Sendable {
        var key: Key
        var source: String
        /// In period order.
        var months: [Month]
    }

    private struct State {
        /// The generation the series reflect; nil until loaded.
        var generation: Int64?
        var index: [Key: Int] = [:]
        var series: [Series] = []
        /// Imports committed after `generation + 1`, waiting for the ones before them: only their
        /// monthly TOTALs, a few bytes each. (The observations themselves were held before: up to
        /// 64 imports of documents, while another replica's commits left gaps never filled.)
        var pending: [Int64: [Entry]] = [:]
    }

    /// One monthly TOTAL of an import, as the totals hold it.
    struct Entry: Sendable {
        var key: Key
        var source: String
        var month: Month
    }

    private let state = NIOLockedValueBox(State())
    /// One task loads while the others wait for it, rather than each loading.
    private let loading = AsyncMutex()
    private let database: any Database

    init(database: any Database) {
        self.database = database
    }

    static let generationTable = "trade_generation"

    /// Moves the store's generation on, inside a write's transaction; returns the new one.
    static func bump(in transaction: RecordTransaction) async throws -> Int64 {
        let rows = try await transaction.query("UPDATE \(Self.generationTable) SET value = value + 1 WHERE name = 'observations' RETURNING value")
        guard let row = rows.first else { throw ConcordError(.internal, "the trade_generation row is missing; run the migrations") }
        return try row.integer("value")
    }

    /// After an import committed as `generation`: its rows join the totals, in commit order.
    func apply(_ created: [Observation], generation: Int64) {
        let entries = Self.entries(created)
        self.state.withLockedValue { state in
            guard let held = state.generation, generation > held else { return }
            state.pending[generation] = entries
            while let next = state.pending.removeValue(forKey: state.generation! + 1) {
                Self.add(next, to: &state)
                state.generation! += 1
            }
            // An import another replica committed never arrives here: the next read reloads.
            if state.pending.count > 64 { state.pending.removeAll() }
        }
    }

    /// Every series, as of the store's latest commit.
    func current() async throws -> [Series] {
        let stored = try await self.storedGeneration()
        if let series = self.state.withLockedValue({ $0.generation == stored ? $0.series : nil }) { return series }
        return try await self.loading.withLock {
            let stored = try await self.storedGeneration()
            if let series = self.state.withLockedValue({ $0.generation == stored ? $0.series : nil }) { return series }
            return try await self.load()
        }
    }

    /// Loads once at start, so that the first question does not wait (an empty store loads at once).
    func warm() async {
        _ = try? await self.current()
    }

    private func storedGeneration() async throws -> Int64 {
        try await self.database.read { session in
            guard let row = try await session.first("SELECT value FROM \(Self.generationTable) WHERE name = 'observations'") else {
                throw ConcordError(.internal, "the trade_generation row is missing; run the migrations")
            }
            return try row.integer("value")
        }
    }

    /// Reads every monthly TOTAL observation and keeps the latest revision of each month. The
    /// generation is read in the same statement, so rows and generation are one snapshot.
    private func load() async throws -> [Series] {
        let (generation, rows, sources) = try await self.database.read { session in
            let rows = try await session.query(
                """
                SELECT reporter, partner, flow, source_key, period, published, value_milli, COALESCE(synthetic, 0) AS synthetic,
                    (SELECT value FROM \(Self.generationTable) WHERE name = 'observations') AS generation
                FROM observations WHERE commodity = 'TOTAL' AND frequency = 'M'
                """
            )
            // A source's name as written (the key is lower-cased), from one of its documents.
            var sources: [String: String] = [:]
            for row in try await session.query("SELECT source_key, MIN(id) AS id FROM observations WHERE commodity = 'TOTAL' GROUP BY source_key") {
                let id = try row.text("id")
                if let doc = try await session.first("SELECT doc FROM observations WHERE id = $1", [.text(id)]) {
                    sources[try row.text("source_key")] = try RecordStore.decode(Observation.self, json: try doc.text("doc")).source
                }
            }
            var generation: Int64 = 0
            if let first = rows.first {
                generation = try first.integer("generation")
            } else if let row = try await session.first("SELECT value FROM \(Self.generationTable) WHERE name = 'observations'") {
                generation = try row.integer("value")
            }
            return (generation, rows, sources)
        }
        var state = State(generation: generation)
        for row in rows {
            let key = Key(reporter: try row.text("reporter"), partner: try row.text("partner"), flow: try row.text("flow"), sourceKey: try row.text("source_key"))
            let month = Month(
                period: Self.number(try row.text("period")), published: Self.number(try row.text("published")),
                milli: try row.integer("value_milli"), synthetic: try row.integer("synthetic") != 0
            )
            Self.add(month, to: key, source: sources[key.sourceKey] ?? key.sourceKey, in: &state)
        }
        let loaded = state
        return self.state.withLockedValue { current in
            // An import applied while this loaded is in the snapshot or after it; keep the newer.
            if let held = current.generation, held > generation { return current.series }
            current = loaded
            return loaded.series
        }
    }

    /// The monthly TOTALs among `observations`.
    private static func entries(_ observations: [Observation]) -> [Entry] {
        observations.lazy.filter { $0.commodity == "TOTAL" && $0.period.utf8.count == 6 }.map { observation in
            Entry(
                key: Key(reporter: observation.reporter, partner: observation.partner, flow: observation.flow, sourceKey: observation.source.lowercased()),
                source: observation.source,
                month: Month(
                    period: Self.number(observation.period), published: Self.number(observation.published),
                    milli: Milli.parse(observation.primaryValue) ?? 0, synthetic: observation.synthetic == true
                )
            )
        }
    }

    private static func add(_ entries: [Entry], to state: inout State) {
        for entry in entries {
            Self.add(entry.month, to: entry.key, source: entry.source, in: &state)
        }
    }

    private static func add(_ month: Month, to key: Key, source: String, in state: inout State) {
        guard let position = state.index[key] else {
            state.index[key] = state.series.count
            state.series.append(Series(key: key, source: source, months: [month]))
            return
        }
        var months = state.series[position].months
        state.series[position].months = []
        // Months arrive in order, as a file is written: the append is the common case.
        if let last = months.last, last.period < month.period {
            months.append(month)
        } else if let at = months.firstIndex(where: { $0.period >= month.period }) {
            if months[at].period == month.period {
                if month.published >= months[at].published { months[at] = month }
            } else {
                months.insert(month, at: at)
            }
        } else {
            months.append(month)
        }
        state.series[position].months = months
    }

    /// "2025-01-31" or "202501" as the number 20250131 or 202501.
    static func number(_ text: String) -> Int32 {
        var value: Int32 = 0
        for byte in text.utf8 where (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) {
            value = value * 10 + Int32(byte - UInt8(ascii: "0"))
        }
        return value
    }
}
