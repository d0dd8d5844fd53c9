import ArgumentParser
import ConcordClient
import ConcordProtocol
import Foundation
import NIOCore

struct CallCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "call",
        abstract: "Send one request and print the JSON answer.",
        discussion: "Example: concord call ping    concord call participants.sessions.list '{\"limit\":5}'"
    )

    @OptionGroup var endpoint: EndpointOptions

    @Argument(help: "The verb, e.g. ping, hello, participants.sessions.list.")
    var verb: String

    @Argument(help: "JSON body (default {}).")
    var body: String = "{}"

    @Option(help: "Deadline in milliseconds.")
    var deadline: Int64 = 10_000

    @Option(help: "Idempotency key for a write that may be retried.")
    var idempotencyKey: String?

    @Option(help: "Bearer token (env CONCORD_TOKEN).")
    var token: String?

    func run() async throws {
        let client = try ConcordClient(
            configuration: .init(host: self.endpoint.host, port: self.endpoint.port, tls: self.endpoint.tls, serverName: self.endpoint.serverName)
        )
        let metadata = Metadata(deadlineMilliseconds: self.deadline, idempotencyKey: self.idempotencyKey, auth: self.token ?? ProcessInfo.processInfo.environment["CONCORD_TOKEN"])
        let response = try await client.send(Request(id: "cli", verb: self.verb, metadata: metadata, body: ByteBuffer(string: self.body)))
        await client.close()
        switch response.outcome {
        case .ok(let answer):
            print(String(buffer: answer))
        case .error(let error):
            FileHandle.standardError.write(Data("error \(error.code): \(error.message)\(error.field.map { " (field: \($0))" } ?? "")\n".utf8))
            throw ExitCode(2)
        }
    }
}
