import ArgumentParser
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import ConcordProtocol
import ConcordTradeCodes
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
            self.output.print(try await callAndReport(self.endpoint, "trade.growth", body: body), as: GrowthAnswer.self) { answer, width in
                var out = ["\(self.reporter)–\(self.partner), \(answer.flow), \(self.span.from)..\(self.span.to)"]
                if answer.computed.isEmpty { out.append("Computed: no observations for these months") }
                for figure in answer.computed {
                    out.append("Computed: \(GrowthWords.headline(figure)) (\(figure.source))" + (GrowthWords.sums(figure).map { ": " + $0 } ?? "")
                        + (figure.synthetic ? " — SYNTHETIC data" : ""))
                    if let gaps = GrowthWords.leftOut(figure) { out.append("  " + gaps) }
                }
                for stated in answer.stated {
                    out.append("Stated:   \(stated.value)\(stated.unit == "percent" ? "%" : " USD") by \(stated.statedBy ?? "?") — \(stated.source)")
                    if let beside = answer.computed.first.flatMap(GrowthWords.besideStated) { out.append("  " + beside) }
                }
                if let note = answer.note, !note.isEmpty { out.append("Note: \(note)") }
                return Table.wrapLines(out, width: width)
            }
        }

        struct GrowthAnswer: Decodable {
            var flow: String
            var computed: [GrowthFigure]
            var stated: [SessionBrief.Stated]
            var note: String?
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
                // One column names the series, so that the table fits 80 columns.
                func cells(_ row: JSONValue, change: String, why: String? = nil) -> [String] {
                    let missing = (row[path: "monthsMissing"]?.rows ?? []).map(\.cell)
                    let series = "\(row[path: "reporter"]?.cell ?? "")→\(row[path: "partner"]?.cell ?? "") \(row[path: "flow"]?.cell ?? "")"
                    let notes = [row[path: "source"]?.cell ?? "", why ?? "", missing.isEmpty ? "" : "missing " + MonthRanges.text(missing)]
                    return [
                        series, change,
                        Table.grouped(row[path: "comparedCurrent"]?.cell.nonEmpty ?? row[path: "current"]?.cell.nonEmpty ?? "-"),
                        Table.grouped(row[path: "comparedBase"]?.cell.nonEmpty ?? row[path: "base"]?.cell.nonEmpty ?? "-"),
                        notes.filter { !$0.isEmpty }.joined(separator: "; "),
                    ]
                }
                let rows = (answer[path: "rows"]?.rows ?? []).map { row -> [String] in
                    var change = row[path: "changePercent"]?.cell.nonEmpty.map { ($0.hasPrefix("-") ? "" : "+") + $0 + "%" } ?? "-"
                    if row[path: "basis"] == .string(GrowthBasis.likeForLike.rawValue) {
                        change += " (\(row[path: "monthsCompared"]?.cell ?? "?")/\(row[path: "monthsAsked"]?.cell ?? "?") mo.)"
                    }
                    return cells(row, change: change)
                }
                let headers = ["Series", "Change", "Now (USD)", "Then (USD)", "Source, months missing"]
                out += Table.render(headers, rows, width: width)
                if let next = answer[path: "next"]?.cell, !next.isEmpty { out += "\nmore: --offset \(next)" }
                if rows.contains(where: { $0[1].hasSuffix("mo.)") }) {
                    out += "\n(n/m mo.): like for like, over the n of m months both spans have"
                }
                let apart = answer[path: "apart"]?.rows ?? []
                if !apart.isEmpty {
                    out += "\n\nNot ranked, no figure: \(answer[path: "apartCount"]?.cell ?? "0") series\n"
                    out += Table.render(headers, apart.map { row in
                        let reason: NoFigureReason? = row[path: "reason"].flatMap { if case .string(let code) = $0 { NoFigureReason(rawValue: code) } else { nil } }
                        return cells(row, change: "-", why: GrowthWords.reason(reason))
                    }, width: width)
                }
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
        @OptionGroup var output: OutputOptions

        func run() async throws {
            let fields: [String: String?] = [
                "a": self.a, "b": self.b, "from": self.span.from, "to": self.span.to, "asPublishedOn": self.span.asPublishedOn,
                "commodity": self.span.commodity,
            ]
            let body = String(decoding: try JSONEncoder().encode(fields.compactMapValues { $0 }), as: UTF8.self)
            self.output.print(try await callAndReport(self.endpoint, "trade.mirror", body: body), as: MirrorAnswer.self) { answer, width in
                var out = ["\(self.a)'s exports to \(self.b) against \(self.b)'s imports from \(self.a), \(self.span.from)..\(self.span.to)"]
                if answer.comparisons.isEmpty { out.append("No observations for these months.") }
                for figure in answer.comparisons {
                    out.append("")
                    out.append("\(figure.source)" + (figure.synthetic ? " — SYNTHETIC data" : "")
                        + ": \(figure.monthsCompared.count) of \(figure.monthsAsked) months reported by both sides")
                    let rows = [
                        ["\(self.a)'s exports to \(self.b) (FOB)", Table.grouped(figure.exports.valueCompared ?? "-")],
                        ["\(self.b)'s imports from \(self.a) (CIF)", Table.grouped(figure.imports.valueCompared ?? "-")],
                        ["Gap, imports − exports", figure.gap.map(Table.grouped) ?? "-"],
                        ["Ratio, imports / exports", figure.ratio ?? "-"],
                    ]
                    out.append(Table.render(["Over the months compared", "USD"], rows, width: width))
                    if !figure.onlyExports.isEmpty { out.append("Only \(self.a) reported: " + MonthRanges.text(figure.onlyExports)) }
                    if !figure.onlyImports.isEmpty { out.append("Only \(self.b) reported: " + MonthRanges.text(figure.onlyImports)) }
                }
                out.append("")
                out.append(answer.usualMargin)
                return Table.wrapLines(out, width: width)
            }
        }

        struct MirrorAnswer: Decodable {
            var comparisons: [MirrorFigure]
            var usualMargin: String
        }
    }
}

extension String {
    fileprivate var nonEmpty: String? { self.isEmpty ? nil : self }
}
