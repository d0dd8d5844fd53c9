import ConcordBriefs
import ConcordClient
import ConcordProtocol
import ConcordWire
import ConcordWords
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import NIOCore

/// The console's calls to the gateway: with its own certificate identity and its own token.
struct Gateway: Sendable {
    let client: ConcordClient
    let token: String

    /// Calls `verb` with `body` as `person` (the gateway applies their role, never above the
    /// console's token's, and records them as the actor of a write) and decodes the answer; a
    /// refusal or a gateway that cannot be reached comes back as the error, for the page to say.
    /// Without a person, the console asks as itself (what every signed-in person may read).
    func call<Answer: Decodable>(_ verb: String, _ body: String, as type: Answer.Type, person: SessionCookie?) async -> Result<Answer, ConcordError> {
        do {
            let metadata = Metadata(deadlineMilliseconds: 5_000, auth: self.token, actor: person?.user, actorRole: person?.role)
            let answer = try await self.client.call(verb, body: ByteBuffer(string: body), metadata: metadata)
            return .success(try JSONDecoder().decode(Answer.self, from: Data(buffer: answer)))
        } catch let error as ConcordError {
            return .failure(error)
        } catch {
            return .failure(ConcordError(.internal, "\(verb) answered what the console cannot read: \(error)"))
        }
    }
}

extension Gateway {
    /// Calls `verb` with a body of fields as `person`, the answer as JSON.
    func json(_ verb: String, _ fields: [String: JSONValue] = [:], person: SessionCookie) async -> Result<JSONValue, ConcordError> {
        await self.call(verb, Self.body(fields), as: JSONValue.self, person: person)
    }

    static func body(_ fields: [String: JSONValue]) -> String {
        self.json(.object(fields))
    }

    static func json(_ value: JSONValue) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return (try? encoder.encode(value)).map { String(decoding: $0, as: UTF8.self) } ?? "null"
    }
}

/// What the overview shows, as the services answer it.
enum Overview {
    /// An action, an obstacle and a session as the lists give them, read as the brief reads them.
    typealias Action = SessionBrief.Action
    typealias Obstacle = SessionBrief.Obstacle
    typealias Session = SessionBrief.Session
    typealias Overdue = OverdueActions<Action>

    /// An action with its timeline, as `agreements.actions.get` answers.
    struct ActionRecord: Decodable {
        struct Update: Decodable {
            var date: String
            var progress: Int
            var status: String?
            var note: String?
            var by: String
        }

        var id: String
        var title: String
        var owner: [String: String]
        var due: String?
        var status: String
        var progress: Int?
        var timeline: [Update]?
        var version: Int64
        var instrument: String?
        var note: String?
    }

    /// One committed write, as a service's change feed gives it.
    typealias Change = ConcordWire.Change
}

/// What is wrong with a form before anything is sent: said in the page where the gateway's
/// refusals are, in the reader's words.
struct FormProblem: Error {
    let say: @Sendable (Words) -> String
}
