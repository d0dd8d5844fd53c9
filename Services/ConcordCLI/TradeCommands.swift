import ConcordBriefs
import ArgumentParser
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import ConcordProtocol
import ConcordTradeCodes
import ConcordWords
import NIOCore
import ConcordWire

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
            let words = self.output.words
            let growth = GrowthWords(words: words)
            let answer = try await callAndReport(self.endpoint, words: words, "trade.growth", body: body)
            // Who stated a figure, by name rather than id, when a person reads.
            let stated = self.output.forPeople ? (try? JSONBody.decode(GrowthAnswer<SessionBrief.Stated>.self, from: answer))?.stated ?? [] : []
            let names = await officialNames(Set(stated.compactMap(\.statedBy)), through: self.endpoint, language: words.language)
            self.output.print(answer, as: GrowthAnswer<SessionBrief.Stated>.self) { answer, width in
                let comma = words.language == .fa ? "، " : ", "
                var out = ["\(self.reporter)–\(self.partner)\(comma)\(words.language == .en ? answer.flow : words.label(.flow, answer.flow))\(comma)"
                    + words.span(self.span.from, self.span.to)]
                if answer.computed.isEmpty { out.append("\(words(.computedLabel)): \(words(.noObservations))") }
                for figure in answer.computed {
                    out.append("\(words(.computedLabel)): \(growth.headline(figure)) (\(figure.source))" + (growth.sums(figure).map { ": " + $0 } ?? "")
                        + (figure.synthetic ? words(.syntheticMark) : ""))
                    if let gaps = growth.leftOut(figure) { out.append("  " + gaps) }
                }
                for stated in answer.stated {
                    out.append(words(.statedBySource, stated.figure(words), stated.statedBy.map { names[$0] ?? $0 } ?? "?", stated.source))
                    if let beside = answer.computed.first.flatMap(growth.besideStated) { out.append("  " + beside) }
                }
                // The service's note is English prose; the lines above already say it in words.
                if words.language == .en, let note = answer.note, !note.isEmpty { out.append(words(.noteLine, note)) }
                return Table.wrapLines(out, width: width)
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
            let words = self.output.words
            self.output.print(try await callAndReport(self.endpoint, words: self.output.words, "trade.growth.all", body: body)) { answer, width in
                func text(_ path: String) -> String { answer[path: path]?.cell ?? "" }
                var out = words(.growthAllHeader, words.span(text("from"), text("to")), words.span(text("baseFrom"), text("baseTo")),
                                words.number(text("series")), words.number(text("complete")))
                    + (answer[path: "synthetic"] == .bool(true) ? words(.syntheticMark) : "") + "\n"
                // One column names the series, so that the table fits 80 columns.
                func cells(_ row: JSONValue, change: String, why: String? = nil) -> [String] {
                    let missing = (row[path: "monthsMissing"]?.rows ?? []).map(\.cell)
                    let series = "\(row[path: "reporter"]?.cell ?? "")→\(row[path: "partner"]?.cell ?? "") \(row[path: "flow"]?.cell ?? "")"
                    let notes = [row[path: "source"]?.cell ?? "", why ?? "", missing.isEmpty ? "" : words(.missingMonths, MonthRanges.text(missing, words))]
                    return [
                        series, change,
                        words.number(row[path: "comparedCurrent"]?.cell.nonEmpty ?? row[path: "current"]?.cell.nonEmpty ?? "-"),
                        words.number(row[path: "comparedBase"]?.cell.nonEmpty ?? row[path: "base"]?.cell.nonEmpty ?? "-"),
                        notes.filter { !$0.isEmpty }.joined(separator: "; "),
                    ]
                }
                let rows = (answer[path: "rows"]?.rows ?? []).map { row -> [String] in
                    var change = row[path: "changePercent"]?.cell.nonEmpty.map { words.percent($0) } ?? "-"
                    if row[path: "basis"] == .string(GrowthBasis.likeForLike.rawValue) {
                        change += " (" + words(.monthsShort, words.number(row[path: "monthsCompared"]?.cell ?? "?"), words.number(row[path: "monthsAsked"]?.cell ?? "?")) + ")"
                    }
                    return cells(row, change: change)
                }
                let headers = [words(.colSeries), words(.colChange), words(.colNow), words(.colThen), words(.colSourceMissing)]
                out += Table.render(headers, rows, width: width, words: words)
                if let next = answer[path: "next"]?.cell, !next.isEmpty { out += "\n" + words(.morePages, next) }
                if (answer[path: "rows"]?.rows ?? []).contains(where: { $0[path: "basis"] == .string(GrowthBasis.likeForLike.rawValue) }) {
                    out += "\n" + words(.monthsShortLegend, words(.monthsShort, "n", "m"))
                }
                let apart = answer[path: "apart"]?.rows ?? []
                if !apart.isEmpty {
                    out += "\n\n" + words(.notRanked, words.number(answer[path: "apartCount"]?.cell ?? "0")) + "\n"
                    out += Table.render(headers, apart.map { row in
                        let reason: NoFigureReason? = row[path: "reason"].flatMap { if case .string(let code) = $0 { NoFigureReason(rawValue: code) } else { nil } }
                        return cells(row, change: "-", why: GrowthWords(words: words).reason(reason))
                    }, width: width, words: words)
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
            let words = self.output.words
            self.output.print(try await callAndReport(self.endpoint, words: self.output.words, "trade.mirror", body: body), as: MirrorAnswer.self) { answer, width in
                var out = [words(.mirrorHeader, self.a, self.b, words.span(self.span.from, self.span.to))]
                if answer.comparisons.isEmpty { out.append(words(.noObservationsMonths)) }
                for figure in answer.comparisons {
                    out.append("")
                    out.append(words(.mirrorBoth, figure.source + (figure.synthetic ? words(.syntheticMark) : ""),
                                     words.integer(figure.monthsCompared.count), words.integer(figure.monthsAsked)))
                    let rows = [
                        [words(.mirrorExports, self.a, self.b), words.number(figure.exports.valueCompared ?? "-")],
                        [words(.mirrorImports, self.b, self.a), words.number(figure.imports.valueCompared ?? "-")],
                        [words(.mirrorGap), figure.gap.map(words.number) ?? "-"],
                        [words(.mirrorRatio), figure.ratio.map(words.number) ?? "-"],
                    ]
                    out.append(Table.render([words(.mirrorOverCompared), words(.usd)], rows, width: width, words: words))
                    if !figure.onlyExports.isEmpty { out.append(words(.mirrorOnly, self.a, MonthRanges.text(figure.onlyExports, words))) }
                    if !figure.onlyImports.isEmpty { out.append(words(.mirrorOnly, self.b, MonthRanges.text(figure.onlyImports, words))) }
                }
                out.append("")
                out.append(words(.mirrorMargin))
                return Table.wrapLines(out, width: width)
            }
        }

    }
}

extension String {
    fileprivate var nonEmpty: String? { self.isEmpty ? nil : self }
}
