import ConcordFields
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
}
