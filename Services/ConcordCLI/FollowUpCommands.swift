import ArgumentParser
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
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

    func run() async throws {
        let request = try body(["status": self.status, "sector": self.sector], integers: ["session": self.session])
        print(String(buffer: try await callAndReport(self.endpoint, "agreements.instruments.list", body: request)))
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

    func run() async throws {
        if self.overdue {
            let request = try body(["owner": self.owner, "asOf": self.asOf])
            print(String(buffer: try await callAndReport(self.endpoint, "agreements.actions.overdue", body: request)))
        } else {
            guard self.asOf == nil else { throw ValidationError("--as-of goes with --overdue") }
            print(String(buffer: try await callAndReport(self.endpoint, "agreements.actions.list", body: try body(["owner": self.owner]))))
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

    func run() async throws {
        let request = try body(["status": self.status, "category": self.category])
        print(String(buffer: try await callAndReport(self.endpoint, "agreements.obstacles.list", body: request)))
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

    func run() async throws {
        let request = try body(["asOf": self.asOf], integers: ["session": self.session])
        print(String(buffer: try await callAndReport(self.endpoint, "agreements.followup", body: request)))
    }
}
