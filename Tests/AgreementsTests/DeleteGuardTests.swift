import ConcordClient
import ConcordProtocol
import ConcordRecords
import ConcordStorage
import ConcordTestSupport
import Foundation
import NIOCore
import Testing

@testable import Agreements

/// A record another service names cannot vanish under it: participants asks agreements before
/// it deletes an official, a region, a country or a session, refuses while agreements names it,
/// refuses when agreements cannot be asked, and the race between a delete and a new reference is
/// closed by the fence (docs/records.md). Real servers both ways, real TLS, both engines.
@Suite("Deletes that another service's records name", .serialized, .timeLimit(.minutes(5)))
struct DeleteGuardTests {
    func with(_ engine: Engine, _ body: (ServiceHarness, ConcordClient) async throws -> Void) async throws {
        try await ServiceHarness.with(
            engine, service: AgreementsHarness.agreements, peer: AgreementsHarness.participants, peerAsksBeforeDeleting: true
        ) { env in
            // An operator's calls to participants, as the gateway makes them.
            let participants = try makeTestClient(port: env.replicas[0].server.localPort, identity: "gateway", serverName: "participants")
            do {
                try await body(env, participants)
            } catch {
                await participants.close()
                throw error
            }
            await participants.close()
        }
    }

    static func call(_ client: ConcordClient, _ verb: String, _ body: String) async throws -> JSONObject {
        let answer = try await client.call(verb, body: ByteBuffer(string: body))
        return try JSONDecoder().decode(JSONObject.self, from: Data(answer.readableBytesView))
    }

    static func error(_ client: ConcordClient, _ verb: String, _ body: String) async -> ConcordError? {
        await client.refusal(verb, body)
    }

    static func official(_ id: String) -> String {
        #"{"id":"\#(id)","name":"Test Official","title":"Adviser","organisation":"Test ministry","country":"IR"}"#
    }

