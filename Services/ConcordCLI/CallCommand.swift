import ArgumentParser
import ConcordClient
import ConcordProtocol
import ConcordWords
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
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

    @OptionGroup var output: OutputOptions

    func run() async throws {
        let answer = try await callAndReport(self.endpoint, words: self.output.words, self.verb, body: self.body, deadline: self.deadline, idempotencyKey: self.idempotencyKey)
        // Indented on a terminal; the answer's own bytes otherwise.
        self.output.print(answer) { value, _ in
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
            return (try? String(decoding: encoder.encode(value), as: UTF8.self)) ?? String(buffer: answer)
        }
    }
}

/// Sends one request through `endpoint` with its token; an error answer is printed to stderr
/// as `error CODE: message (field: ...)`, in the language of `words`, and exits 2.
func callAndReport(
    _ endpoint: EndpointOptions, words: Words, _ verb: String, body: String, deadline: Int64 = 10_000, idempotencyKey: String? = nil
) async throws -> ByteBuffer {
    let client = try endpoint.makeClient()
    let metadata = Metadata(deadlineMilliseconds: deadline, idempotencyKey: idempotencyKey, auth: endpoint.resolvedToken)
    let response: Response
    do {
        response = try await client.send(Request(id: "cli", verb: verb, metadata: metadata, body: ByteBuffer(string: body)))
    } catch {
        await client.close()
        complain(errorLine(error, words: words))
        throw ExitCode(2)
    }
    await client.close()
    switch response.outcome {
    case .ok(let answer):
        return answer
    case .error(let error):
        complain(errorLine(error, words: words))
        throw ExitCode(2)
    }
}

/// An error as the CLI prints it: `error bad_request: status must be one of ... (field:
/// body.status)` in English; otherwise the code kept, then the rule said in the reader's words,
/// or where there is none what the code means and the service's message. Nothing is isolated
/// (FSI ... PDI): a terminal shows those characters, as the CLI's reports know.
func errorLine(_ error: ConcordError, words: Words) -> String {
    let field = error.field.map { " (field: \($0))" } ?? ""
    guard words.language != .en else { return "error \(error.code): \(error.message)\(field)" }
    let text = error.rule == nil ? words.meaning(of: error.code) + ": " + error.message + field : words.refusal(error, isolate: { $0 })
    return words(.errorLine, error.code.wire, text)
}
