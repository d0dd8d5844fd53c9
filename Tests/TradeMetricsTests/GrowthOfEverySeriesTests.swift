import ConcordProtocol
import ConcordRecords
import ConcordStorage
import ConcordWire
import ConcordTestSupport
import ConcordTradeCodes
import Foundation
import Testing

@testable import TradeMetrics

/// Imports in table form, and growth of every series at once from the totals kept in memory.
@Suite("Growth of every series", .serialized, .timeLimit(.minutes(3)))
struct GrowthOfEverySeriesTests {
    static let columns = #"["reporter","partner","flow","period","commodity","primaryValue","source","published","synthetic"]"#

    /// A table body of synthetic monthly rows: (reporter, partner, flow, commodity, period, value).
    static func table(_ rows: [(String, String, String, String, String, String)], published: String = "2025-11-01") -> String {
        let cells = rows.map { #"["\#($0.0)","\#($0.1)","\#($0.2)","\#($0.4)","\#($0.3)","\#($0.5)","Test source","\#(published)",true]"# }
        return #"{"columns":\#(Self.columns),"rows":[\#(cells.joined(separator: ","))]}"#
    }

    /// Nine months of 2024 and 2025 for a series, each month at one value a year.
    static func months(_ reporter: String, _ partner: String, _ flow: String, _ then: String, _ now: String, skipping: Set<String> = [])
        -> [(String, String, String, String, String, String)] {
        var rows: [(String, String, String, String, String, String)] = []
        for year in ["2024", "2025"] {
            for month in 1...9 {
                let period = year + "0" + String(month)
                guard !skipping.contains(period) else { continue }
                rows.append((reporter, partner, flow, "TOTAL", period, year == "2024" ? then : now))
            }
        }
        return rows
    }

    func with(_ engine: Engine, _ body: (ServiceHarness) async throws -> Void) async throws {
        try await ServiceHarness.with(engine, service: TradeMetricsTests.trade, peer: TradeMetricsTests.participants, body)
    }

    @Test(arguments: Engine.allCases)
    func everySeriesRankedWithItsMissingMonths(engine: Engine) async throws {
        try await self.with(engine) { env in
            let rows = Self.months("RU", "IR", "X", "100", "150") + Self.months("IR", "RU", "M", "200", "180")
                + Self.months("AZ", "RU", "X", "100", "100", skipping: ["202503"])
                + [("RU", "IR", "X", "27", "202501", "99999")]
            let imported = try await env.call("trade.observations.import", Self.table(rows))
            #expect(imported["created"] == .integer(Int64(rows.count)))

            let all = try await env.call("trade.growth.all", #"{"from":"2025-01","to":"2025-09"}"#)
            #expect(all["series"] == .integer(3))
            #expect(all["complete"] == .integer(2))
            #expect(all["baseFrom"] == .string("2024-01") && all["baseTo"] == .string("2024-09"), "the base is the same months a year earlier")
            let ranked = (all["rows"]?.array ?? []).compactMap(\.object)
            try #require(ranked.count == 3)
            // RU->IR +50%; IR->RU -10%; AZ->RU lacks 2025-03, so it is compared like for like over
            // the 8 months both spans have: 800 against 800, 0.0% (not 800 against 900, -11.1%).
            #expect(ranked.map { $0["reporter"] } == [.string("RU"), .string("AZ"), .string("IR")])
            #expect(ranked.map { $0["changePercent"] } == [.string("50.0"), .string("0.0"), .string("-10.0")])
            #expect(ranked[0]["current"] == .string("1350") && ranked[0]["base"] == .string("900"), "a chapter's row is not added into the TOTAL")
            #expect(ranked[1]["monthsMissing"] == .array([.string("2025-03")]))
            #expect(ranked[1]["basis"] == .string("like-for-like") && ranked[1]["monthsCompared"] == .integer(8) && ranked[1]["monthsAsked"] == .integer(9))
            #expect(ranked[1]["comparedCurrent"] == .string("800") && ranked[1]["comparedBase"] == .string("800"))
            #expect(ranked[0]["basis"] == .string("whole-span") && ranked[0]["monthsCompared"] == .integer(9))
            #expect(all["synthetic"] == .bool(true))
            #expect(all["note"]?.string?.contains("synthetic") == true)

            let declining = try await env.call("trade.growth.all", #"{"from":"2025-01","to":"2025-09","order":"decline","limit":1}"#)
            #expect(declining["rows"]?.array?.first?.object?["reporter"] == .string("IR"))
            #expect(declining["next"] == .integer(1))
            let exports = try await env.call("trade.growth.all", #"{"from":"2025-01","to":"2025-09","flow":"M"}"#)
            #expect(exports["series"] == .integer(1))

            // A revision written alone moves the store's generation: the totals reload and count it.
            _ = try await env.call(
                "trade.observations.create",
                #"{"reporter":"IR","partner":"RU","flow":"M","period":"202501","primaryValue":"380","source":"Test source","published":"2025-12-01","synthetic":true}"#
            )
            let revised = try await env.call("trade.growth.all", #"{"from":"2025-01","to":"2025-09","order":"series"}"#)
            let revisedRows = (revised["rows"]?.array ?? []).compactMap(\.object)
            let iran = try #require(revisedRows.first { $0["reporter"] == .string("IR") })
            #expect(iran["current"] == .string("1820"), "8 x 180 + 380, the later revision of January")
        }
    }

    @Test(arguments: Engine.allCases)
    func aTableWithABadRowImportsNothing(engine: Engine) async throws {
        try await self.with(engine) { env in
            let bad = Self.table([("RU", "IR", "X", "TOTAL", "202501", "5"), ("RU", "XX", "X", "TOTAL", "202501", "5")])
            let refused = await env.error("trade.observations.import", bad)
            #expect(refused?.code == .badRequest)
            #expect(refused?.field == "body.rows[1].partner", "\(String(describing: refused))")
            let unknown = await env.error("trade.observations.import", #"{"columns":["reporter","colour"],"rows":[["RU","red"]]}"#)
            #expect(unknown?.field == "body.columns[1]", "\(String(describing: unknown))")
            let missing = await env.error("trade.observations.import", #"{"columns":["reporter"],"rows":[["RU"]]}"#)
            #expect(missing?.field == "body.columns", "\(String(describing: missing))")
            let none = try await env.call("trade.observations.list", "{}")
            #expect(none["items"]?.array?.isEmpty == true, "nothing of a refused batch is imported")
            let growth = try await env.call("trade.growth.all", #"{"from":"2025-01","to":"2025-09"}"#)
            #expect(growth["series"] == .integer(0))
        }
    }
}

/// The hand-written document of an observation is the encoder's, byte for byte.
@Suite("Observation documents")
struct ObservationDocumentTests {
    /// An observation with every field set, text that must be escaped and text beyond ASCII.
    static var full: Observation {
        var full = Observation(reporter: "RU", partner: "IR", flow: "X", period: "202501", primaryValue: "12.5", source: "UN \"Comtrade\" \\ Россия / ایران", published: "2025-03-01")
        full.classification = "H6"
        full.commodity = "27"
        full.cifValue = "13"
        full.fobValue = "12.05"
        full.netWeightKg = "1000.25"
        full.quantity = "3"
        full.quantityUnit = "кг"
        full.estimate = false
        full.synthetic = true
        full.note = "a note with é and 😀"
        return full
    }

    @Test func theHandWrittenDocumentIsTheEncoders() throws {
        var full = Self.full
        full.id = "RU~IR~X~27~202501~un-comtrade~2025-03-01"
        var bare = Observation(reporter: "IR-01", partner: "W0", flow: "M", period: "2025", primaryValue: "0", source: "s", published: "2025-01-01")
        bare.version = 3
        bare.createdAt = "2025-01-01T00:00:00Z"
        var control = bare
        control.note = "tab\there, bell \u{7}"
        for observation in [full, bare, control] {
            #expect(try observation.document() == RecordStore.canonicalJSON(observation.withoutMeta()))
        }
    }

    /// The view over an observation's row makes its document and search text from its columns
    /// (migration 5), in each engine's SQL. They read back as this process writes them,
    /// through a create, an update and an import.
    @Test(arguments: Engine.allCases)
    func theStoredDocumentIsTheHandWrittenOne(engine: Engine) async throws {
        try await withTestDatabase(engine, migrations: TradeMetrics.migrations) { database in
            let store = RecordStore.standalone(database)
            let context = WriteContext(verb: "trade.observations.create", actor: Principal(name: "test"))
            var control = Observation(reporter: "IR-01", partner: "W0", flow: "M", period: "2025", primaryValue: "0", source: "Customs", published: "2025-01-01")
            control.note = "two lines:\nthe second"
            control.estimate = true
            var records = [try await store.create(Self.full, context: context), try await store.create(control, context: context)]
            let amounts = ["0.001", "0.01", "0.1", "0.5", "1", "10", "12.345", "100.2", "3300000000.5", "999999999999999.999"]
            let batch = amounts.enumerated().map { index, amount in
                var observation = Observation(reporter: "IR", partner: "RU", flow: "M", period: "2024\(String(format: "%02d", index + 1))", primaryValue: amount, source: "IRICA", published: "2025-02-01")
                observation.synthetic = index.isMultiple(of: 2) ? nil : false
                observation.quantityUnit = index == 3 ? "null" : nil // a text, not an absent field
                return observation
            }
            #expect(try await store.importAll(batch, context: context) == ImportOutcome(created: amounts.count, present: 0))
            #expect(try await store.importAll(batch, context: context) == ImportOutcome(created: 0, present: amounts.count), "a batch sent again is all present")
            records += try await store.list(Observation.self, filters: [(Observation.filters[0], .text("IR"))], text: nil, limit: 100, after: nil).items
            let found = try await store.list(Observation.self, filters: [], text: "РОССИЯ", limit: 10, after: nil).items
            #expect(found.map(\.id) == [records[0].id], "search matches the source, lower-cased as this process lower-cases")
            #expect(records.count == 2 + amounts.count)
            let stored = try await database.read { session in try await session.query("SELECT id, doc, search FROM observations") }
            #expect(stored.count == records.count)
            for row in stored {
                let id = try row.text("id")
                let record = try #require(records.first { $0.id == id })
                let document = try row.text("doc")
                if record.note?.contains("\n") == true {
                    // A line break is escaped each engine's own way; the fields are the same.
                    #expect(try RecordStore.decode(Observation.self, json: document).document() == record.document(), "\(id)")
                } else {
                    let written = try record.document()
                    #expect(document == written, "\(id): stored \(document), written \(written)")
                }
                #expect(try row.text("search") == record.searchText, "\(id)")
            }
            let changed = try await store.update(
                Observation.self, key: .text(try #require(records[0].id)), expectedVersion: 1, patch: ["note": .null, "quantityUnit": .string("t")], context: context
            )
            #expect(changed.note == nil && changed.quantityUnit == "t")
            let after = try await database.read { session in try await session.first("SELECT doc FROM observations WHERE id = $1", [.text(try #require(changed.id))]) }
            let storedAfter = try after?.text("doc")
            let written = try changed.document()
            #expect(storedAfter == written, "stored \(storedAfter ?? "nothing"), written \(written)")
        }
    }

    @Test func moneyIsExact() {
        #expect(Milli.parse("3300000000.5") == 3_300_000_000_500)
        #expect(Milli.parse("-0.001") == -1)
        #expect(Milli.parse("7.") == 7000)
        #expect(Milli.parse("9223372036854775.807") == Int64.max)
        for bad in ["", "-", ".5", "1.2345", "9223372036854775.808", "99999999999999999999", "1e5", "+1", "1,5", " 1"] {
            #expect(Milli.parse(bad) == nil, "\(bad)")
        }
        for (milli, text) in [(Int64(3_300_000_000_500), "3300000000.5"), (-1, "-0.001"), (1050, "1.05"), (0, "0"), (-1000, "-1"), (10, "0.01")] {
            #expect(Milli.format(milli) == text)
            #expect(Milli.parse(text) == milli)
        }
    }
}

/// Migration 5 moves every observation a store holds into the table that makes documents from
/// columns, and each reads back as it was written.
@Suite("Observations from columns")
struct ObservationsFromColumnsMigrationTests {
    @Test(arguments: Engine.allCases)
    func everyObservationReadsAsBeforeTheMigration(engine: Engine) async throws {
        try await withTestDatabase(engine, migrations: Array(TradeMetrics.migrations.prefix(4))) { database in
            let store = RecordStore.standalone(database)
            let context = WriteContext(verb: "trade.observations.import", actor: Principal(name: "test"))
            let batch = (1...12).map { month in
                var observation = Observation(
                    reporter: month.isMultiple(of: 2) ? "IR-01" : "RU", partner: "IR", flow: "X", period: "2024\(String(format: "%02d", month))",
                    primaryValue: "\(month * 1000).\(month)", source: "Customs \"ФТС\"", published: "2025-01-15"
                )
                observation.commodity = month.isMultiple(of: 3) ? "27" : nil
                observation.synthetic = month.isMultiple(of: 4)
                observation.estimate = month == 7 ? true : nil
                observation.netWeightKg = month == 8 ? "12.5" : nil
                observation.note = month == 9 ? "revised" : nil
                return observation
            }
            #expect(try await store.importAll(batch, context: context) == ImportOutcome(created: 12, present: 0))
            // As the code before migration 5 wrote a row whose source did not say it was synthetic.
            var said = Observation(reporter: "RU", partner: "IR", flow: "M", period: "202401", primaryValue: "5", source: "FCS", published: "2025-01-15")
            said.note = "line one\nline two"
            let unsaid = try said.normalised(isNew: true)
            let document = try unsaid.document()
            try await database.write { session in
                var binds: [SQLValue] = [unsaid.key, .integer(1), .text(document), .text(unsaid.searchText), .text("2025-01-15T00:00:00Z"), .text("2025-01-15T00:00:00Z")]
                binds += unsaid.columns.map { $0.0 == "synthetic" ? .integer(0) : $0.1 }
                let columns = ["id", "version", "doc", "search", "created_at", "updated_at"] + unsaid.columns.map(\.0)
                try await session.query(
                    "INSERT INTO observations (\(columns.joined(separator: ", "))) VALUES (\((1...columns.count).map { "$\($0)" }.joined(separator: ", ")))", binds
                )
            }
            let read = { () async throws -> [String: String] in
                let rows = try await database.read { session in try await session.query("SELECT id, doc, search FROM observations") }
                return Dictionary(uniqueKeysWithValues: try rows.map { (try $0.text("id"), try $0.text("doc") + " | " + $0.text("search")) })
            }
            let before = try await read()
            try await database.migrate(TradeMetrics.migrations)
            let after = try await read()
            #expect(before.count == 13)
            for (id, row) in before where !row.contains("line one") { #expect(after[id] == row, "\(id)") }
            let moved = try #require(after[unsaid.id ?? ""])
            let movedDocument = String(moved.prefix { $0 != "|" }.dropLast())
            #expect(try RecordStore.decode(Observation.self, json: movedDocument).document() == document, "a line break is escaped the engine's way; the fields are the same")
            let layout = try await database.read { session in try await session.layout(of: "observations") }
            #expect(layout == TableLayout(rows: "observations_rows", computed: ["doc", "search"]))
        }
    }
}
