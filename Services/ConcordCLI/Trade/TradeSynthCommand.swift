import ArgumentParser
import ConcordBalancer
import ConcordTradeCodes
#if canImport(Glibc)
import Glibc
#endif

/// `concord trade synth --rows N --seed S > file.csv`: Comtrade-format CSV for tests and
/// benchmarks. Every row says it is synthetic (the `synthetic` column is true), and every answer
/// computed from such rows says so too. Nothing here is a fact.
struct TradeSynthCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "synth",
        abstract: "Write synthetic Comtrade-format CSV (labelled synthetic in every row) to standard output."
    )

    @Option(help: "How many rows.")
    var rows: Int
    @Option(help: "The generator's seed: the same seed writes the same file.")
    var seed: UInt64 = 1
    @Option(help: "Months, ending December 2025.")
    var months: Int = 24
    @Option(help: "Commodities per series (HS 2-digit chapters), besides none for TOTAL.")
    var commodities: Int = 5

    func validate() throws {
        guard self.rows > 0 else { throw ValidationError("--rows must be positive") }
        guard (1...240).contains(self.months) else { throw ValidationError("--months must be from 1 to 240") }
        guard (1...97).contains(self.commodities) else { throw ValidationError("--commodities must be from 1 to 97") }
    }

    func run() throws {
        var generator = SplitMix64(seed: self.seed)
        let countries = CountryTable.entries
        var out = "freqCode,refYear,refMonth,period,reporterCode,reporterISO,partnerCode,partnerISO,partner2Code,flowCode,classificationCode,cmdCode,customsCode,motCode,primaryValue,netWgt,qtyUnitAbbr,isAggregate,synthetic\n"
        // Series (reporter, partner, flow, commodity) in turn, each for every month, until N rows.
        var written = 0
        var series = 0
        while written < self.rows {
            let reporter = countries[series % countries.count]
            // Never the reporter itself: an offset of 1 to count - 1 places along the table.
            let partner = countries[(series + 1 + (series / countries.count) % (countries.count - 1)) % countries.count]
            let flow = series % 2 == 0 ? "X" : "M"
            let chapter = (series / 2) % self.commodities + 1
            let commodity = chapter < 10 ? "0\(chapter)" : "\(chapter)"
            for index in 0..<self.months where written < self.rows {
                let monthIndex = 2025 * 12 + 11 - (self.months - 1 - index)
                let year = monthIndex / 12
                let month = monthIndex % 12 + 1
                let cents = 1_000_000 + Int(generator.next() % 900_000_000)
                let value = "\(cents / 100).\(cents % 100 < 10 ? "0" : "")\(cents % 100)"
                let weight = Int(generator.next() % 5_000_000)
                out += "M,\(year),\(month),\(year)\(month < 10 ? "0" : "")\(month),\(reporter.numeric),\(reporter.alpha3),\(partner.numeric),\(partner.alpha3),0,\(flow),H6,\(commodity),C00,0,\(value),\(weight),kg,false,true\n"
                written += 1
                if out.utf8.count > 1 << 20 {
                    writeAll(out, to: STDOUT_FILENO)
                    out = ""
                }
            }
            series += 1
        }
        writeAll(out, to: STDOUT_FILENO)
    }
}
