import ConcordProtocol
import ConcordTestSupport
import ConcordTradeCodes
import Testing

@testable import TradeMetrics

/// Growth and mirror compare like with like: the months both spans (or both sides) have, never 8
/// months against 9. Known answers, each figure written out, first on the pure values, then over
/// the protocol on both engines.
@Suite("Like-for-like figures")
struct LikeForLikeTests {
    /// 2025-01..2025-09 against 2024-01..2024-09.
    static let current = (1...9).map { "20250\($0)" }
    static let base = (1...9).map { "20240\($0)" }

    @Test func theCurrentSpanLackingItsLastMonthComparesTheEightBothHave() {
        // 100 a month in the base, 105 in the 8 months reported: +5.0%, not 840 / 900 = -6.7%.
        let figure = GrowthFigure(source: "s", currentMonths: Self.current, baseMonths: Self.base, synthetic: true) { month in
            month.hasPrefix("2024") ? 100_000 : (month == "202509" ? nil : 105_000)
        }
        #expect(figure.basis == .likeForLike)
        #expect(figure.changePercent == "5.0")
        #expect(figure.monthsCompared == 8 && figure.monthsAsked == 9)
        #expect(figure.comparedCurrent == "840" && figure.comparedBase == "800")
        #expect(figure.compared.first == LikeForLike.Pair(current: "2025-01", base: "2024-01"))
        #expect(figure.leftOut == [LikeForLike.LeftOut(current: "2025-09", base: "2024-09", missingIn: .current)])
        #expect(figure.current.value == "840" && figure.base.value == "900", "each span's own sum is still given")
        #expect(!figure.complete)
    }

