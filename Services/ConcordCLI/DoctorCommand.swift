import ArgumentParser
import ConcordProtocol
import ConcordWords
import NIOCore
import ConcordWire

/// `concord doctor`: what the services name in each other that is not there: a dangling
/// reference left by data from before deletes were guarded, or by a store restored from a
/// backup. Each service that names another's records checks its own (`SERVICE.references.dangling`).
struct DoctorCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "doctor", abstract: "List references across services to records that no longer exist."
    )
    @OptionGroup var endpoint: EndpointOptions
    @OptionGroup var output: OutputOptions

    /// The services whose records name other services' records.
    static let holders = ["agreements", "trade"]

    func run() async throws {
        // By holder service: {"agreements": [...], "trade": [...]}.
        var found: [String: [NamedRecord]] = [:]
        for holder in Self.holders {
            let answer = try await callAndReport(self.endpoint, words: self.output.words, "\(holder).references.dangling", body: "{}", deadline: 30_000)
            found[holder] = try JSONBody.decode([NamedRecord].self, from: answer)
        }
        let words = self.output.words
        self.output.print(try JSONBody.encode(found), as: [String: [NamedRecord]].self) { found, width in
            let rows = found.sorted { $0.key < $1.key }.flatMap { holder, named in
                named.map { [holder, "\($0.service).\($0.kind) \($0.key)", words.plural(.recordsCount, Int($0.holders))] }
            }
            guard !rows.isEmpty else { return words(.doctorNone) }
            return words(.doctorTitle) + "\n" + Table.render([words(.colNamedIn), words(.colRecord), words(.colNamedBy)], rows, width: width, words: words)
        }
    }
}
