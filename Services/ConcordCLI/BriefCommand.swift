import ArgumentParser
import ConcordProtocol
#if canImport(Glibc)
import Glibc
#endif
import NIOCore

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

        func run() async throws {
            let answer = try await callAndReport(self.endpoint, "brief.session", body: #"{"number":\#(self.number)}"#)
            guard !self.json, isatty(STDOUT_FILENO) == 1, let brief = try? JSONBody.decode(SessionBrief.self, from: answer) else {
                print(String(buffer: answer))
                return
            }
            print(brief.render(width: terminalWidth()))
        }
    }

    struct Region: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "The region, its partnerships, instruments, actions (overdue first) and trade.")
        @OptionGroup var endpoint: EndpointOptions
        @Argument(help: "ISO 3166-2 code, e.g. RU-AST.")
        var code: String

        func run() async throws {
            guard self.code.utf8.allSatisfy({ $0 == UInt8(ascii: "-") || (48...57).contains($0) || (65...90).contains($0) || (97...122).contains($0) }) else {
                throw ValidationError("the code is an ISO 3166-2 code such as RU-AST")
            }
            print(String(buffer: try await callAndReport(self.endpoint, "brief.region", body: #"{"code":"\#(self.code)"}"#)))
        }
    }

    struct FollowUp: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "followup", abstract: "Everything overdue across sessions, by owner, and the obstacles blocking the most actions.")
        @OptionGroup var endpoint: EndpointOptions
        @Option(help: "Count overdue on this day (YYYY-MM-DD) instead of today.")
        var asOf: String?

        func run() async throws {
            if let asOf = self.asOf, !asOf.utf8.allSatisfy({ $0 == UInt8(ascii: "-") || (48...57).contains($0) }) {
                throw ValidationError("--as-of is a day, YYYY-MM-DD")
            }
            let body = self.asOf.map { #"{"asOf":"\#($0)"}"# } ?? "{}"
            print(String(buffer: try await callAndReport(self.endpoint, "brief.followup", body: body)))
        }
    }
}

/// The terminal's width in columns (80 when it cannot be told).
func terminalWidth() -> Int {
    var size = winsize()
    guard ioctl(STDOUT_FILENO, UInt(TIOCGWINSZ), &size) == 0, size.ws_col > 0 else { return 80 }
    return Int(size.ws_col)
}
