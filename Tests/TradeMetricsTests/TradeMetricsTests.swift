import ConcordProtocol
import ConcordRecords
import ConcordTestSupport
import Foundation
import Testing

@testable import Participants
@testable import TradeMetrics

@Suite("Trade metrics over the protocol", .serialized, .timeLimit(.minutes(3)))
struct TradeMetricsTests {
    static let participants = ServiceHarness.Service(
        name: "participants", migrations: Participants.migrations, kinds: Participants.kinds,
        seeds: repositoryRoot().appendingPathComponent("seeds/participants").path, router: { Participants.router(store: $0) }
    )
    static let trade = ServiceHarness.Service(
        name: "trade", certificateName: "trade-metrics", migrations: TradeMetrics.migrations, kinds: TradeMetrics.kinds,
        seeds: repositoryRoot().appendingPathComponent("seeds/trade-metrics").path, router: { TradeMetrics.router(store: $0) }
    )

    func with(_ engine: Engine, _ body: (ServiceHarness) async throws -> Void) async throws {
        try await ServiceHarness.with(engine, service: Self.trade, peer: Self.participants, body)
    }

    /// A monthly observation row, labelled synthetic: no figure here is a fact.
    static func row(_ reporter: String, _ partner: String, _ flow: String, _ period: String, _ value: String, published: String = "2025-11-01") -> String {
        #"{"reporter":"\#(reporter)","partner":"\#(partner)","flow":"\#(flow)","period":"\#(period)","primaryValue":"\#(value)","source":"Test source","published":"\#(published)","synthetic":true}"#
    }

    /// Nine months of two years, Russia's exports and imports with Iran; 2024 months at 100.1 and
    /// 200.2 each, 2025 at 110.11 and 210.21: exact sums, and a growth of known value.
    static func twoYears(skipping: Set<String> = []) -> String {
        var rows: [String] = []
        for year in ["2024", "2025"] {
            for month in 1...9 {
                let period = year + (month < 10 ? "0" : "") + String(month)
                guard !skipping.contains(period) else { continue }
                rows.append(Self.row("RU", "IR", "X", period, year == "2024" ? "100.1" : "110.11"))
                rows.append(Self.row("RU", "IR", "M", period, year == "2024" ? "200.2" : "210.21"))
            }
        }
        return #"{"rows":[\#(rows.joined(separator: ","))]}"#
    }

