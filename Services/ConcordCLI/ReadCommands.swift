import ArgumentParser
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import NIOCore

/// Friendly reads for the questions asked most; each is one `call` through the gateway.
struct SessionsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "sessions", abstract: "List the committee's sessions.")
    @OptionGroup var endpoint: EndpointOptions
    @OptionGroup var output: OutputOptions

    func run() async throws {
        self.output.print(try await callAndReport(self.endpoint, "participants.sessions.list", body: "{}")) { answer, width in
            Table.render(["Session", "Date", "Place", "Host", "Summary"], answer.rows.map { row in
                [row[path: "number"]?.cell ?? "", row[path: "startDate"]?.cell ?? "", row[path: "city"]?.cell ?? "",
                 row[path: "hostCountry"]?.cell ?? "", row[path: "summary"]?.cell ?? ""]
            }, width: width)
        }
    }
}

struct AttendeesCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "attendees", abstract: "Who attended session NUMBER, in which role.")
    @OptionGroup var endpoint: EndpointOptions
    @Argument(help: "The session's number, e.g. 6.")
    var number: Int
    @OptionGroup var output: OutputOptions

    func run() async throws {
        self.output.print(try await callAndReport(self.endpoint, "participants.sessions.attendees", body: #"{"number":\#(self.number)}"#)) { answer, width in
            Table.render(["Role", "Name", "Local name", "Title"], answer.rows.map { row in
                [row[path: "attendance.role"]?.cell ?? "", row[path: "official.name"]?.cell ?? "", row[path: "official.localName"]?.cell ?? "",
                 row[path: "official.title"]?.cell ?? ""]
            }, width: width)
        }
    }
}

struct RegionsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "regions", abstract: "List regions, optionally of one country.")
    @OptionGroup var endpoint: EndpointOptions
    @Option(help: "ISO 3166-1 code, e.g. IR or RU.")
    var country: String?
    @OptionGroup var output: OutputOptions

    func run() async throws {
        let body = String(decoding: try JSONEncoder().encode(self.country.map { ["country": $0] } ?? [:]), as: UTF8.self)
        self.output.print(try await callAndReport(self.endpoint, "participants.regions.list", body: body)) { answer, width in
            Table.render(["Code", "Kind", "Name", "Local names", "Capital"], answer.rows.map { row in
                [row[path: "code"]?.cell ?? "", row[path: "kind"]?.cell ?? "", row[path: "name"]?.cell ?? "",
                 (row[path: "localNames"]?.object ?? [:]).sorted { $0.key < $1.key }.map(\.value.cell).joined(separator: " / "),
                 row[path: "capital"]?.cell ?? ""]
            }, width: width)
        }
    }
}
