import ArgumentParser
import ConcordClient
import ConcordProtocol
import ConcordWire
import ConcordWords
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
#if canImport(Glibc)
import Glibc
#endif
import NIOConcurrencyHelpers
import NIOCore

/// `concord watch`: the changes every service commits, as they come, through the gateway's
/// `watch` stream. One line each for a person (when, who, what, which record), the events as
/// JSON lines when the output is not a terminal. A dropped connection (a gateway restarting, a
/// resync) is opened again from the last cursor seen, so nothing is missed or shown twice.
struct WatchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "watch",
        abstract: "Print changes as they are committed; resumes from its cursor after a dropped connection.",
        discussion: "Examples: concord watch    concord watch --kinds actions instruments    concord watch --after participants:12,agreements:40 --json"
    )

    @OptionGroup var endpoint: EndpointOptions

    @Option(parsing: .upToNextOption, help: "Only these kinds of records (actions, instruments, officials...).")
    var kinds: [String] = []

    @Option(parsing: .upToNextOption, help: "Only these services (participants, agreements, trade).")
    var services: [String] = []

    @Option(help: "Resume after this cursor (the `cursor` of an event printed with --json).")
    var after: String?

    @Flag(help: "Print every change from the beginning of the feeds, then follow (default: from now).")
    var fromStart = false

    @OptionGroup var output: OutputOptions

    func run() async throws {
        let words = self.output.words
        let people = self.output.forPeople
        let cursor = NIOLockedValueBox<String?>(self.after)
        // Said once the gateway has taken the watch (its first `start` event), not before a
        // refusal.
        let announced = NIOLockedValueBox(false)
        let watching = words(.watchWatching, self.services.isEmpty ? "participants, agreements, trade" : self.services.joined(separator: ", "))
        var backoff: Duration = .milliseconds(250)
        while true {
            let client = try self.endpoint.makeClient()
            var body: [String: JSONValue] = [:]
            if !self.kinds.isEmpty { body["kinds"] = .array(self.kinds.map { .string($0) }) }
            if !self.services.isEmpty { body["services"] = .array(self.services.map { .string($0) }) }
            if let after = cursor.withLockedValue({ $0 }) {
                body["after"] = .string(after)
            } else if self.fromStart {
                body["from"] = .string("start")
            }
            do {
                let end = try await client.stream(
                    "watch", body: try JSONBody.encode(body), metadata: Metadata(auth: self.endpoint.resolvedToken)
                ) { item in
                    guard let event = try? JSONBody.decode(WatchEvent.self, from: item) else { return }
                    cursor.withLockedValue { $0 = event.cursor }
                    if people, event.type == "start" {
                        if !announced.withLockedValue({ seen in defer { seen = true }; return seen }) { complain(watching) }
                        return
                    }
                    say(people ? Self.line(event, words: words) : String(buffer: item))
                }
                await client.close()
                backoff = .milliseconds(250)
                let ended = try JSONBody.decode(WatchEnd.self, from: end)
                cursor.withLockedValue { $0 = ended.cursor }
                if ended.resync {
                    if people { complain(words(.watchResync, ended.cursor)) }
                    continue
                }
                // Ended by the gateway (it is draining): open it again from the cursor.
                if people { complain(words(.watchReconnecting, ended.reason, ended.cursor)) }
            } catch let error as ConcordError where error.code == .unavailable || error.code == .deadlineExceeded {
                await client.close()
                if people { complain(words(.watchReconnecting, error.message, cursor.withLockedValue { $0 } ?? "-")) }
                try await Task.sleep(for: backoff)
                backoff = min(backoff * 2, .seconds(5))
            } catch let error as ConcordError {
                await client.close()
                complain(errorLine(error, words: words))
                throw ExitCode(2)
            }
        }
    }

    /// One event as a person reads it: `2026-12-02 10:15:03  operator updated agreements actions/a-1 (version 2)`.
    static func line(_ event: WatchEvent, words: Words) -> String {
        guard let change = event.change else {
            return words(.watchUnavailable, event.service ?? "?", event.message ?? "")
        }
        let when = words.date(String(change.at.prefix(10))) + " " + words.digits(String(change.at.dropFirst(11).prefix(8)))
        let who = change.actor + (change.actorRole.map { " (\($0))" } ?? "")
        let record = "\(change.service) \(change.kind)/\(change.key)"
        let version = words.integer(Int(change.versionAfter ?? 0))
        let what = switch change.operation {
        case "create": words(.watchCreated, who, record)
        case "update": words(.watchUpdated, who, record, version)
        case "delete": words(.watchDeleted, who, record)
        default: words(.watchChanged, who, record, change.verb, version)
        }
        return "\(when)  \(what)"
    }
}
