import ConcordProtocol
import ConcordWords
import Testing

@testable import ConcordCLI

/// What the CLI prints on stderr when a call is refused: the English it always printed, and in
/// Persian or Russian the code kept, the rule said in the reader's words, nothing isolated.
@Suite("The CLI's error line")
struct ErrorLineTests {
    let month = ConcordError(
        .badRequest, "from month 13 is out of range (01-12)", field: "body.from", rule: .range(low: "01", high: "12", got: "13", part: .month)
    )

    @Test func englishIsUnchanged() {
        #expect(errorLine(self.month, words: Words(.en)) == "error bad_request: from month 13 is out of range (01-12) (field: body.from)")
    }

    @Test func russianAndPersianSayTheRule() {
        #expect(
            errorLine(self.month, words: Words(.ru))
                == "ошибка bad_request: «from»: месяц 13 вне допустимого диапазона (01–12)"
        )
        #expect(errorLine(self.month, words: Words(.fa)) == "خطا (bad_request): «from»: ماه ۱۳ بیرون از بازهٔ ۰۱ تا ۱۲ است")
    }

    @Test func withoutARuleTheCodeIsSaidThenTheMessage() {
        let error = ConcordError(.unavailable, "cannot connect to 127.0.0.1:7400", field: nil)
        #expect(
            errorLine(error, words: Words(.ru))
                == "ошибка unavailable: Конкорд недоступен или ещё не готов; повторите чуть позже: cannot connect to 127.0.0.1:7400"
        )
        let refused = ConcordError(.badRequest, "expected a JSON body", field: "metadata")
        #expect(errorLine(refused, words: Words(.fa)) == "خطا (bad_request): درخواست پذیرفته نشد: expected a JSON body (field: metadata)")
    }
}
