import ConcordDataService
import ConcordProtocol
import ConcordRecords
import ConcordServer
import ConcordStorage

/// How trade between the two countries and their regions is going: observations in UN
/// Comtrade's model, every revision kept, and figures officials stated, kept beside them.
enum TradeMetrics: DataServiceDefinition {
    static let name = "trade"
    static let certificateName = "trade-metrics"
    static let abstract = "Concord's trade-metrics service: Comtrade-model observations and their revisions, growth, mirror data, stated figures."
    static let defaultPort = 7403
    static let peers = ["participants"]
    static let kinds: [any StoredRecord.Type] = [Observation.self, StatedFigure.self]

    static func router(store: RecordStore) -> Router {
        var router = Router()
        router.registerRecordVerbs(Observation.self, service: Self.name, store: store)
        router.registerRecordVerbs(StatedFigure.self, service: Self.name, store: store, segment: "stated")
        router.registerAuditVerbs(service: Self.name, store: store, kinds: Self.kinds)
        router.registerReferenceVerbs(service: Self.name, store: store, kinds: Self.kinds)
        let totals = SeriesTotals(database: store.database)
        Task { await totals.warm() }
        let questions = TradeQuestions(store: store, totals: totals)
        router.registerRaw("trade.observations.import", kind: .write) { request, context in
            try await WireErrors.boundary(context) {
                let outcome = try await questions.importRows(request.body, context: context)
                return context.allocator.buffer(string: "{\"created\":\(outcome.created),\"present\":\(outcome.present)}")
            }
        }
        router.registerRecordVerb("trade.growth", kind: .read) { body, _ in try await questions.growth(body) }
        router.registerRecordVerb("trade.growth.all", kind: .read) { body, _ in try await questions.growthOfEverySeries(body) }
        router.registerRecordVerb("trade.series", kind: .read) { body, _ in try await questions.series(body) }
        router.registerRecordVerb("trade.mirror", kind: .read) { body, _ in try await questions.mirror(body) }
        router.registerRecordVerb("trade.top", kind: .read) { body, _ in try await questions.top(body) }
        router.registerRecordVerb("trade.regions", kind: .read) { body, _ in try await questions.regions(body) }
        router.registerRecordVerb("trade.headline", kind: .read) { body, _ in try await questions.headline(body) }
        let digesting = TradeDigesting(store: store)
        router.registerRecordVerb("trade.digest", kind: .read) { body, _ in try await digesting.digest(body) }
        return router
    }

    static let migrations: [Migration] = [
        Migration(version: 1, name: "trade", statements: [
            """
            CREATE TABLE observations (id TEXT PRIMARY KEY, reporter TEXT NOT NULL, partner TEXT NOT NULL, flow TEXT NOT NULL,
                commodity TEXT NOT NULL, frequency TEXT NOT NULL, period TEXT NOT NULL, source_key TEXT NOT NULL,
                published TEXT NOT NULL, value_milli BIGINT NOT NULL, synthetic BIGINT NOT NULL, \(RecordSchema.common))
            """,
            // A series' periods and their revisions, in order.
            "CREATE INDEX observations_by_series ON observations (reporter, partner, commodity, frequency, period, flow, source_key, published)",
            """
            CREATE TABLE stated_figures (id TEXT PRIMARY KEY, pair TEXT NOT NULL, span TEXT NOT NULL, session BIGINT,
                \(RecordSchema.common))
            """,
            "CREATE INDEX stated_by_pair ON stated_figures (pair, span, id)",
        ] + RecordSchema.kitTables),
        // Imports at speed: the key serves a series' reads (it begins reporter~partner~flow~
        // commodity~period), so the second index, which every row paid for, goes; PostgreSQL
        // compares the key bytewise for that. A generation row numbers the writes of
        // observations, for the totals held in memory (`SeriesTotals`).
        Migration(
            version: 2, name: "trade-import-speed",
            statements: [
                "DROP INDEX observations_by_series",
                "CREATE TABLE trade_generation (name TEXT PRIMARY KEY, value BIGINT NOT NULL)",
                "INSERT INTO trade_generation (name, value) VALUES ('observations', 0)",
            ],
            postgresStatements: [
                "DROP INDEX observations_by_series",
                #"ALTER TABLE observations ALTER COLUMN id TYPE TEXT COLLATE "C""#,
                "CREATE TABLE trade_generation (name TEXT PRIMARY KEY, value BIGINT NOT NULL)",
                "INSERT INTO trade_generation (name, value) VALUES ('observations', 0)",
            ]
        ),
        Migration(version: 3, name: "references between services", statements: RecordSchema.referenceTables),
        Migration(version: 4, name: "change feed", statements: RecordSchema.changeFeed),
    ]
}
