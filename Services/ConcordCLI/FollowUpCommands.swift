import ArgumentParser
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import ConcordProtocol
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
        self.output.print(try await callAndReport(self.endpoint, "agreements.instruments.list", body: request)) { answer, width in
            Table.render(["Status", "Kind", "Signed", "In force", "Title"], answer.rows.map { row in
                [row[path: "status"]?.cell ?? "", row[path: "kind"]?.cell ?? "", row[path: "signed"]?.cell ?? "",
                 row[path: "inForce"]?.cell ?? "", row[path: "title"]?.cell ?? ""]
            }, width: width)
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
            answer = try await callAndReport(self.endpoint, "agreements.actions.overdue", body: try body(["owner": self.owner, "asOf": self.asOf]))
        } else {
            guard self.asOf == nil else { throw ValidationError("--as-of goes with --overdue") }
            answer = try await callAndReport(self.endpoint, "agreements.actions.list", body: try body(["owner": self.owner]))
        }
        self.output.print(answer) { answer, width in
            let table = Table.render(["Due", "Status", "Done", "Owner", "Title"], answer.rows.map { row in
                [row[path: "due"]?.cell ?? "-", row[path: "status"]?.cell ?? "", "\(row[path: "progress"]?.cell ?? "0")%",
                 row[path: "owner"]?.object?.values.first?.cell ?? "", row[path: "title"]?.cell ?? ""]
            }, width: width)
            return (answer[path: "asOf"].map { "Overdue on \($0.cell), oldest first\n" } ?? "") + table
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
        self.output.print(try await callAndReport(self.endpoint, "agreements.obstacles.list", body: request)) { answer, width in
            Table.render(["Status", "Category", "Raised at", "Title"], answer.rows.map { row in
                [row[path: "status"]?.cell ?? "", row[path: "category"]?.cell ?? "",
                 row[path: "raisedAt.session"].map { "session \($0.cell)" } ?? "", row[path: "title"]?.cell ?? ""]
            }, width: width)
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
        self.output.print(try await callAndReport(self.endpoint, "agreements.followup", body: request)) { answer, width in
            var rows: [[String]] = []
            for item in answer[path: "items"]?.rows ?? [] {
                let overdue = (item[path: "overdueActions"]?.rows ?? []).count
                let open = (item[path: "openActions"]?.rows ?? []).count
                let blocked = (item[path: "blockingObstacles"]?.rows ?? []).compactMap { $0[path: "title"]?.cell }
                rows.append([item[path: "instrument.status"]?.cell ?? "", "\(open)", "\(overdue)",
                             (item[path: "instrument.title"]?.cell ?? "") + (blocked.isEmpty ? "" : " — blocked by " + blocked.joined(separator: ", "))])
            }
            for action in answer[path: "sessionActions"]?.rows ?? [] {
                rows.append(["action: " + (action[path: "status"]?.cell ?? ""), "", "", action[path: "title"]?.cell ?? ""])
            }
            let obstacles = (answer[path: "obstacles"]?.rows ?? []).map { "  [\($0[path: "status"]?.cell ?? "")] \($0[path: "title"]?.cell ?? "")" }
            return "Session \(self.session), as of \(answer[path: "asOf"]?.cell ?? "")\n"
                + Table.render(["Status", "Open", "Overdue", "Item"], rows, width: width)
                + (obstacles.isEmpty ? "" : "\n\nObstacles raised\n" + obstacles.joined(separator: "\n"))
        }
    }
}