    @Test(arguments: Engine.allCases)
    func growthBesideTheStatedFigureWithExactSums(engine: Engine) async throws {
        try await self.with(engine) { env in
            let imported = try await env.call("trade.observations.import", Self.twoYears())
            #expect(imported["created"] == .integer(36))
            let growth = try await env.call("trade.growth", #"{"reporter":"RU","partner":"IR","flow":"total","from":"2025-01","to":"2025-09"}"#)
            let computed = try #require(growth["computed"]?.array?.first?.object)
            // 9 x (110.11 + 210.21) = 2882.88; 9 x (100.1 + 200.2) = 2702.7; +6.66...% -> 6.7.
            #expect(computed["current"]?.object?["value"] == .string("2882.88"))
            #expect(computed["base"]?.object?["value"] == .string("2702.7"))
            #expect(computed["changePercent"] == .string("6.7"))
            #expect(computed["complete"] == .bool(true))
            #expect(computed["synthetic"] == .bool(true))
            #expect(growth["note"]?.string?.contains("synthetic") == true)
            let stated = try #require(growth["stated"]?.array?.first?.object)
            #expect(stated["value"] == .string("8.2"))
            #expect(stated["statedBy"] == .string("vladimir-ilichev"))
        }
    }

    @Test(arguments: Engine.allCases)
    func missingMonthsAreNamedAndNoDataInventsNothing(engine: Engine) async throws {
        try await self.with(engine) { env in
            let nothing = try await env.call("trade.growth", #"{"reporter":"RU","partner":"IR","from":"2025-01","to":"2025-09"}"#)
            #expect(nothing["computed"]?.array?.isEmpty == true)
            #expect(nothing["note"]?.string?.contains("no observations") == true)
            #expect(nothing["stated"]?.array?.count == 1, "the stated figure is still shown")

            _ = try await env.call("trade.observations.import", Self.twoYears(skipping: ["202503", "202407"]))
            let growth = try await env.call("trade.growth", #"{"reporter":"RU","partner":"IR","from":"2025-01","to":"2025-09"}"#)
            let computed = try #require(growth["computed"]?.array?.first?.object)
            #expect(computed["current"]?.object?["monthsMissing"] == .array([.string("2025-03")]))
            #expect(computed["base"]?.object?["monthsMissing"] == .array([.string("2024-07")]))
            #expect(computed["complete"] == .bool(false))
            #expect(growth["note"]?.string?.contains("like for like over 7 of 9 months") == true)

            // A base span that ends before it begins is refused (it once stopped the service).
            let span = #""from":"2025-01","to":"2025-09","baseFrom":"2024-09","baseTo":"2024-01""#
            for (verb, body) in [("trade.growth", #"{"reporter":"RU","partner":"IR",\#(span)}"#), ("trade.growth.all", "{\(span)}")] {
                let backwards = await env.error(verb, body)
                #expect(backwards?.code == .badRequest && backwards?.field == "body.baseTo", "\(verb): \(String(describing: backwards))")
            }
            #expect(try await env.call("ping", "{}")["pong"] == .bool(true), "the service is still up")
        }
    }

    @Test(arguments: Engine.allCases)
    func revisionsAreKeptAndAsPublishedOnAnswersAsThen(engine: Engine) async throws {
        try await self.with(engine) { env in
            _ = try await env.call("trade.observations.import", #"{"rows":[\#(Self.row("IR", "RU", "M", "202501", "1000", published: "2025-03-01"))]}"#)
            _ = try await env.call("trade.observations.import", #"{"rows":[\#(Self.row("IR", "RU", "M", "202501", "1200.5", published: "2025-06-01"))]}"#)
            let latest = try await env.call("trade.growth", #"{"reporter":"IR","partner":"RU","flow":"M","from":"2025-01","to":"2025-01","baseFrom":"2025-01","baseTo":"2025-01"}"#)
            #expect(latest["computed"]?.array?.first?.object?["current"]?.object?["value"] == .string("1200.5"))
            let then = try await env.call("trade.growth", #"{"reporter":"IR","partner":"RU","flow":"M","from":"2025-01","to":"2025-01","baseFrom":"2025-01","baseTo":"2025-01","asPublishedOn":"2025-04-30"}"#)
            #expect(then["computed"]?.array?.first?.object?["current"]?.object?["value"] == .string("1000"))
            let all = try await env.call("trade.observations.list", #"{"reporter":"IR","partner":"RU","period":"202501"}"#)
            #expect(all["items"]?.array?.count == 2, "both revisions are kept")
        }
    }

    @Test(arguments: Engine.allCases)
    func mirrorComparesBothSidesReports(engine: Engine) async throws {
        try await self.with(engine) { env in
            let rows = (1...3).flatMap { month in
                [Self.row("RU", "IR", "X", "20250\(month)", "100"), Self.row("IR", "RU", "M", "20250\(month)", "108")]
            }
            _ = try await env.call("trade.observations.import", #"{"rows":[\#(rows.joined(separator: ","))]}"#)
            let mirror = try await env.call("trade.mirror", #"{"a":"RU","b":"IR","from":"2025-01","to":"2025-03"}"#)
            let comparison = try #require(mirror["comparisons"]?.array?.first?.object)
            #expect(comparison["exports"]?.object?["value"] == .string("300"))
            #expect(comparison["imports"]?.object?["value"] == .string("324"))
            #expect(comparison["gap"] == .string("24"))
            #expect(comparison["ratio"] == .string("1.080"))
            #expect(mirror["usualMargin"]?.string?.contains("1.06") == true)
        }
    }

    @Test(arguments: Engine.allCases)
    func topCommoditiesWithShares(engine: Engine) async throws {
        try await self.with(engine) { env in
            func row(_ commodity: String, _ value: String) -> String {
                #"{"reporter":"IR","partner":"RU","flow":"X","commodity":"\#(commodity)","period":"202501","primaryValue":"\#(value)","source":"Test source","published":"2025-03-01","synthetic":true}"#
            }
            let rows = [row("TOTAL", "1000"), row("08", "400"), row("27", "250.5"), row("0802", "300"), row("03", "0.25")]
            _ = try await env.call("trade.observations.import", #"{"rows":[\#(rows.joined(separator: ","))]}"#)
            let answer = try await env.client.call("trade.top", body: .init(string: #"{"reporter":"IR","partner":"RU","flow":"X","from":"2025-01","to":"2025-01","digits":2,"limit":2}"#))
            let tops = try JSONDecoder().decode([JSONObject].self, from: Data(answer.readableBytesView))
            let top = try #require(tops.first)
            #expect(top["total"] == .string("1000"))
            let commodities = (top["commodities"]?.array ?? []).compactMap(\.object)
            #expect(commodities.map { $0["commodity"] } == [.string("08"), .string("27")], "HS 2 only, largest first, at most the limit")
            #expect(commodities.map { $0["sharePercent"] } == [.string("40.0"), .string("25.1")])
        }
    }

    @Test(arguments: Engine.allCases)
    func regionsStandBesideTheirCountryNotInsideIt(engine: Engine) async throws {
        try await self.with(engine) { env in
            let rows = [Self.row("IR-01", "RU", "X", "202501", "10.5"), Self.row("IR-02", "RU", "X", "202501", "20"),
                        Self.row("IR", "RU", "X", "202501", "1000"), Self.row("RU-AST", "IR", "M", "202501", "7")]
            _ = try await env.call("trade.observations.import", #"{"rows":[\#(rows.joined(separator: ","))]}"#)
            let answer = try await env.call("trade.regions", #"{"country":"IR","partner":"RU","flow":"X","from":"2025-01","to":"2025-01"}"#)
            let regions = (answer["regions"]?.array ?? []).compactMap(\.object)
            #expect(regions.map { $0["region"] } == [.string("IR-01"), .string("IR-02")], "the country's own figure is not a region")
            #expect(regions.map { $0["span"]?.object?["value"] } == [.string("10.5"), .string("20")])
            let country = try await env.call("trade.growth", #"{"reporter":"IR","partner":"RU","flow":"X","from":"2025-01","to":"2025-01","baseFrom":"2025-01","baseTo":"2025-01"}"#)
            #expect(country["computed"]?.array?.first?.object?["current"]?.object?["value"] == .string("1000"), "regions are never added into the country")
        }
    }

    @Test(arguments: Engine.allCases)
    func anImportIsAllOrNothingAndIdempotent(engine: Engine) async throws {
        try await self.with(engine) { env in
            let bad = #"{"rows":[\#(Self.row("RU", "IR", "X", "202501", "5")),\#(Self.row("RU", "XX", "X", "202501", "5"))]}"#
            let refused = await env.error("trade.observations.import", bad)
            #expect(refused?.code == .badRequest)
            #expect(refused?.field == "body.rows[1].partner", "\(String(describing: refused))")
            let none = try await env.call("trade.observations.list", "{}")
            #expect(none["items"]?.array?.isEmpty == true, "nothing of a refused batch is imported")

            let batch = Self.twoYears()
            let first = try await env.call("trade.observations.import", batch)
            let again = try await env.call("trade.observations.import", batch)
            #expect(first["created"] == .integer(36))
            #expect(again["created"] == .integer(0) && again["present"] == .integer(36), "a batch sent again writes nothing twice")
            let changed = await env.error("trade.observations.import", #"{"rows":[\#(Self.row("RU", "IR", "X", "202501", "999"))]}"#)
            #expect(changed?.code == .conflict, "the same key with another value: a revision needs its own publication date")

            // Part there already, part new: the new rows are created, the others counted present,
            // and the totals count each row once.
            let mixed = [Self.row("RU", "IR", "X", "202510", "1"), Self.row("RU", "IR", "X", "202501", "110.11"), Self.row("RU", "IR", "X", "202511", "2")]
            let partly = try await env.call("trade.observations.import", #"{"rows":[\#(mixed.joined(separator: ","))]}"#)
            #expect(partly["created"] == .integer(2) && partly["present"] == .integer(1), "\(partly)")
            let growth = try await env.call("trade.growth", #"{"reporter":"RU","partner":"IR","flow":"X","from":"2025-01","to":"2025-11","baseFrom":"2024-01","baseTo":"2024-11"}"#)
            #expect(growth["computed"]?.array?.first?.object?["current"]?.object?["value"] == .string("993.99"), "9 x 110.11 + 1 + 2: \(growth)")
            // New rows beside a conflicting one: the batch is refused whole, new rows included.
            let refusedMixed = [Self.row("RU", "IR", "X", "202512", "3"), Self.row("RU", "IR", "X", "202502", "5")]
            let conflict = await env.error("trade.observations.import", #"{"rows":[\#(refusedMixed.joined(separator: ","))]}"#)
            #expect(conflict?.code == .conflict && conflict?.field == "body.rows[1]", "\(String(describing: conflict))")
            let december = try await env.call("trade.observations.list", #"{"period":"202512"}"#)
            #expect(december["items"]?.array?.isEmpty == true, "nothing of a batch refused for a conflict is imported")
        }
    }

    @Test(arguments: Engine.allCases)
    func theKitsContractHoldsForEveryKind(engine: Engine) async throws {
        try await self.with(engine) { env in
            try await checkRecordContracts([
                RecordContract(
                    service: "trade", table: "observations", keyField: "id", key: .string("IR~RU~X~27~202502~un-comtrade~2025-05-02"),
                    create: #"{"reporter":"ir","partner":"RU","flow":"X","commodity":"27","period":"202502","primaryValue":"12.5","source":"UN Comtrade","published":"2025-05-02","synthetic":true}"#,
                    patch: #"{"note":"synthetic test row"}"#, filter: #"{"reporter":"IR","commodity":"27"}"#, search: "un comtrade"
                ),
                RecordContract(
                    service: "trade", table: "stated", keyField: "id", key: .string("test-stated"),
                    create: #"{"id":"test-stated","measure":"value","value":"4000000000","unit":"usd","reporter":"IR","partner":"RU","flow":"total","from":"2023-01","to":"2023-12","source":"test"}"#,
                    patch: #"{"note":"a test figure"}"#, filter: #"{"pair":"RU|IR"}"#, search: "test figure", auditKind: "stated_figures"
                ),
            ], client: env.client)
        }
    }
}
