import ConcordWire
import Testing

/// The question that checks an indicator bound to a trade series, as the type itself derives it.
struct IndicatorCheckQuestionTests {
    func check(baseline: String, target: String, flow: String, commodity: String? = nil) -> IndicatorCheck {
        IndicatorCheck(IndicatorCheck.Indicator(
            id: "i", title: "T", measure: "USD", baseline: .init(value: "1", date: baseline), target: .init(value: "2", date: target),
            series: .init(reporter: "IR-01", partner: "RU", flow: flow, commodity: commodity)
        ))
    }

    @Test func aYearIsItsTwelveMonthsAndAMonthItself() {
        let question = self.check(baseline: "2023", target: "2025-06-30", flow: "M", commodity: "27").question
        #expect(question == IndicatorCheck.Question(
            reporter: "IR-01", partner: "RU", flow: "M", commodity: "27", from: "2025-06", to: "2025-06", baseFrom: "2023-01", baseTo: "2023-12"
        ))
    }

    @Test func totalAsksBothFlowsAndOtherFlowsStayAsTheyAre() {
        #expect(self.check(baseline: "2024", target: "2025", flow: "TOTAL").question.flow == "total")
        #expect(self.check(baseline: "2024", target: "2025", flow: "RX").question.flow == "RX")
    }
}
