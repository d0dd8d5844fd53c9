import ArgumentParser
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import ConcordProtocol
import ConcordWords
import NIOCore

/// Friendly reads for the questions asked most; each is one `call` through the gateway.
struct SessionsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "sessions", abstract: "List the committee's sessions.")
    @OptionGroup var endpoint: EndpointOptions
    @OptionGroup var output: OutputOptions

    func run() async throws {
        let words = self.output.words
        self.output.print(try await callAndReport(self.endpoint, words: self.output.words, "participants.sessions.list", body: "{}")) { answer, width in
            Table.render([words(.colSession), words(.colDate), words(.colPlace), words(.colHost), words(.colSummary)], answer.rows.map { row in
                [words.number(row[path: "number"]?.cell ?? ""), row[path: "startDate"].map { words.date($0.cell) } ?? "", row[path: "city"]?.cell ?? "",
                 row[path: "hostCountry"]?.cell ?? "", row[path: "summary"]?.cell ?? ""]
            }, width: width, words: words)
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
        let words = self.output.words
        self.output.print(try await callAndReport(self.endpoint, words: self.output.words, "participants.sessions.attendees", body: #"{"number":\#(self.number)}"#)) { answer, width in
            Table.render([words(.colRole), words(.colName), words(.colLocalName), words(.colPosition)], answer.rows.map { row in
                let names = PersonNames(row[path: "official"], language: words.language)
                return [words.label(.attendanceRole, row[path: "attendance.role"]?.cell ?? ""), names.shown, names.others,
                        row[path: "official.title"]?.cell ?? ""]
            }, width: width, words: words)
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
        let words = self.output.words
        self.output.print(try await callAndReport(self.endpoint, words: self.output.words, "participants.regions.list", body: body)) { answer, width in
            Table.render([words(.colCode), words(.colKind), words(.colName), words(.colLocalNames), words(.colCapital)], answer.rows.map { row in
                let names = PersonNames(row, language: words.language)
                return [row[path: "code"]?.cell ?? "", words.label(.regionKind, row[path: "kind"]?.cell ?? ""), names.shown, names.others,
                        row[path: "capital"]?.cell ?? ""]
            }, width: width, words: words)
        }
    }
}

/// A record's name in the reader's language where it has one (`localNames`, or the older single
/// `localName`), and its other forms beside it.
struct PersonNames {
    var shown: String
    var others: String

    init(_ record: JSONValue?, language: Language) {
        let name = record?[path: "name"]?.cell ?? ""
        var forms = (record?[path: "localNames"]?.object ?? [:]).mapValues(\.cell)
        if forms.isEmpty, let local = record?[path: "localName"]?.cell, !local.isEmpty { forms["local"] = local }
        let localized = forms[language.rawValue]
        let shown = localized ?? name
        var rest: [String] = localized == nil ? [] : [name]
        for (key, value) in forms.sorted(by: { $0.key < $1.key }) where key != language.rawValue { rest.append(value) }
        self.shown = shown
        self.others = rest.filter { $0 != shown }.joined(separator: " / ")
    }
}

/// The names of officials, by id, as the reader reads them (`PersonNames`), looked up through
/// `endpoint` for a report that names them by id; an id that cannot be looked up is left out, and
/// the report shows the id.
func officialNames(_ ids: Set<String>, through endpoint: EndpointOptions, language: Language) async -> [String: String] {
    guard !ids.isEmpty, let client = try? endpoint.makeClient(defaultDeadline: .seconds(5)) else { return [:] }
    let metadata = Metadata(auth: endpoint.resolvedToken)
    var names: [String: String] = [:]
    for id in ids.sorted() {
        guard let body = try? JSONEncoder().encode(["id": id]),
              let answer = try? await client.call("participants.officials.get", body: ByteBuffer(bytes: body), metadata: metadata),
              let record = try? JSONBody.decode(JSONValue.self, from: answer)
        else { continue }
        names[id] = PersonNames(record, language: language).shown
    }
    await client.close()
    return names
}