    @Test(arguments: Engine.allCases)
    func anOfficialWhoOwnsAnActionCannotBeDeletedUntilTheActionNamesSomeoneElse(engine: Engine) async throws {
        try await self.with(engine) { env, participants in
            _ = try await Self.call(participants, "participants.officials.create", Self.official("test-owner"))
            let action = try await env.call(
                "agreements.actions.create", #"{"id":"test-owned","title":"Draft the port memorandum","owner":{"official":"test-owner"},"status":"planned"}"#
            )
            let refused = await Self.error(participants, "participants.officials.delete", #"{"id":"test-owner"}"#)
            #expect(refused?.code == .conflict, "\(String(describing: refused))")
            #expect(refused?.message.contains("agreements (1: actions test-owned by owner.official)") == true, "\(String(describing: refused))")
            #expect(try await Self.call(participants, "participants.officials.get", #"{"id":"test-owner"}"#)["id"] == .string("test-owner"), "nothing was deleted")

            let named = try await env.call("agreements.references", #"{"kind":"participants.officials","key":"test-owner"}"#)
            #expect(named["count"] == .integer(1) && named["declares"] == .bool(true))

            _ = try await env.call(
                "agreements.actions.update", #"{"id":"test-owned","version":\#(action["version"]?.integerValue ?? 1),"owner":{"official":"kazem-jalali"}}"#
            )
            #expect(try await env.call("agreements.references", #"{"kind":"participants.officials","key":"test-owner"}"#)["count"] == .integer(0))
            _ = try await Self.call(participants, "participants.officials.delete", #"{"id":"test-owner"}"#)
            #expect(await Self.error(participants, "participants.officials.get", #"{"id":"test-owner"}"#)?.code == .notFound)
        }
    }

    @Test(arguments: Engine.allCases)
    func withAgreementsStoppedADeleteIsUnavailableAndNothingIsDeleted(engine: Engine) async throws {
        try await self.with(engine) { env, participants in
            _ = try await Self.call(participants, "participants.officials.create", Self.official("test-alone"))
            env.server.beginShutdown()
            let refused = await Self.error(participants, "participants.officials.delete", #"{"id":"test-alone"}"#)
            #expect(refused?.code == .unavailable, "\(String(describing: refused))")
            #expect(refused?.message.hasPrefix("agreements could not be asked") == true, "\(String(describing: refused))")
            #expect(try await Self.call(participants, "participants.officials.get", #"{"id":"test-alone"}"#)["id"] == .string("test-alone"))
        }
    }

    /// A delete and a new reference to the same official, started together at offsets across the
    /// fence: whatever the order, never both. Either the delete wins and no action names the
    /// official, or the action is written and the delete is refused.
    @Test(arguments: Engine.allCases)
    func aDeleteAndANewReferenceNeverBothSucceed(engine: Engine) async throws {
        try await self.with(engine) { env, participants in
            var outcomes: [String: Int] = [:]
            // (the create's delay, the delete's delay): the delete first, by up to past the fence,
            // or the create first, by up to its own round trip.
            let ms: (Int) -> Duration = { .milliseconds($0) }
            // Without the fence, rounds where the create just precedes the delete fail about one
            // run in two (measured): there are twelve of them.
            let starts: [(Duration, Duration)] = [0, 20, 100, 250, 400, 700].map { (ms($0), .zero) }
                + [0, 1, 2, 3, 5, 8, 0, 1, 2, 3, 5, 8, 13, 30, 60, 120].map { (.zero, ms($0)) }
            for (round, (createAfter, deleteAfter)) in starts.enumerated() {
                let official = "test-race-\(round)"
                _ = try await Self.call(participants, "participants.officials.create", Self.official(official))
                async let deleted: ConcordError? = {
                    try? await Task.sleep(for: deleteAfter)
                    return await Self.error(participants, "participants.officials.delete", #"{"id":"\#(official)"}"#)
                }()
                try await Task.sleep(for: createAfter)
                let created = await env.error(
                    "agreements.actions.create", #"{"id":"test-race-action-\#(round)","title":"Race","owner":{"official":"\#(official)"},"status":"planned"}"#
                )
                let deleteError = await deleted
                let names = try await env.call("agreements.references", #"{"kind":"participants.officials","key":"\#(official)"}"#)["count"]
                switch (deleteError, created) {
                case (nil, nil):
                    Issue.record("round \(round): both the delete and the reference succeeded")
                case (nil, let refused?):
                    #expect([.badRequest, .unavailable].contains(refused.code), "round \(round): \(refused)")
                    #expect(names == .integer(0), "round \(round): the official is gone and nothing names it")
                    outcomes["delete won", default: 0] += 1
                case (let refused?, nil):
                    #expect(refused.code == .conflict, "round \(round): \(refused)")
                    #expect(names == .integer(1))
                    outcomes["reference won", default: 0] += 1
                case (let refused?, let other?):
                    // A refused reference leaves nothing to hold the delete back.
                    Issue.record("round \(round): both refused: delete \(refused), create \(other)")
                }
            }
            print("delete/reference race on \(engine): \(outcomes.sorted { $0.key < $1.key })")
            #expect(outcomes.values.reduce(0, +) == starts.count)
        }
    }

    @Test(arguments: Engine.allCases)
    func aDanglingReferenceIsListedByTheCheck(engine: Engine) async throws {
        try await self.with(engine) { env, participants in
            #expect(try await env.callArray("agreements.references.dangling", "{}").isEmpty, "the seeds name only what exists")
            // Made by hand, as a restore from an older backup would leave it: an action naming an
            // official participants does not have, written past the checks.
            try await env.store.database.write { session in
                try await session.query(
                    """
                    UPDATE actions SET doc = REPLACE(doc, '"organisation":"Embassy of the Islamic Republic of Iran in the Russian Federation"', '"official":"ghost-official"')
                    WHERE id = 'embassy-support-for-implementation'
                    """
                )
                try await session.query(
                    """
                    INSERT INTO remote_references (holder_kind, holder_key, field, service, kind, ref_key)
                    VALUES ('actions', 'embassy-support-for-implementation', 'owner.official', 'participants', 'officials', 'ghost-official')
                    """
                )
            }
            let dangling = try await env.callArray("agreements.references.dangling", "{}")
            #expect(dangling == [.object(["service": .string("participants"), "kind": .string("officials"), "key": .string("ghost-official"), "holders": .integer(1)])])
            let action = try await env.call("agreements.actions.get", #"{"id":"embassy-support-for-implementation"}"#)
            #expect(action["owner"] == .object(["official": .string("ghost-official")]), "the row still reads")
        }
    }
}

extension ServiceHarness {
    /// Calls `verb` and decodes the answer as a JSON array.
    func callArray(_ verb: String, _ body: String) async throws -> [JSONValue] {
        let answer = try await self.client.call(verb, body: ByteBuffer(string: body))
        return try JSONDecoder().decode([JSONValue].self, from: Data(answer.readableBytesView))
    }
}

extension JSONValue {
    var integerValue: Int64? {
        if case .integer(let value) = self { return value }
        return nil
    }
}
