import ConcordProtocol
import ConcordWords
import Testing

/// A refusal said in the reader's language from the rule it carries: the field named, what was
/// given, what is allowed; the service's English message where there is no rule, and in English.
@Suite("Refusals in Persian, Russian and English")
struct RefusalTests {
    let status = ConcordError(
        .badRequest, "status must be one of signed, in-force; got 'flying'", field: "body.status",
        rule: .oneOf(allowed: ["signed", "in-force"], got: "flying")
    )

    @Test func aRuleIsSaidInTheReadersLanguage() {
        let fa = Words(.fa).refusal(self.status)
        #expect(fa == "«\u{2068}status\u{2069}» باید یکی از این‌ها باشد: \u{2068}signed, in-force\u{2069}؛ مقدار داده‌شده: «\u{2068}flying\u{2069}»")
        let ru = Words(.ru).refusal(self.status)
        #expect(ru == "«\u{2068}status\u{2069}» должно быть одним из: \u{2068}signed, in-force\u{2069}; получено «\u{2068}flying\u{2069}»")
    }

    @Test func englishIsTheServicesOwnMessage() {
        #expect(Words(.en).refusal(self.status) == self.status.message)
    }

    @Test func withoutARuleTheMessageStands() {
        let error = ConcordError(.badRequest, "body must be {\"columns\": [field names], \"rows\": [[values]]}", field: "body")
        #expect(Words(.fa).refusal(error) == error.message)
        #expect(Words(.ru).refusal(error) == error.message)
    }

    @Test func aFormsLabelNamesTheField() {
        let due = ConcordError(.badRequest, "due day 30 is out of range", field: "body.due", rule: .range(low: "01", high: "28", got: "30"))
        #expect(Words(.ru).refusal(due, label: "Срок") == "«Срок»: \u{2068}30\u{2069} вне допустимого диапазона (\u{2068}01\u{2069}–\u{2068}28\u{2069})")
    }

    /// A rule that names another field names it by its form's label too, where there is one.
    @Test func anotherFieldIsNamedByItsLabel() {
        let end = ConcordError(.badRequest, "to is before from", field: "body.to", rule: .notBefore(other: "from"))
        let labels = ["from": "С месяца"]
        #expect(Words(.ru).refusal(end, label: "По месяц", labelOf: { labels[$0] }) == "«По месяц» не может быть раньше «С месяца»")
        #expect(Words(.fa).refusal(end, isolate: { $0 }) == "«to» نباید پیش از «from» باشد")
        #expect(Words(.en).refusal(end) == "to is before from")
    }

    /// A workflow's refused move says where it may go, or that its state is final.
    @Test func aRefusedMoveSaysTheMovesAllowed() {
        let move = ConcordError(.badRequest, "from signed ...", field: "body.to", rule: .move(from: "signed", allowed: ["in-force", "withdrawn"], got: "proposed"))
        #expect(Words(.ru).refusal(move, isolate: { $0 }) == "Из состояния «signed» можно перейти только в: in-force, withdrawn; не в «proposed»")
        let final = ConcordError(.badRequest, "completed is final", field: "body.to", rule: .move(from: "completed", allowed: [], got: "signed"))
        #expect(Words(.fa).refusal(final, isolate: { $0 }) == "وضعیت «completed» پایانی است و از آن به وضعیت دیگری نمی‌توان رفت")
    }

    /// Every rule has words in each language, with nothing left unfilled; a record's rule keeps
    /// the service's message, which names the records.
    @Test(arguments: [Language.fa, .ru])
    func everyRuleIsSaid(_ language: Language) {
        let rules: [Rule] = [
            .required, .empty, .tooLong(max: 200), .tooMany(max: 5), .controlCharacters, .oneOf(allowed: ["a"], got: "b"),
            .type(expected: .integer), .range(low: "1", high: "2", got: "3"), .json, .noRecord, .exists, .versionMoved,
            .stillNamed, .unknownReference, .notBefore(other: "startDate"), .notAfter(other: "until"), .differs(other: "regionA"),
            .cycle, .move(from: "signed", allowed: ["in-force"], got: "proposed"), .move(from: "completed", allowed: [], got: "signed"),
            .unknownField(allowed: ["id"]),
        ] + Rule.Form.allCases.map { .form($0, got: "x") } + Rule.Part.allCases.map { .range(low: "1", high: "2", got: "3", part: $0) } + Rule.ValueType.allCases.map { .type(expected: $0) }
        for rule in rules {
            let error = ConcordError(.badRequest, "the English", field: "body.owner.official", rule: rule)
            let text = Words(language).refusal(error)
            #expect(!text.contains("{"), "\(rule): \(text)")
            #expect(text != error.message, "\(rule) is said in \(language)")
            switch rule {
            case .noRecord, .exists, .stillNamed, .unknownReference: #expect(text.contains("the English"), "\(rule): \(text)")
            case .json, .versionMoved, .move: break
            default: #expect(text.contains("owner.official"), "\(rule): \(text)")
            }
        }
    }

    /// Every code has a meaning in each language, its own: two codes are never said alike.
    @Test(arguments: [Language.fa, .ru, .en])
    func everyCodeHasItsMeaning(_ language: Language) {
        let said = ErrorCode.all.map { Words(language).meaning(of: $0) }
        #expect(Set(said).count == ErrorCode.all.count, "\(said)")
        if language != .en {
            #expect(zip(said, ErrorCode.all.map { Words(.en).meaning(of: $0) }).allSatisfy { $0 != $1 })
        }
    }
}
