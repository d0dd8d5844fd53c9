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
    @Option(help: "HS chapters per series and month, besides the TOTAL row they sum to.")
    var commodities: Int = 5

    func validate() throws {
        guard self.rows > 0 else { throw ValidationError("--rows must be positive") }
        guard (1...240).contains(self.months) else {
            throw UsageErrors.refusal("--months must be from 1 to 240", option: "--months", rule: .range(low: "1", high: "240", got: "\(self.months)"))
        }
        guard (1...97).contains(self.commodities) else {
            throw UsageErrors.refusal("--commodities must be from 1 to 97", option: "--commodities", rule: .range(low: "1", high: "97", got: "\(self.commodities)"))
        }
    }

    func run() throws {
        var generator = SplitMix64(seed: self.seed)
        let countries = CountryTable.entries
        var out = "freqCode,refYear,refMonth,period,reporterCode,reporterISO,partnerCode,partnerISO,partner2Code,flowCode,classificationCode,cmdCode,customsCode,motCode,primaryValue,netWgt,qtyUnitAbbr,isAggregate,synthetic\n"
        // Series (reporter, partner, flow) in turn, each distinct, for every month: a TOTAL row
        // and one row per chapter, the chapters summing to the TOTAL (as a customs report does).
        let seriesCount = countries.count * (countries.count - 1) * 2
        var written = 0
        var series = 0
        var chapterCents = [Int](repeating: 0, count: self.commodities)
        while written < self.rows {
            guard series < seriesCount else {
                throw ValidationError("--rows \(self.rows) needs more than the \(seriesCount) distinct series the country table gives")
            }
            // Pairs in an order that spreads reporters: flow fastest, then reporter, then the partner's offset.
            let flow = series % 2 == 0 ? "X" : "M"
            let reporterIndex = (series / 2) % countries.count
            let offset = 1 + (series / 2 / countries.count)
            let reporter = countries[reporterIndex]
            let partner = countries[(reporterIndex + offset) % countries.count]
            for index in 0..<self.months where written < self.rows {
                let monthIndex = 2025 * 12 + 11 - (self.months - 1 - index)
                let year = monthIndex / 12
                let month = monthIndex % 12 + 1
                let period = "\(year)\(month < 10 ? "0" : "")\(month)"
                let prefix = "M,\(year),\(month),\(period),\(reporter.numeric),\(reporter.alpha3),\(partner.numeric),\(partner.alpha3),0,\(flow),H6,"
                for chapter in 0..<self.commodities { chapterCents[chapter] = 100_000 + Int(generator.next() % 90_000_000) }
                let weight = Int(generator.next() % 5_000_000)
                out += prefix + "TOTAL,C00,0,\(Self.usd(chapterCents.reduce(0, +))),\(weight),kg,true,true\n"
                written += 1
                for chapter in 0..<self.commodities where written < self.rows {
                    let code = chapter + 1 < 10 ? "0\(chapter + 1)" : "\(chapter + 1)"
                    out += prefix + "\(code),C00,0,\(Self.usd(chapterCents[chapter])),\(weight / self.commodities),kg,false,true\n"
                    written += 1
                }
                if out.utf8.count > 1 << 20 {
                    writeAll(out, to: STDOUT_FILENO)
                    out = ""
                }
            }
            series += 1
        }
        writeAll(out, to: STDOUT_FILENO)
    }

    /// Cents as USD with two decimals.
    static func usd(_ cents: Int) -> String { "\(cents / 100).\(cents % 100 < 10 ? "0" : "")\(cents % 100)" }
}
