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
        // Imports at the engines' speed: an observation's document and search text were most
        // of its row's bytes, and repeat its columns. The rows move to a table without them
        // (the fields not yet a column become one), and `observations` becomes a view that
        // makes the two from the columns on read: an import writes under half the bytes, and
        // nothing computes a document it does not read (a generated column would, on every
        // insert, and PostgreSQL's JSON functions are not immutable enough for one). The kit
        // writes a view's rows to `<view>_rows` (`TableLayout`). `synthetic` is NULL where the
        // source did not say, as in the document.
        Migration(
            version: 5, name: "observations without their document",
            statements: Self.observationsFromColumns(.sqlite), postgresStatements: Self.observationsFromColumns(.postgres)
        ),
    ]

    /// Migration 5's statements in an engine's SQL.
    static func observationsFromColumns(_ dialect: Migration.Dialect) -> [String] {
        let sqlite = dialect == .sqlite
        // A member of the old document, and a flag of it as 1, 0 or NULL.
        func field(_ name: String) -> String { sqlite ? "doc ->> '$.\(name)'" : "doc::jsonb ->> '\(name)'" }
        func flag(_ name: String) -> String {
            sqlite ? "CASE json_type(doc, '$.\(name)') WHEN 'true' THEN 1 WHEN 'false' THEN 0 END"
                : "CASE doc::jsonb -> '\(name)' WHEN 'true'::jsonb THEN 1 WHEN 'false'::jsonb THEN 0 END"
        }
        return [
            """
            CREATE TABLE observations_rows (id TEXT \(sqlite ? "" : #"COLLATE "C" "#)PRIMARY KEY, reporter TEXT NOT NULL,
                partner TEXT NOT NULL, flow TEXT NOT NULL, commodity TEXT NOT NULL, frequency TEXT NOT NULL, period TEXT NOT NULL,
                source_key TEXT NOT NULL, published TEXT NOT NULL, value_milli BIGINT NOT NULL, synthetic BIGINT,
                version BIGINT NOT NULL, created_at TEXT NOT NULL, updated_at TEXT NOT NULL,
                source TEXT NOT NULL, classification TEXT, cif_value TEXT, fob_value TEXT, net_weight_kg TEXT,
                quantity TEXT, quantity_unit TEXT, estimate BIGINT, note TEXT)
            """,
            """
            INSERT INTO observations_rows (id, reporter, partner, flow, commodity, frequency, period, source_key,
                published, value_milli, synthetic, version, created_at, updated_at, source, classification, cif_value,
                fob_value, net_weight_kg, quantity, quantity_unit, estimate, note)
            SELECT id, reporter, partner, flow, commodity, frequency, period, source_key, published, value_milli,
                \(flag("synthetic")), version, created_at, updated_at, \(field("source")), \(field("classification")),
                \(field("cifValue")), \(field("fobValue")), \(field("netWeightKg")), \(field("quantity")), \(field("quantityUnit")),
                \(flag("estimate")), \(field("note"))
            FROM observations ORDER BY id
            """,
            "DROP TABLE observations",
            """
            CREATE VIEW observations AS SELECT *, \(Self.observationDocument(dialect)) AS doc,
                lower(reporter || ' ' || partner || ' ' || flow || ' ' || commodity || ' ' || period) || ' ' || source_key AS search
            FROM observations_rows
            """,
        ]
    }

    /// An observation's document from its columns, as `Observation.document()` writes it: the
    /// members in key order, absent ones left out (`||` with NULL is NULL; SQLite's
    /// `json_quote` makes NULL the text `null`, and a text "null" `"null"`), `primaryValue` the
    /// exact amount from its thousandths. `ObservationDocumentTests` checks the two agree.
    static func observationDocument(_ dialect: Migration.Dialect) -> String {
        func quoted(_ column: String) -> String { dialect == .sqlite ? "json_quote(\(column))" : "to_json(\(column))::text" }
        func optional(_ column: String) -> String { "nullif(\(quoted(column)), 'null')" }
        let thousandths = dialect == .sqlite ? "printf('.%03d', value_milli % 1000)" : "'.' || lpad(CAST(value_milli % 1000 AS TEXT), 3, '0')"
        return """
            '{' || coalesce('"cifValue":' || \(optional("cif_value")) || ',', '')
                || coalesce('"classification":' || \(optional("classification")) || ',', '')
                || '"commodity":' || \(quoted("commodity"))
                || coalesce(',"estimate":' || CASE estimate WHEN 1 THEN 'true' WHEN 0 THEN 'false' END, '')
                || ',"flow":' || \(quoted("flow"))
                || coalesce(',"fobValue":' || \(optional("fob_value")), '')
                || ',"id":' || \(quoted("id"))
                || coalesce(',"netWeightKg":' || \(optional("net_weight_kg")), '')
                || coalesce(',"note":' || \(optional("note")), '')
                || ',"partner":' || \(quoted("partner"))
                || ',"period":' || \(quoted("period"))
                || ',"primaryValue":"' || CAST(value_milli / 1000 AS TEXT)
                || CASE WHEN value_milli % 1000 = 0 THEN '' ELSE rtrim(\(thousandths), '0') END || '"'
                || ',"published":' || \(quoted("published"))
                || coalesce(',"quantity":' || \(optional("quantity")), '')
                || coalesce(',"quantityUnit":' || \(optional("quantity_unit")), '')
                || ',"reporter":' || \(quoted("reporter"))
                || ',"source":' || \(quoted("source"))
                || coalesce(',"synthetic":' || CASE synthetic WHEN 1 THEN 'true' WHEN 0 THEN 'false' END, '')
                || '}'
            """
    }
}