    @Test func eachSpanMissingADifferentMonthLeavesBothPairsOut() {
        let figure = GrowthFigure(source: "s", currentMonths: Self.current, baseMonths: Self.base, synthetic: false) { month in
            switch month {
            case "202503", "202407": nil
            case let month where month.hasPrefix("2024"): 200_000
            default: 230_000
            }
        }
        // 7 pairs: 7 x 230 = 1610 against 7 x 200 = 1400, +15.0%.
        #expect(figure.basis == .likeForLike && figure.changePercent == "15.0")
        #expect(figure.monthsCompared == 7)
        #expect(figure.leftOut == [
            LikeForLike.LeftOut(current: "2025-03", base: "2024-03", missingIn: .current),
            LikeForLike.LeftOut(current: "2025-07", base: "2024-07", missingIn: .base),
        ])
    }

    @Test func spansWithNoCommonMonthGiveNoFigureAndSayWhy() {
        let figure = GrowthFigure(source: "s", currentMonths: ["202501", "202502"], baseMonths: ["202401", "202402"], synthetic: false) { month in
            month == "202501" || month == "202402" ? 100_000 : nil
        }
        #expect(figure.basis == .none && figure.changePercent == nil && figure.reason == .noCommonMonth)
        #expect(figure.monthsCompared == 0)
        let uneven = GrowthFigure(source: "s", currentMonths: ["202501", "202502"], baseMonths: ["202401"], synthetic: false) { month in
            month == "202502" ? nil : 100_000
        }
        #expect(uneven.basis == .none && uneven.reason == .spansDifferInLength)
    }

    @Test func completeSpansOfAnyLengthCompareWhole() {
        let figure = GrowthFigure(source: "s", currentMonths: ["202501", "202502"], baseMonths: ["202401"], synthetic: false) { _ in 100_000 }
        #expect(figure.basis == .wholeSpan && figure.changePercent == "100.0" && figure.monthsCompared == 2 && figure.complete)
    }

    @Test func mirrorComparesTheMonthsBothSidesReported() {
        // Exports 100 a month for three months; imports 108 for the first two only.
        let mirror = MirrorFigure(
            source: "s", months: ["202501", "202502", "202503"], exporter: ("RU", "IR"), importer: ("IR", "RU"), synthetic: true,
            exported: { _ in 100_000 }, imported: { $0 == "202503" ? nil : 108_000 }
        )
        // 216 / 200 = 1.080 (the usual CIF/FOB margin), not 216 / 300 = 0.720.
        #expect(mirror.ratio == "1.080" && mirror.gap == "16")
        #expect(mirror.monthsCompared == ["2025-01", "2025-02"] && mirror.onlyExports == ["2025-03"] && mirror.onlyImports.isEmpty)
        #expect(mirror.exports.value == "300" && mirror.exports.valueCompared == "200" && mirror.imports.valueCompared == "216")
    }

    // MARK: Over the protocol, both engines

    func with(_ engine: Engine, _ body: (ServiceHarness) async throws -> Void) async throws {
        try await ServiceHarness.with(engine, service: TradeMetricsTests.trade, peer: TradeMetricsTests.participants, body)
    }

    static func rows(_ rows: [(String, String, String, String, String)]) -> String {
        #"{"rows":[\#(rows.map { TradeMetricsTests.row($0.0, $0.1, $0.2, $0.3, $0.4) }.joined(separator: ","))]}"#
    }

    @Test(.timeLimit(.minutes(3)), arguments: Engine.allCases)
    func growthIsLikeForLikeWhenAMonthIsMissing(engine: Engine) async throws {
        try await self.with(engine) { env in
            // Russia's exports to Iran: 100 a month in 2024, 105 in January to August 2025.
            let rows = (1...9).map { ("RU", "IR", "X", "20240\($0)", "100") } + (1...8).map { ("RU", "IR", "X", "20250\($0)", "105") }
            _ = try await env.call("trade.observations.import", Self.rows(rows))
            let growth = try await env.call("trade.growth", #"{"reporter":"RU","partner":"IR","flow":"X","from":"2025-01","to":"2025-09"}"#)
            let computed = try #require(growth["computed"]?.array?.first?.object)
            #expect(computed["changePercent"] == .string("5.0"), "like for like, not 840 against 900 (-6.7)")
            #expect(computed["basis"] == .string("like-for-like"))
            #expect(computed["monthsCompared"] == .integer(8) && computed["monthsAsked"] == .integer(9))
            #expect(computed["comparedCurrent"] == .string("840") && computed["comparedBase"] == .string("800"))
            #expect(computed["leftOut"] == .array([.object(["current": .string("2025-09"), "base": .string("2024-09"), "missingIn": .string("current")])]))
            #expect(growth["note"]?.string?.contains("like for like over 8 of 9 months") == true)
        }
    }

    @Test(.timeLimit(.minutes(3)), arguments: Engine.allCases)
    func noCommonMonthAndMirrorOverCommonMonths(engine: Engine) async throws {
        try await self.with(engine) { env in
            let rows = [("RU", "IR", "X", "202501", "100"), ("RU", "IR", "X", "202402", "100")]
                + (1...3).map { ("RU", "IR", "X", "20250\($0 + 3)", "100") } + (1...2).map { ("IR", "RU", "M", "20250\($0 + 3)", "108") }
            _ = try await env.call("trade.observations.import", Self.rows(rows))
            let growth = try await env.call("trade.growth", #"{"reporter":"RU","partner":"IR","flow":"X","from":"2025-01","to":"2025-02"}"#)
            let computed = try #require(growth["computed"]?.array?.first?.object)
            #expect(computed["basis"] == .string("none") && computed["changePercent"] == nil && computed["reason"] == .string("no-common-month"))
            #expect(growth["note"]?.string?.contains("no month has data in both spans") == true)

            let mirror = try await env.call("trade.mirror", #"{"a":"RU","b":"IR","from":"2025-04","to":"2025-06"}"#)
            let comparison = try #require(mirror["comparisons"]?.array?.first?.object)
            #expect(comparison["ratio"] == .string("1.080") && comparison["gap"] == .string("16"), "over April and May, not 216 against 300")
            #expect(comparison["monthsCompared"] == .array([.string("2025-04"), .string("2025-05")]))
            #expect(comparison["onlyExports"] == .array([.string("2025-06")]))
        }
    }

    @Test(.timeLimit(.minutes(3)), arguments: Engine.allCases)
    func everySeriesRanksLikeForLikeAndListsApartWhatHasNoCommonMonth(engine: Engine) async throws {
        try await self.with(engine) { env in
            let table = GrowthOfEverySeriesTests.table(
                GrowthOfEverySeriesTests.months("RU", "IR", "X", "100", "120")
                    + GrowthOfEverySeriesTests.months("IR", "RU", "M", "100", "110")
                    // 2025-09 missing: 8 x 130 against 8 x 100, +30.0% (whole spans would say 1040 / 900, +15.6%).
                    + GrowthOfEverySeriesTests.months("AZ", "RU", "X", "100", "130", skipping: ["202509"])
                    // Only 2025: nothing to compare with.
                    + (1...9).map { ("TR", "RU", "X", "TOTAL", "20250\($0)", "50") }
            )
            _ = try await env.call("trade.observations.import", table)
            let all = try await env.call("trade.growth.all", #"{"from":"2025-01","to":"2025-09"}"#)
            let ranked = (all["rows"]?.array ?? []).compactMap(\.object)
            #expect(ranked.map { $0["reporter"] } == [.string("AZ"), .string("RU"), .string("IR")])
            #expect(ranked.map { $0["changePercent"] } == [.string("30.0"), .string("20.0"), .string("10.0")])
            #expect(ranked[0]["basis"] == .string("like-for-like") && ranked[0]["monthsCompared"] == .integer(8))
            #expect(all["series"] == .integer(4) && all["ranked"] == .integer(3) && all["apartCount"] == .integer(1))
            let apart = (all["apart"]?.array ?? []).compactMap(\.object)
            #expect(apart.map { $0["reporter"] } == [.string("TR")] && apart.first?["reason"] == .string("no-common-month"))
        }
    }
}
