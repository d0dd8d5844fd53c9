import ArgumentParser
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import ConcordProtocol
import ConcordWords
import NIOCore

/// A JSON object body from the options that were given.
private func body(_ fields: [String: String?], integers: [String: Int?] = [:]) throws -> String {
    var object: [String: String] = [:]
    for (key, value) in fields { if let value { object[key] = value } }
    var text = String(decoding: try JSONEncoder().encode(object), as: UTF8.self)
    let numbers = integers.compactMap { key, value in value.map { "\"\(key)\":\($0)" } }
    if !numbers.isEmpty {
        text = text == "{}" ? "{" + numbers.joined(separator: ",") + "}" : String(text.dropLast()) + "," + numbers.joined(separator: ",") + "}"
    }
    return text
}

/// What was agreed: instruments, their status and parties.
struct InstrumentsCommand: AsyncParsableCommand {
    /// An instrument's title in the reader's language where the record has it (`localTitles`).
    static func title(_ row: JSONValue, _ language: Language) -> String {
        row[path: "localTitles.\(language.rawValue)"]?.cell ?? row[path: "title"]?.cell ?? ""
    }

    static let configuration = CommandConfiguration(commandName: "agreements", abstract: "List agreements (instruments), optionally by status, session or sector.")
    @OptionGroup var endpoint: EndpointOptions
    @Option(help: "proposed, under-negotiation, signed, in-force, ... (docs/agreements.md).")
    var status: String?
    @Option(help: "The session where they were proposed or agreed, e.g. 6.")
    var session: Int?
    @Option(help: "transport, agriculture, banking-and-finance, trade, ...")
    var sector: String?
    @OptionGroup var output: OutputOptions

    func run() async throws {
        let request = try body(["status": self.status, "sector": self.sector], integers: ["session": self.session])
        let words = self.output.words
        self.output.print(try await callAndReport(self.endpoint, words: self.output.words, "agreements.instruments.list", body: request)) { answer, width in
            Table.render([words(.colStatus), words(.colKind), words(.colSigned), words(.colInForce), words(.colTitle)], answer.rows.map { row in
                [words.label(.instrumentStatus, row[path: "status"]?.cell ?? ""), words.label(.instrumentKind, row[path: "kind"]?.cell ?? ""),
                 row[path: "signed"].map { words.date($0.cell) } ?? "", row[path: "inForce"].map { words.date($0.cell) } ?? "", Self.title(row, words.language)]
            }, width: width, words: words)
        }
    }
}

/// Follow-up actions; `--overdue` for those past their due date.
struct ActionsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "actions", abstract: "List follow-up actions, or with --overdue those past their due date, oldest first.")
    @OptionGroup var endpoint: EndpointOptions
    @Flag(help: "Only actions past their due date that are neither done nor cancelled.")
    var overdue = false
    @Option(help: "The owner: official:ID, region:CODE, country:CODE, or the bare id or code.")
    var owner: String?
    @Option(help: "With --overdue: count on this day (YYYY-MM-DD) instead of today.")
    var asOf: String?

    @OptionGroup var output: OutputOptions

    func run() async throws {
        let answer: ByteBuffer
        if self.overdue {
            answer = try await callAndReport(self.endpoint, words: self.output.words, "agreements.actions.overdue", body: try body(["owner": self.owner, "asOf": self.asOf]))
        } else {
            guard self.asOf == nil else { throw UsageErrors.refusal("--as-of goes with --overdue") { $0(.cliGoesWith, "--as-of", "--overdue") } }
            answer = try await callAndReport(self.endpoint, words: self.output.words, "agreements.actions.list", body: try body(["owner": self.owner]))
        }
        let words = self.output.words
        self.output.print(answer) { answer, width in
            let table = Table.render([words(.colDue), words(.colStatus), words(.colDone), words(.colOwner), words(.colTitle)], answer.rows.map { row in
                [row[path: "due"].map { words.date($0.cell) } ?? "-", words.label(.actionStatus, row[path: "status"]?.cell ?? ""),
                 words.percent(row[path: "progress"]?.cell ?? "0", signed: false),
                 row[path: "owner"]?.object?.values.first?.cell ?? "", row[path: "title"]?.cell ?? ""]
            }, width: width, words: words)
            return (answer[path: "asOf"].map { words(.overdueOn, words.date($0.cell)) + "\n" } ?? "") + table
        }
    }
}

