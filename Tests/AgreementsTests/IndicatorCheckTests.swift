import ConcordWire
import Testing

@testable import Agreements

/// What checks an indicator bound to a trade series: agreements says it, the gateway carries it.
@Suite struct IndicatorCheckTests {
    func indicator(baseline: String?, target: String?, flow: String = "TOTAL", series: Bool = true) -> Indicator {
        Indicator(
            id: "turnover", title: "Bilateral turnover", instrument: "roadmap", measure: "USD", ascending: true,
            baseline: baseline.map { Indicator.Value(value: "4000000000", date: $0, source: "customs") },
            target: target.map { Indicator.Value(value: "5000000000", date: $0) },
            series: series ? Indicator.Series(reporter: "RU", partner: "IR", flow: flow, commodity: nil) : nil
        )
    }

    @Test func yearsAreComparedWholeAndTotalAsksBothFlows() throws {
        let check = try #require(self.indicator(baseline: "2024", target: "2026").check)
        #expect(check.question == IndicatorCheck.Question(
            reporter: "RU", partner: "IR", flow: "total", commodity: nil, from: "2026-01", to: "2026-12", baseFrom: "2024-01", baseTo: "2024-12"
        ))
        #expect(check.indicator.id == "turnover" && check.indicator.baseline.value == "4000000000" && check.indicator.target.date == "2026")
    }

    @Test func aMonthOrADayIsItsMonth() throws {
        let check = try #require(self.indicator(baseline: "2024-03-15", target: "2026-03", flow: "X").check)
        #expect([check.question.from, check.question.to, check.question.baseFrom, check.question.baseTo] == ["2026-03", "2026-03", "2024-03", "2024-03"])
        #expect(check.question.flow == "X")
    }

    @Test func withoutASeriesABaselineOrATargetThereIsNothingToCheck() {
        #expect(self.indicator(baseline: "2024", target: "2026", series: false).check == nil)
        #expect(self.indicator(baseline: nil, target: "2026").check == nil)
        #expect(self.indicator(baseline: "2024", target: nil).check == nil)
    }
}
