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

    func run() async throws {
        print(String(buffer: try await callAndReport(self.endpoint, "participants.sessions.list", body: "{}")))
    }
}

struct AttendeesCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "attendees", abstract: "Who attended session NUMBER, in which role.")
    @OptionGroup var endpoint: EndpointOptions
    @Argument(help: "The session's number, e.g. 6.")
    var number: Int

    func run() async throws {
        print(String(buffer: try await callAndReport(self.endpoint, "participants.sessions.attendees", body: #"{"number":\#(self.number)}"#)))
    }
}

struct RegionsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "regions", abstract: "List regions, optionally of one country.")
    @OptionGroup var endpoint: EndpointOptions
    @Option(help: "ISO 3166-1 code, e.g. IR or RU.")
    var country: String?

    func run() async throws {
        let body = String(decoding: try JSONEncoder().encode(self.country.map { ["country": $0] } ?? [:]), as: UTF8.self)
        print(String(buffer: try await callAndReport(self.endpoint, "participants.regions.list", body: body)))
    }
}