/// The obstacles named, and what they affect.
struct ObstaclesCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "obstacles", abstract: "List the obstacles named, optionally by status or category.")
    @OptionGroup var endpoint: EndpointOptions
    @Option(help: "open, being-addressed or resolved.")
    var status: String?
    @Option(help: "banking-and-payments, legal-framework, standards-and-certification, customs, ...")
    var category: String?
    @OptionGroup var output: OutputOptions

    func run() async throws {
        let request = try body(["status": self.status, "category": self.category])
        let words = self.output.words
        self.output.print(try await callAndReport(self.endpoint, words: self.output.words, "agreements.obstacles.list", body: request)) { answer, width in
            Table.render([words(.colStatus), words(.colCategory), words(.colRaisedAt), words(.colTitle)], answer.rows.map { row in
                [words.label(.obstacleStatus, row[path: "status"]?.cell ?? ""), words.label(.obstacleCategory, row[path: "category"]?.cell ?? ""),
                 row[path: "raisedAt.session"].map { words(.atSession, words.number($0.cell)) } ?? "", row[path: "title"]?.cell ?? ""]
            }, width: width, words: words)
        }
    }
}

/// Where the items of one session stand now.
struct FollowUpCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "followup", abstract: "What session NUMBER proposed or agreed, and where each item stands now.")
    @OptionGroup var endpoint: EndpointOptions
    @Argument(help: "The session's number, e.g. 6.")
    var session: Int
    @Option(help: "Count overdue on this day (YYYY-MM-DD) instead of today.")
    var asOf: String?
    @OptionGroup var output: OutputOptions

    func run() async throws {
        let request = try body(["asOf": self.asOf], integers: ["session": self.session])
        let words = self.output.words
        self.output.print(try await callAndReport(self.endpoint, words: self.output.words, "agreements.followup", body: request)) { answer, width in
            var rows: [[String]] = []
            for item in answer[path: "items"]?.rows ?? [] {
                let overdue = (item[path: "overdueActions"]?.rows ?? []).count
                let open = (item[path: "openActions"]?.rows ?? []).count
                let blocked = (item[path: "blockingObstacles"]?.rows ?? []).compactMap { $0[path: "title"]?.cell }
                rows.append([words.label(.instrumentStatus, item[path: "instrument.status"]?.cell ?? ""), words.integer(open), words.integer(overdue),
                             InstrumentsCommand.title(item[path: "instrument"] ?? .null, words.language)
                                + (blocked.isEmpty ? "" : words(.blockedByList, blocked.joined(separator: ", ")))])
            }
            for action in answer[path: "sessionActions"]?.rows ?? [] {
                rows.append([words(.actionWithStatus, words.label(.actionStatus, action[path: "status"]?.cell ?? "")), "", "", action[path: "title"]?.cell ?? ""])
            }
            let obstacles = (answer[path: "obstacles"]?.rows ?? []).map {
                "  [\(words.label(.obstacleStatus, $0[path: "status"]?.cell ?? ""))] \($0[path: "title"]?.cell ?? "")"
            }
            return words(.sessionAsOf, words.integer(self.session), answer[path: "asOf"].map { words.date($0.cell) } ?? "") + "\n"
                + Table.render([words(.colStatus), words(.colOpen), words(.colOverdue), words(.colItem)], rows, width: width, words: words)
                + (obstacles.isEmpty ? "" : "\n\n" + words(.obstaclesRaised) + "\n" + obstacles.joined(separator: "\n"))
        }
    }
}
