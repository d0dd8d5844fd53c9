import ConcordStorage
import Testing

@testable import ConcordRecords

/// What the store makes of a filter's condition: the SQL, and every value bound, never spliced.
@Suite struct RecordFilterTests {
    func render(_ condition: RecordFilter.Condition, _ value: SQLValue, after earlier: Int = 0) -> (String, [SQLValue]) {
        var binds = Array(repeating: SQLValue.null, count: earlier)
        let sql = RecordStore.sql(condition, value: value, binds: &binds)
        return (sql, Array(binds.dropFirst(earlier)))
    }

    @Test func comparisonsBindTheirValueAfterThoseBefore() {
        #expect(self.render(.equals("country"), .text("IR"), after: 2) == ("country = $3", [.text("IR")]))
        #expect(self.render(.atLeast("period"), .text("2024-01")) == ("period >= $1", [.text("2024-01")]))
        #expect(self.render(.atMost("period"), .text("2024-12")) == ("period <= $1", [.text("2024-12")]))
        #expect(self.render(.below("id"), .text("b")) == ("id < $1", [.text("b")]))
        #expect(self.render(.above("id"), .integer(7)) == ("id > $1", [.integer(7)]))
    }

    @Test func oneValueServesEveryColumnOfAnAlternative() {
        #expect(self.render(.equalsAny(["region_a", "region_b"]), .text("IR-01")) == ("(region_a = $1 OR region_b = $1)", [.text("IR-01")]))
    }

    @Test func listsAndSubdivisionsMatchWithTheValueBound() {
        #expect(self.render(.listHolds("sectors"), .text("energy")) == ("sectors LIKE '%|' || $1 || '|%'", [.text("energy")]))
        #expect(self.render(.subdivisionOf("reporter"), .text("IR")) == ("reporter LIKE $1 || '-%'", [.text("IR")]))
    }

    @Test func searchTextIsEscapedSoItsWildcardsAreLiteral() {
        #expect(self.render(.containsText("search"), .text("50%_off")) == (#"search LIKE $1 ESCAPE '\'"#, [.text(#"%50\%\_off%"#)]))
    }

    @Test func fixedValuesAreBoundToo() {
        let (sql, binds) = self.render(.all([.below("due_by"), .noneOf("status", ["done", "cancelled"])]), .text("2026-12-01"))
        #expect(sql == "due_by < $1 AND status NOT IN ($2, $3)")
        #expect(binds == [.text("2026-12-01"), .text("done"), .text("cancelled")])
    }

    @Test func recordsOfAnotherTableAreASubquery() {
        #expect(self.render(.namesRecordOf("instrument", table: "instruments", key: "id", where: "session"), .integer(6))
            == ("instrument IN (SELECT id FROM instruments WHERE session = $1)", [.integer(6)]))
        #expect(self.render(.listNamesRecordOf("affected_instruments", table: "instruments", key: "id", where: "session"), .integer(6))
            == ("EXISTS (SELECT 1 FROM instruments WHERE instruments.session = $1 AND affected_instruments LIKE '%|' || instruments.id || '|%')", [.integer(6)]))
    }

    enum Colour: String, CaseIterable { case red, green }

    @Test func aVocabularyFilterTakesItsValuesAsAWriteDoesAndRefusesTheRest() throws {
        let filter = RecordFilter.oneOf("colour", Colour.self)
        #expect(try filter.normalise?(" Green ") == "green")
        do {
            _ = try filter.normalise?("blue")
            Issue.record("blue is no colour here")
        } catch {
            #expect(error.message == "colour must be one of red, green; got 'blue'")
            #expect(error.field == "colour")
        }
    }
}
