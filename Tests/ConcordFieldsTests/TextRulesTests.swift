import ConcordFields
import ConcordProtocol
import Testing


/// The text helpers the field rules build on, which stand in for Foundation's.
@Suite("Text rules")
struct TextRulesTests {
    @Test func trimmingSpacesKeepsLineBreaks() {
        #expect(" \t IR \u{00A0}\u{3000}".trimmingSpaces() == "IR")
        #expect("IR\n".trimmingSpaces() == "IR\n")
        #expect("  ".trimmingSpaces() == "")
        #expect("a b".trimmingSpaces() == "a b")
    }

    @Test func uppercasedIfNeededIsUppercased() {
        for text in ["", "IR", "ir", "Ir-01", "C00", "n/a", "W00", "{|}~", "straße", "é", "кг", "İi", "a\u{301}", "TOTAL", "h6"] {
            #expect(text.uppercasedIfNeeded() == text.uppercased(), "\(text)")
        }
    }

    @Test func trimmingWhitespaceTakesLineBreaksToo() {
        #expect("\n\r\t Gilan\u{2028}\u{85} ".trimmingWhitespace() == "Gilan")
        #expect(" Астрахань ".trimmingWhitespace() == "Астрахань")
        #expect("\n \n".trimmingWhitespace() == "")
        #expect("e\u{301} ".trimmingWhitespace() == "e\u{301}")
    }

    @Test func partialDatesPrintWithLeadingZeros() throws {
        #expect(try PartialDate(parsing: "1999", field: "date").description == "1999")
        #expect(try PartialDate(parsing: "2025-12", field: "date").description == "2025-12")
        #expect(try PartialDate(parsing: "2025-02-03", field: "date").description == "2025-02-03")
    }

    @Test func aBrokenFieldRuleSaysWhichRuleAsData() {
        func rule(_ work: () throws -> Any) -> Rule? {
            do { _ = try work() } catch { return (error as? ConcordError)?.rule }
            return nil
        }
        #expect(rule { try FieldRules.text("  ", field: "title") } == .empty)
        #expect(rule { try FieldRules.text(String(repeating: "я", count: 201), field: "title") } == .tooLong(max: 200))
        #expect(rule { try FieldRules.text("a\u{7}b", field: "title") } == .controlCharacters)
        #expect(rule { try FieldRules.oneOf("flying", ["signed", "in-force"], field: "status") } == .oneOf(allowed: ["signed", "in-force"], got: "flying"))
        #expect(rule { try FieldRules.countryCode("IRN", field: "country") } == .form(.countryCode, got: "IRN"))
        #expect(rule { try FieldRules.regionCode("IR", field: "region") } == .form(.regionCode, got: "IR"))
        #expect(rule { try FieldRules.slug("Mehdi", field: "id") } == .form(.slug, got: "Mehdi"))
        #expect(rule { try FieldRules.slugList(Array(repeating: "a", count: 21), field: "sectors") } == .tooMany(max: 20))
        #expect(rule { try FieldRules.localNames(["farsi": "x"], field: "localNames") } == .form(.languageCode, got: "farsi"))
        #expect(rule { try FieldRules.decimal("8,2", field: "value") } == .form(.decimal, got: "8,2"))
        #expect(rule { try FieldRules.slugKey(nil, isNew: false, prefix: "a") } == .required)
        #expect(rule { try PartialDate(parsing: "2026-2-30", field: "due") } == .form(.date, got: "2026-2-30"))
        #expect(rule { try PartialDate(parsing: "2026-13", field: "due") } == .range(low: "01", high: "12", got: "13", part: .month))
        #expect(rule { try PartialDate(parsing: "2026-02-30", field: "due") } == .range(low: "01", high: "28", got: "30", part: .day))
        #expect(rule { try PartialDate(parsing: "1066", field: "due") } == .range(low: "1900", high: "2100", got: "1066", part: .year))
    }
}
