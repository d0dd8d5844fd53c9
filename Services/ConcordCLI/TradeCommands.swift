import ArgumentParser
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import ConcordProtocol
import NIOCore

/// `concord trade ...`: questions about trade, through the gateway.
struct TradeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "trade", abstract: "Trade between the regions: growth against a stated figure, mirror data, Comtrade import.",
        subcommands: [Growth.self, GrowthAll.self, Mirror.self, TradeImportCommand.self, TradeSynthCommand.self]
    )

    /// The options a trade question shares.
    struct Span: ParsableArguments {
        @Option(help: "First month, YYYY-MM.")
        var from: String
        @Option(help: "Last month, YYYY-MM.")
        var to: String
        @Option(help: "Answer as the sources had published it on this day (YYYY-MM-DD).")
        var asPublishedOn: String?
        @Option(help: "TOTAL (default) or an HS code of 2, 4 or 6 digits.")
        var commodity: String?
    }

    struct Growth: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "A span against a base span (by default the same months a year earlier), beside the figures stated about it.")
        @OptionGroup var endpoint: EndpointOptions
        @OptionGroup var span: Span
        @Option(help: "Reporter: ISO 3166-1 code (or 3166-2 region), e.g. RU.")
        var reporter: String
        @Option(help: "Partner, e.g. IR; W0 for the world.")
        var partner: String
        @Option(help: "X (exports), M (imports), or total.")
        var flow: String = "total"
        @Option(help: "First month of the base span (default: a year before --from).")
        var baseFrom: String?
        @Option(help: "Last month of the base span (default: a year before --to).")
        var baseTo: String?
        @OptionGroup var output: OutputOptions

        func run() async throws {
            let fields: [String: String?] = [
                "reporter": self.reporter, "partner": self.partner, "flow": self.flow, "from": self.span.from, "to": self.span.to,
                "baseFrom": self.baseFrom, "baseTo": self.baseTo, "asPublishedOn": self.span.asPublishedOn, "commodity": self.span.commodity,
            ]
            let body = String(decoding: try JSONEncoder().encode(fields.compactMapValues { $0 }), as: UTF8.self)
            self.output.print(try await callAndReport(self.endpoint, "trade.growth", body: body)) { answer, _ in
                var out = "\(self.reporter)–\(self.partner), \(answer[path: "flow"]?.cell ?? ""), \(self.span.from)..\(self.span.to)\n"
                let computed = answer[path: "computed"]?.rows ?? []
                if computed.isEmpty { out += "Computed: no observations for these months\n" }
                for row in computed {
                    let change = row[path: "changePercent"]?.cell.nonEmpty.map { ($0.hasPrefix("-") ? "" : "+") + $0 + "%" } ?? "not computable"
                    out += "Computed: \(change) (\(row[path: "source"]?.cell ?? "")): \(Table.grouped(row[path: "current.value"]?.cell ?? "-")) against "
                        + "\(Table.grouped(row[path: "base.value"]?.cell ?? "-")) USD" + (row[path: "synthetic"] == .bool(true) ? " — SYNTHETIC data" : "") + "\n"
                    let missing = (row[path: "current.monthsMissing"]?.rows ?? []) + (row[path: "base.monthsMissing"]?.rows ?? [])
                    if !missing.isEmpty { out += "  months missing: " + missing.map(\.cell).joined(separator: ", ") + "\n" }
                }
                for stated in answer[path: "stated"]?.rows ?? [] {
                    out += "Stated:   \(stated[path: "value"]?.cell ?? "")\(stated[path: "unit"] == .string("percent") ? "%" : " USD")"
                        + " by \(stated[path: "statedBy"]?.cell ?? "?") — \(stated[path: "source"]?.cell ?? "")\n"
                }
                if let note = answer[path: "note"]?.cell, !note.isEmpty { out += "Note: \(note)\n" }
                return String(out.dropLast())
            }
        }
    }

    struct GrowthAll: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "growth-all",
            abstract: "Growth of every series (reporter, partner, flow) at once, ranked: TOTAL, monthly, against the same months a year earlier."
        )
        @OptionGroup var endpoint: EndpointOptions
        @Option(help: "First month, YYYY-MM.")
        var from: String
        @Option(help: "Last month, YYYY-MM.")
        var to: String
        @Option(help: "X or M only (default: both, each its own series).")
        var flow: String?
        @Option(help: "change (largest growth first), decline (largest fall first) or series.")
        var order: String = "change"
        @Option(help: "How many series to show (1-500).")
        var limit: Int = 20
        @Option(help: "Skip this many (the answer's next page starts at 'next').")
        var offset: Int = 0
        @OptionGroup var output: OutputOptions

        func run() async throws {
            var object: JSONObject = [
                "from": .string(self.from), "to": .string(self.to), "order": .string(self.order),
                "limit": .integer(Int64(self.limit)), "offset": .integer(Int64(self.offset)),
            ]
            if let flow = self.flow { object["flow"] = .string(flow) }
            let body = String(buffer: try JSONBody.encode(object))
            self.output.print(try await callAndReport(self.endpoint, "trade.growth.all", body: body)) { answer, width in
                var out = "\(answer[path: "from"]?.cell ?? "")..\(answer[path: "to"]?.cell ?? "") against "
                    + "\(answer[path: "baseFrom"]?.cell ?? "")..\(answer[path: "baseTo"]?.cell ?? ""): "
                    + "\(answer[path: "series"]?.cell ?? "0") series, \(answer[path: "complete"]?.cell ?? "0") complete"
                    + (answer[path: "synthetic"] == .bool(true) ? " — SYNTHETIC data" : "") + "\n"
                let rows = (answer[path: "rows"]?.rows ?? []).map { row -> [String] in
                    let change = row[path: "changePercent"]?.cell.nonEmpty.map { ($0.hasPrefix("-") ? "" : "+") + $0 + "%" } ?? "-"
                    let missing = (row[path: "monthsMissing"]?.rows ?? []).map(\.cell)
                    return [
                        row[path: "reporter"]?.cell ?? "", row[path: "partner"]?.cell ?? "", row[path: "flow"]?.cell ?? "", change,
                        Table.grouped(row[path: "current"]?.cell ?? "-"), Table.grouped(row[path: "base"]?.cell ?? "-"),
                        (row[path: "source"]?.cell ?? "") + (missing.isEmpty ? "" : "; missing " + missing.joined(separator: ", ")),
                    ]
                }
                out += Table.render(["Reporter", "Partner", "Flow", "Change", "Now (USD)", "Then (USD)", "Source"], rows, width: width)
                if let next = answer[path: "next"]?.cell, !next.isEmpty { out += "\nmore: --offset \(next)" }
                return out
            }
        }
    }

    struct Mirror: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "A's reported exports to B against B's reported imports from A.")
        @OptionGroup var endpoint: EndpointOptions
        @OptionGroup var span: Span
        @Option(help: "The exporter, e.g. RU.")
        var a: String
        @Option(help: "The importer, e.g. IR.")
        var b: String

        func run() async throws {
            let fields: [String: String?] = [
                "a": self.a, "b": self.b, "from": self.span.from, "to": self.span.to, "asPublishedOn": self.span.asPublishedOn,
                "commodity": self.span.commodity,
            ]
            let body = String(decoding: try JSONEncoder().encode(fields.compactMapValues { $0 }), as: UTF8.self)
            print(String(buffer: try await callAndReport(self.endpoint, "trade.mirror", body: body)))
        }
    }
}

extension String {
    fileprivate var nonEmpty: String? { self.isEmpty ? nil : self }
}
