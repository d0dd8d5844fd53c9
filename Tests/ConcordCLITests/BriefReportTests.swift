import ConcordProtocol
import ConcordWords
import NIOCore
import Testing

import ConcordBriefs
@testable import ConcordCLI

/// The session brief as a person reads it, from an answer of `brief.session`: a dangling owner
/// reads as unknown, and a growth over fewer months than asked says so, in each language.
@Suite("The session brief's report")
struct BriefReportTests {
    /// A brief with one action owned by an official participants no longer has, and the stated
    /// growth beside a computed one that lacks September in the current span (synthetic figures).
    static let answer = #"""
    {"number":6,"missing":[],
     "session":{"number":6,"startDate":"2025-12","city":"Moscow","hostCountry":"RU"},
     "attendees":[{"attendance":{"role":"co-chair"},"official":{"id":"mehdi-dousti","name":"Mehdi Dousti","localNames":{"fa":"مهدی دوستی"}}}],
     "followup":{"session":6,"asOf":"2026-12-02","items":[],"obstacles":[],
       "sessionActions":[{"id":"a1","title":"Help","status":"planned","owner":{"official":"ghost-official"}}]},
     "trade":[{"stated":{"flow":"total","measure":"growth","value":"8.2","unit":"percent","reporter":"RU","partner":"IR",
                         "from":"2025-01","to":"2025-09","baseFrom":"2024-01","baseTo":"2024-09","statedBy":"mehdi-dousti","source":"s"},
               "computed":{"reporter":"RU","partner":"IR","flow":"total","commodity":"TOTAL","stated":[],"computed":[{"source":"Test source","synthetic":true,"complete":false,"basis":"like-for-like","changePercent":"5.0",
                 "current":{"from":"2025-01","to":"2025-09","value":"840","monthsCovered":[],"monthsMissing":["2025-09"]},
                 "base":{"from":"2024-01","to":"2024-09","value":"900","monthsCovered":[],"monthsMissing":[]},
                 "compared":[],"comparedCurrent":"840","comparedBase":"800","monthsCompared":8,"monthsAsked":9,
                 "leftOut":[{"current":"2025-09","base":"2024-09","missingIn":"current"}]}]}}]}
    """#

    func brief() throws -> SessionBrief {
        var brief = try JSONBody.decode(SessionBrief.self, from: ByteBuffer(string: Self.answer))
        brief.lookedUp.unknown = ["ghost-official"]
        return brief
    }

    @Test func aDanglingOwnerReadsAsUnknownInEveryLanguage() throws {
        let brief = try self.brief()
        #expect(brief.officialsToLookUp == ["ghost-official"], "the attendees are known already")
        #expect(brief.render(width: 120, words: Words(.en)).contains("unknown official `ghost-official`"))
        #expect(brief.render(width: 120, words: Words(.fa)).contains("مقام ناشناخته `ghost-official`"))
        #expect(brief.render(width: 120, words: Words(.ru)).contains("неизвестное должностное лицо `ghost-official`"))
        let page = BriefHTML(words: Words(.en), brief: brief).render(brief, months: [])
        #expect(page.contains("unknown official `ghost-official`"))
    }

    @Test func aFigureOverFewerMonthsSaysSoInEveryLanguage() throws {
        let brief = try self.brief()
        let english = brief.render(width: 200, words: Words(.en))
        #expect(english.contains("Computed: +5.0% like for like over 8 of 9 months (Test source): 840 against 800 USD"))
        #expect(english.contains("the computed figure covers 8 of the 9 months the statement covers"))
        #expect(english.contains("left out: 2025-09 missing (and 2024-09 with it)"))
        let persian = brief.render(width: 200, words: Words(.fa))
        #expect(persian.contains("به‌طور هم‌سنج در ۸ ماه از ۹ ماه"))
        #expect(persian.contains("مهدی دوستی"), "the speaker by name, in Persian")
        let russian = brief.render(width: 200, words: Words(.ru))
        #expect(russian.contains("+5,0\u{202F}% в сопоставимых месяцах: 8 из 9"))
        #expect(russian.contains("расчёт охватывает 8 из 9 месяцев"))
    }
}
