import ConcordBriefs
import ArgumentParser
import ConcordProtocol
import ConcordTradeCodes
import ConcordWords
#if canImport(Glibc)
import Glibc
#endif
import NIOCore
import ConcordWire

/// `concord brief ...`: the gateway's combined answers, one call each.
struct BriefCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "brief", abstract: "What a session decided and where it stands, what a region does, what is late.",
        subcommands: [Session.self, Region.self, FollowUp.self]
    )

    struct Session: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "The session, its co-chairs and attendees, its items and their state, its obstacles, and the trade headline beside the stated figure.")
        @OptionGroup var endpoint: EndpointOptions
        @Argument(help: "The session's number, e.g. 6.")
        var number: Int
        @Flag(help: "JSON, as programs want it (the default when standard output is not a terminal).")
        var json = false
        @Option(help: "Also write the brief as one self-contained HTML page to this file.")
        var html: String?
        @OptionGroup var language: LanguageOptions

        func run() async throws {
            let words = self.language.words
            let answer = try await callAndReport(self.endpoint, words: self.language.words, "brief.session", body: #"{"number":\#(self.number)}"#)
            if let html = self.html {
                var brief = try JSONBody.decode(SessionBrief.self, from: answer)
                brief.lookedUp = await self.lookUp(brief.officialsToLookUp)
                let page = BriefHTML(words: words, brief: brief).render(brief, months: try await self.months(for: brief))
                try writeFile(html, page)
                complain("wrote \(html)")
                if !self.json, isatty(STDOUT_FILENO) != 1 { return }
            }
            guard !self.json, isatty(STDOUT_FILENO) == 1, var brief = try? JSONBody.decode(SessionBrief.self, from: answer) else {
                print(String(buffer: answer))
                return
            }
            brief.lookedUp = await self.lookUp(brief.officialsToLookUp)
            print(brief.render(width: terminalWidth(), words: words))
        }

        /// Each official in participants: their names, or unknown when participants has none (a
        /// dangling reference); any other answer leaves the id as it is.
        func lookUp(_ ids: Set<String>) async -> SessionBrief.OfficialLookup {
            var lookup = SessionBrief.OfficialLookup()
            guard !ids.isEmpty, let client = try? self.endpoint.makeClient() else { return lookup }
            for id in ids.sorted() {
                var body = ByteBuffer(string: "{\"id\":")
                JSONString.write(id, into: &body)
                body.writeString("}")
                let metadata = Metadata(deadlineMilliseconds: 5_000, auth: self.endpoint.resolvedToken)
                do {
                    let response = try await client.send(Request(id: "cli", verb: "participants.officials.get", metadata: metadata, body: body))
                    switch response.outcome {
                    case .ok(let answer): lookup.known[id] = try? JSONBody.decode(SessionBrief.OfficialView.self, from: answer)
                    case .error(let error) where error.code == .notFound: lookup.unknown.insert(id)
                    default: break
                    }
                } catch {
                    break
                }
            }
            await client.close()
            return lookup
        }

        /// The monthly figures behind the first stated growth: its pair's exports and imports (or
        /// the one flow it is about) over the span and the base span, month by month.
        func months(for brief: SessionBrief) async throws -> [BriefHTML.Month] {
            try await brief.months { body in
                try JSONBody.decode([SeriesPoint].self, from: try await callAndReport(self.endpoint, words: self.language.words, "trade.series", body: body))
            }
        }
    }

    struct Region: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "The region, its partnerships, instruments, actions (overdue first) and trade.")
        @OptionGroup var endpoint: EndpointOptions
        @Argument(help: "ISO 3166-2 code, e.g. RU-AST.")
        var code: String
        @OptionGroup var output: OutputOptions
        @Option(help: "Also write the brief as one self-contained HTML page to this file.")
        var html: String?

        func validate() throws {
            guard self.code.utf8.allSatisfy({ $0 == UInt8(ascii: "-") || (48...57).contains($0) || (65...90).contains($0) || (97...122).contains($0) }) else {
                throw UsageErrors.refusal(
                    "the code is an ISO 3166-2 code such as RU-AST; got '\(self.code)'", option: "<code>", rule: .form(.regionCode, got: self.code)
                )
            }
        }

        func run() async throws {
            let answer = try await callAndReport(self.endpoint, words: self.output.words, "brief.region", body: #"{"code":"\#(self.code)"}"#)
            if let html = self.html {
                try writeFile(html, BriefHTML(words: self.output.words).render(region: try JSONBody.decode(JSONValue.self, from: answer)))
                complain("wrote \(html)")
            }
            let words = self.output.words
            self.output.print(answer) { brief, width in
                var out: [String] = []
                let region = brief[path: "region"]
                let names = (region?[path: "localNames"]?.object ?? [:]).sorted { $0.key < $1.key }.map(\.value.cell).joined(separator: " / ")
                out.append("\(region?[path: "name"]?.cell ?? self.code.uppercased()) (\(brief[path: "code"]?.cell ?? ""))" + (names.isEmpty ? "" : "  \(names)"))
                if let capital = region?[path: "capital"]?.cell, !capital.isEmpty { out.append(words(.capital, capital)) }
                out.append("")
                out.append(words(.partnerships))
                out.append(Table.render([words(.colSince), words(.colWith), words(.colInstrument)], (brief[path: "partnerships"]?.rows ?? []).map { row in
                    let other = row[path: "regionA"]?.cell == brief[path: "code"]?.cell ? row[path: "regionB"]?.cell : row[path: "regionA"]?.cell
                    return [row[path: "since"].map { words.date($0.cell) } ?? "-", other ?? "", row[path: "instrument"]?.cell ?? ""]
                }, width: width, words: words))
                out.append("")
                out.append(words(.instrumentsParty))
                out.append(Table.render([words(.colStatus), words(.colKind), words(.colTitle)], (brief[path: "instruments"]?.rows ?? []).map { row in
                    [words.label(.instrumentStatus, row[path: "status"]?.cell ?? ""), words.label(.instrumentKind, row[path: "kind"]?.cell ?? ""), row[path: "title"]?.cell ?? ""]
                }, width: width, words: words))
                out.append("")
                out.append(words(.actionsOwnedOverdueFirst))
                let overdue = brief[path: "overdueActions"]?.rows ?? []
                let overdueIDs = Set(overdue.compactMap { $0[path: "id"]?.cell })
                let others = (brief[path: "actions"]?.rows ?? []).filter { !overdueIDs.contains($0[path: "id"]?.cell ?? "") }
                out.append(Table.render(["", words(.colDue), words(.colStatus), words(.colTitle)], (overdue.map { (words(.overdueUpper), $0) } + others.map { ("", $0) }).map { mark, row in
                    [mark, row[path: "due"].map { words.date($0.cell) } ?? "-", words.label(.actionStatus, row[path: "status"]?.cell ?? ""), row[path: "title"]?.cell ?? ""]
                }, width: width, words: words))
                let trade = brief[path: "trade"]?.rows ?? []
                out.append("")
                out.append(trade.isEmpty ? words(.tradeNoSource) : words.plural(.tradeObservations, trade.count))
                for missing in brief[path: "missing"]?.rows ?? [] {
                    out.append(words(.missingPart, "\(missing[path: "part"]?.cell ?? "") (\(missing[path: "service"]?.cell ?? "")): \(missing[path: "message"]?.cell ?? "")"))
                }
                return out.joined(separator: "\n")
            }
        }
    }

    struct FollowUp: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "followup", abstract: "Everything overdue across sessions, by owner, and the obstacles blocking the most actions.")
        @OptionGroup var endpoint: EndpointOptions
        @Option(help: "Count overdue on this day (YYYY-MM-DD) instead of today.")
        var asOf: String?
        @OptionGroup var output: OutputOptions

        func validate() throws {
            if let asOf = self.asOf, !UsageErrors.isDay(asOf) {
                throw UsageErrors.refusal("--as-of is a day, YYYY-MM-DD; got '\(asOf)'", option: "--as-of", rule: .form(.day, got: asOf))
            }
        }

        func run() async throws {
            let body = self.asOf.map { #"{"asOf":"\#($0)"}"# } ?? "{}"
            let words = self.output.words
            self.output.print(try await callAndReport(self.endpoint, words: self.output.words, "brief.followup", body: body)) { brief, width in
                var out = [words(.overdueByOwner, brief[path: "asOf"].flatMap { $0 == .null ? nil : words.date($0.cell) } ?? words(.today))]
                var rows: [[String]] = []
                for owner in brief[path: "byOwner"]?.rows ?? [] {
                    let actions = owner[path: "actions"]?.rows ?? []
                    for (index, action) in actions.enumerated() {
                        let who = (owner[path: "owner"]?.cell ?? "") + " (" + words.plural(.actionsCount, actions.count) + ")"
                        rows.append([index == 0 ? who : "", action[path: "due"].map { words.date($0.cell) } ?? "-", action[path: "title"]?.cell ?? ""])
                    }
                }
                out.append(Table.render([words(.colOwner), words(.colDue), words(.colAction)], rows, width: width, words: words))
                out.append("")
                out.append(words(.openObstaclesBlocking))
                out.append(Table.render([words(.colBlocks), words(.colObstacle)], (brief[path: "blockingMost"]?.rows ?? []).map { row in
                    [words.number(row[path: "blockedActions"]?.cell ?? "0"), row[path: "obstacle.title"]?.cell ?? ""]
                }, width: width, words: words))
                for missing in brief[path: "missing"]?.rows ?? [] {
                    out.append(words(.missingPart, "\(missing[path: "part"]?.cell ?? "") (\(missing[path: "service"]?.cell ?? "")): \(missing[path: "message"]?.cell ?? "")"))
                }
                return out.joined(separator: "\n")
            }
        }
    }
}

/// The terminal's width in columns (80 when it cannot be told).
func terminalWidth() -> Int {
    var size = winsize()
    guard ioctl(STDOUT_FILENO, UInt(TIOCGWINSZ), &size) == 0, size.ws_col > 0 else { return 80 }
    return Int(size.ws_col)
}

/// Writes `text` to `path`, replacing it.
func writeFile(_ path: String, _ text: String) throws {
    let descriptor = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
    guard descriptor >= 0 else { throw ValidationError("cannot write \(path): \(String(cString: strerror(errno)))") }
    defer { close(descriptor) }
    writeAll(text, to: descriptor)
}
