import ConcordBriefs
import ArgumentParser
import ConcordProtocol
import ConcordWire
import ConcordWords
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// `concord digest --since 7d`: what happened in a window (`brief.digest`), as a report in the
/// reader's language, JSON for programs, and with `--html FILE` a page in the brief's style.
struct DigestCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "digest",
        abstract: "What happened in a window: instruments that moved, progress, actions that became overdue, obstacles, trade data published.",
        discussion: "Examples: concord digest --since 7d    concord digest --since 2026-11-01 --until 2026-11-30 --html november.html"
    )

    @OptionGroup var endpoint: EndpointOptions

    @Option(help: "The first day: a date (YYYY-MM-DD) or a number of days back (7d).")
    var since: String

    @Option(help: "The last day, YYYY-MM-DD (default: today).")
    var until: String?

    @Option(help: "Also write the digest as one self-contained HTML page to this file.")
    var html: String?

    @OptionGroup var output: OutputOptions

    func run() async throws {
        let since = try Self.day(self.since, field: "since")
        let until = try self.until.map { try Self.day($0, field: "until") }
        let body = #"{"since":"\#(since)""# + (until.map { #","until":"\#($0)""# } ?? "") + "}"
        let answer = try await callAndReport(self.endpoint, words: self.output.words, "brief.digest", body: body)
        let words = self.output.words
        if let html = self.html {
            try writeFile(html, DigestPage(words: words).render(try JSONBody.decode(Digest.self, from: answer)))
            complain("wrote \(html)")
        }
        self.output.print(answer, as: Digest.self) { digest, _ in
            DigestPage(words: words).sections(digest).map { section in
                ([section.heading] + section.lines.map { "  • " + $0 }).joined(separator: "\n")
            }.joined(separator: "\n\n")
        }
    }

    /// `7d` (days back from today) or a date, as YYYY-MM-DD.
    static func day(_ text: String, field: String) throws -> String {
        if text.hasSuffix("d"), let days = Int(text.dropLast()), (0...3_660).contains(days) {
            return String(Date().addingTimeInterval(-86_400 * Double(days)).ISO8601Format().prefix(10))
        }
        guard UsageErrors.isDay(text) else {
            throw UsageErrors.refusal("--\(field) takes a date (YYYY-MM-DD) or a number of days back (7d); got '\(text)'") {
                $0(.cliDayOrDaysBack, "--\(field)", text)
            }
        }
        return text
    }
}

/// A digest as sections of lines, for the terminal and the page alike.
struct DigestPage {
    let words: Words

    struct Section {
        var heading: String
        var lines: [String]
    }

    /// `isolate` wraps what comes from records (titles, names, notes, codes) for the page, so
    /// a Latin title keeps its order inside a Persian line; on a terminal it is left as it is.
    func sections(_ digest: Digest, isolate: (String) -> String = { $0 }) -> [Section] {
        let words = self.words
        let comma = words.language == .fa ? "، " : ", "
        var sections = [Section(heading: words(.digestTitle, words.date(digest.since), words.date(digest.until)), lines: [])]
        if let agreements = digest.agreements {
            sections.append(Section(heading: words(.digestMoved), lines: agreements.moved.map { entry in
                words(.digestMovedLine, isolate(entry.localTitles?[words.language.rawValue] ?? entry.title), words.label(.instrumentStatus, entry.to ?? ""), entry.date.map { words.date($0) } ?? "", isolate(entry.by ?? ""))
            }))
            sections.append(Section(heading: words(.digestProgress), lines: agreements.progress.map { entry in
                words(.digestProgressLine, isolate(entry.title), words.percent(String(entry.progress ?? 0), signed: false), entry.date.map { words.date($0) } ?? "", isolate(entry.by ?? ""))
                    + (entry.note.map { " — " + isolate($0) } ?? "")
            }))
            sections.append(Section(heading: words(.digestBecameOverdue), lines: agreements.becameOverdue.map { entry in
                words(.digestOverdueLine, isolate(entry.title), entry.due.map { words.date($0) } ?? "", isolate(entry.owner ?? ""))
            }))
            sections.append(Section(heading: words(.digestRaised), lines: agreements.obstaclesRaised.map { entry in
                isolate(entry.title) + " (" + words.label(.obstacleCategory, entry.to ?? "") + comma + isolate(entry.by ?? "") + ")"
            }))
            sections.append(Section(heading: words(.digestResolved), lines: agreements.obstaclesResolved.map { entry in
                isolate(entry.title) + " (" + isolate(entry.by ?? "") + ")"
            }))
        }
        if let trade = digest.trade {
            sections.append(Section(heading: words(.digestTrade), lines: trade.published.map { series in
                words(.digestTradeLine, isolate("\(series.reporter)–\(series.partner)") + " " + words.label(.flow, series.flow),
                      words(.spanOfMonths, words.date(Self.month(series.from)), words.date(Self.month(series.to))), words.plural(.observationsCount, series.observations))
            }))
        }
        for index in sections.indices.dropFirst() where sections[index].lines.isEmpty {
            sections[index].lines = [words(.digestNothing)]
        }
        for part in digest.missing {
            sections.append(Section(heading: words(.missingPart, part.part), lines: ["\(part.code): \(part.message)"]))
        }
        return sections
    }

    /// A Comtrade period as a date: `202401` is `2024-01`; a year stays a year.
    static func month(_ period: String) -> String {
        period.utf8.count == 6 ? String(period.prefix(4)) + "-" + String(period.suffix(2)) : period
    }

    /// The page: the brief's style, one section a heading.
    func render(_ digest: Digest) -> String {
        // <bdi> as characters, inside a line.
        let sections = self.sections(digest, isolate: Words.isolated)
        let escape = BriefHTML.escapeHTML
        var body = "<header><h1>\(escape(sections[0].heading))</h1></header>"
        for section in sections.dropFirst() {
            body += "<section><h2>\(escape(section.heading))</h2><ul>"
                + section.lines.map { "<li>\(escape($0))</li>" }.joined() + "</ul></section>"
        }
        return BriefHTML(words: self.words).page(title: sections[0].heading, body: body)
    }
}
