import ConcordBriefs
import ConcordProtocol
import ConcordTradeCodes
import ConcordWire
import ConcordWords
import NIOConcurrencyHelpers
import NIOCore
import Testing

/// The pieces the session brief is read through, on the terminal and as a page, without a
/// service: the months behind a stated growth, how a computed growth reads, and who an owner is.
/// Figures are synthetic.
@Suite("The brief's parts")
struct BriefPartsTests {
    /// A figure over `months` of 2025 against the same months of 2024, from values in USD (nil:
    /// no data that month).
    static func figure(current: [Double?], base: [Double?]) -> GrowthFigure {
        let months = (1...current.count).map { $0 < 10 ? "0\($0)" : "\($0)" }
        var values: [String: Int64] = [:]
        for (index, month) in months.enumerated() {
            if let value = current[index] { values["2025" + month] = Int64(value * 1000) }
            if let value = base[index] { values["2024" + month] = Int64(value * 1000) }
        }
        return GrowthFigure(
            source: "Test source", currentMonths: months.map { "2025" + $0 }, baseMonths: months.map { "2024" + $0 }, synthetic: true
        ) { values[$0] }
    }

    @Test func monthsBetweenCountsEveryMonthAcrossAYear() {
        #expect(monthsBetween("2024-11", "2025-02") == ["202411", "202412", "202501", "202502"])
        #expect(monthsBetween("2025-03", "2025-03") == ["202503"])
        #expect(monthsBetween("2025-03", "2025-01").isEmpty)
    }

    /// Each flow is asked for once per span; a month counts only when every flow has it, and a
    /// base month stands beside the current month in the same place of its span.
    @Test func theChartsMonthsSumTheFlowsAndSkipHalfMonths() async throws {
        let asked = NIOLockedValueBox<[String]>([])
        let points: [String: [(String, String)]] = [
            "X 2025-01": [("202501", "10"), ("202502", "20"), ("202503", "30")],
            "M 2025-01": [("202501", "1"), ("202503", "3")],
            "X 2024-01": [("202401", "5"), ("202402", "6"), ("202403", "7")],
            "M 2024-01": [("202401", "0.5"), ("202402", "0.5"), ("202403", "0.5")],
        ]
        let months = try await BriefHTML.months(
            reporter: "RU", partner: "IR", flows: ["X", "M"], span: ("2025-01", "2025-03"), base: ("2024-01", "2024-03")
        ) { body in
            asked.withLockedValue { $0.append(body) }
            let flow = body.contains(#""flow":"X""#) ? "X" : "M"
            let from = body.contains(#""from":"2025-01""#) ? "2025-01" : "2024-01"
            return (points["\(flow) \(from)"] ?? []).map {
                SeriesPoint(period: $0.0, value: $0.1, source: "Test source", published: "2025-06-01", revisions: 1, synthetic: true)
            }
        }
        #expect(asked.withLockedValue { $0 } == [
            #"{"reporter":"RU","partner":"IR","flow":"X","from":"2025-01","to":"2025-03"}"#,
            #"{"reporter":"RU","partner":"IR","flow":"M","from":"2025-01","to":"2025-03"}"#,
            #"{"reporter":"RU","partner":"IR","flow":"X","from":"2024-01","to":"2024-03"}"#,
            #"{"reporter":"RU","partner":"IR","flow":"M","from":"2024-01","to":"2024-03"}"#,
        ])
        #expect(months.map(\.label) == ["01", "02", "03"])
        #expect(months.map(\.current) == [11, nil, 33], "February has exports only")
        #expect(months.map(\.base) == [5.5, 6.5, 7.5])
    }

    @Test func aCompleteFigureReadsAsItsChangeAlone() {
        let figure = Self.figure(current: [110, 110], base: [100, 100])
        let growth = GrowthWords(words: Words(.en))
        #expect(figure.basis == .wholeSpan)
        #expect(growth.headline(figure) == "+10.0%")
        #expect(growth.sums(figure) == "220 against 200 USD")
        #expect(growth.leftOut(figure) == nil)
        #expect(growth.besideStated(figure) == nil, "nothing to say beside a statement over the same months")
    }

    @Test func aFigureOverFewerMonthsSaysHowManyAndWhichWereLeftOut() {
        let figure = Self.figure(current: [110, nil, 120], base: [100, 100, nil])
        let growth = GrowthWords(words: Words(.en))
        #expect(figure.basis == .likeForLike)
        #expect(growth.headline(figure) == "+10.0% like for like over 1 of 3 months")
        #expect(growth.sums(figure) == "110 against 100 USD")
        #expect(growth.leftOut(figure) == "left out: 2025-02 missing (and 2024-02 with it); 2024-03 missing (and 2025-03 with it)")
        #expect(growth.besideStated(figure) == "the computed figure covers 1 of the 3 months the statement covers")
    }

    @Test func noFigureSaysWhy() {
        let growth = GrowthWords(words: Words(.en))
        let zero = Self.figure(current: [110], base: [0])
        #expect(zero.basis == .none)
        #expect(growth.headline(zero) == "no figure: the base is zero")
        let disjoint = Self.figure(current: [110, nil], base: [nil, 100])
        #expect(growth.headline(disjoint) == "no figure: no month has data in both spans")
        #expect(growth.sums(disjoint) == nil)
        #expect(growth.reason(nil) == "no data")
    }

    @Test func aComputedFigureReadsInEachLanguage() {
        let figure = Self.figure(current: [110, nil, 120], base: [100, 100, nil])
        #expect(GrowthWords(words: Words(.ru)).headline(figure).contains("1 из 3"))
        #expect(GrowthWords(words: Words(.fa)).headline(figure).contains("۱ ماه از ۳ ماه"))
    }

    @Test func anOwnerReadsByNameWhenKnownAndAsUnknownWhenParticipantsHasNone() throws {
        var brief = try JSONBody.decode(SessionBrief.self, from: ByteBuffer(string: #"""
        {"number":6,"missing":[],
         "attendees":[{"attendance":{"role":"co-chair"},"official":{"id":"mehdi-dousti","name":"Mehdi Dousti","localNames":{"fa":"مهدی دوستی"}}}],
         "followup":{"session":6,"asOf":"2026-12-02","items":[],"obstacles":[],
           "sessionActions":[{"id":"a1","title":"Help","status":"planned","owner":{"official":"ghost-official"}},
                             {"id":"a2","title":"Meet","status":"planned","owner":{"official":"mehdi-dousti"}},
                             {"id":"a3","title":"Ship","status":"planned","owner":{"organisation":"Astrakhan port"}}]}}
        """#))
        #expect(brief.officialsToLookUp == ["ghost-official"], "the attendees are known already")
        brief.lookedUp.unknown = ["ghost-official"]
        let english = Words(.en)
        #expect(brief.owner(["official": "mehdi-dousti"], english) == "Mehdi Dousti")
        #expect(brief.owner(["official": "mehdi-dousti"], Words(.fa)) == "مهدی دوستی")
        #expect(brief.owner(["official": "ghost-official"], english) == "unknown official `ghost-official`")
        #expect(brief.owner(["organisation": "Astrakhan port"], english) == "Astrakhan port")
        #expect(brief.official("someone-else", english) == "someone-else", "not looked up: the id as it is")
    }
}
