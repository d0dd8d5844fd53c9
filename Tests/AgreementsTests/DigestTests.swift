import ConcordProtocol
import ConcordTestSupport
import ConcordWire
import Foundation
import NIOCore
import Testing

@testable import Agreements

/// `agreements.digest`: what the audit trail and the records say happened in a window.
@Suite("The agreements digest", .serialized, .timeLimit(.minutes(2)))
struct DigestTests {
    static func day(_ offset: Int) -> String {
        String(Date().addingTimeInterval(86_400 * Double(offset)).ISO8601Format().prefix(10))
    }

    @Test(arguments: Engine.allCases)
    func theWindowsWritesAreInTheirSections(engine: Engine) async throws {
        try await AgreementsHarness.with(engine) { env in
            _ = try await env.call("agreements.instruments.transition", #"{"id":"permanent-secretariat","version":1,"to":"under-negotiation","date":"2026-02"}"#)
            _ = try await env.call("agreements.actions.progress", #"{"id":"embassy-support-for-implementation","version":1,"progress":30,"date":"2026-03-01","note":"letters sent"}"#)
            // Due two days ago: overdue since yesterday, inside a window from yesterday to today.
            _ = try await env.call("agreements.actions.create", #"{"id":"digest-late","title":"Late report","owner":{"organisation":"Secretariat"},"status":"planned","due":"\#(Self.day(-2))"}"#)
            _ = try await env.call("agreements.actions.create", #"{"id":"digest-done","title":"Done report","owner":{"organisation":"Secretariat"},"status":"done","due":"\#(Self.day(-2))"}"#)
            _ = try await env.call("agreements.obstacles.update", #"{"id":"standards","version":1,"status":"resolved"}"#)

            let answer = try await env.call("agreements.digest", #"{"since":"\#(Self.day(-1))","until":"\#(Self.day(0))"}"#)
            let digest = try JSONDecoder().decode(AgreementsDigest.self, from: JSONEncoder().encode(answer))
            #expect(digest.moved.map(\.id) == ["permanent-secretariat"] && digest.moved.first?.to == "under-negotiation")
            #expect(digest.moved.first?.title.hasPrefix("A permanent secretariat") == true && digest.moved.first?.date == "2026-02")
            #expect(digest.progress.map(\.id) == ["embassy-support-for-implementation"] && digest.progress.first?.progress == 30)
            #expect(digest.progress.first?.note == "letters sent")
            // Done is not overdue; the seeded action has no due date.
            #expect(digest.becameOverdue.map(\.id) == ["digest-late"] && digest.becameOverdue.first?.owner == "Secretariat")
            #expect(digest.obstaclesResolved.map(\.id) == ["standards"])
            // The seeds were written as the harness started: inside the window too.
            #expect(Set(digest.obstaclesRaised.map(\.id)) == ["monetary-and-banking-relations", "legal-frameworks", "standards"])

            // A window that ended before any of it: nothing.
            let before = try await env.call("agreements.digest", #"{"since":"2020-01-01","until":"2020-01-31"}"#)
            let empty = try JSONDecoder().decode(AgreementsDigest.self, from: JSONEncoder().encode(before))
            #expect(empty.moved.isEmpty && empty.progress.isEmpty && empty.becameOverdue.isEmpty && empty.obstaclesRaised.isEmpty)
        }
    }

    @Test func aBadWindowIsRefusedByName() async throws {
        try await AgreementsHarness.with(.sqlite) { env in
            let missing = await env.error("agreements.digest", "{}")
            #expect(missing?.field == "body.since" && missing?.message.contains("since is required") == true)
            let reversed = await env.error("agreements.digest", #"{"since":"2026-12-02","until":"2026-11-01"}"#)
            #expect(reversed?.field == "body.since" && reversed?.message.contains("after until") == true)
            let month = await env.error("agreements.digest", #"{"since":"2026-11"}"#)
            #expect(month?.field == "body.since" && month?.message.contains("full date") == true)
        }
    }
}
