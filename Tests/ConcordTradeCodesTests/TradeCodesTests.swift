import ConcordProtocol
import ConcordTradeCodes
import Testing

/// Comtrade's codes and exact money, as pure values.
@Suite struct TradeCodesTests {
    @Test func moneyIsExactThousandths() {
        #expect(Milli.parse("3300000000.5") == 3_300_000_000_500)
        #expect(Milli.parse("-0.125") == -125)
        #expect(Milli.parse("1.2345") == nil)
        #expect(Milli.parse("12a") == nil)
        #expect(Milli.format(3_300_000_000_500) == "3300000000.5")
        #expect(Milli.format(-125) == "-0.125")
    }

    @Test func percentagesRoundHalfAwayFromZeroToOneDecimal() {
        #expect(Milli.percentChange(from: 1_000, to: 1_082) == "8.2")
        #expect(Milli.percentChange(from: 1_000, to: 918) == "-8.2")
        #expect(Milli.percentChange(from: 2_000, to: 2_001) == "0.1")
        #expect(Milli.percentChange(from: 0, to: 5) == nil)
        #expect(Milli.share(1, of: 3) == "33.3")
        #expect(Milli.ratio(108, 100) == "1.080")
    }

    @Test func periodsAreComtradesYearsAndMonths() throws {
        #expect(try TradeCodes.period("2025", field: "period") == ("2025", "A"))
        #expect(try TradeCodes.period("202509", field: "period") == ("202509", "M"))
        #expect(throws: ConcordError.self) { try TradeCodes.period("2025-09", field: "period") }
        #expect(throws: ConcordError.self) { try TradeCodes.period("202513", field: "period") }
        #expect(try TradeCodes.month("2025-09", field: "from") == "202509")
        #expect(TradeCodes.months(from: "202411", to: "202502", limit: 10) == ["202411", "202412", "202501", "202502"])
        #expect(TradeCodes.months(from: "202401", to: "202512", limit: 12) == nil)
    }

    @Test func areasAreISOCodesAndTheWorldOnlyWhereAllowed() throws {
        #expect(try TradeCodes.area("ir", field: "reporter", worldAllowed: false) == "IR")
        #expect(throws: ConcordError.self) { try TradeCodes.area("XX", field: "reporter", worldAllowed: false) }
    }

    /// A region is checked against ISO 3166-2 (Debian's iso-codes), as a country against 3166-1.
    @Test func regionsAreISO3166SubdivisionsThatExist() throws {
        #expect(try TradeCodes.area("IR-01", field: "reporter", worldAllowed: false) == "IR-01")
        #expect(try TradeCodes.area("ru-ast", field: "partner", worldAllowed: true) == "RU-AST")
        #expect(RegionTable.codes.count > 5_000)
        let error = try #require(throws: ConcordError.self) { try TradeCodes.area("IR-99", field: "reporter", worldAllowed: false) }
        #expect(error.code == .badRequest && error.field == "reporter")
        #expect(error.message.contains("'IR-99'") && error.message.contains("ISO 3166-2") && error.message.contains("IR-00"))
    }
}
