import ConcordClient
import ConcordProtocol
import ConcordRecords
import ConcordTestSupport
import Foundation
import NIOCore
import Testing

@testable import Agreements

@Suite("Agreements over the protocol", .serialized, .timeLimit(.minutes(3)))
struct AgreementsTests {
    @Test(arguments: Engine.allCases)
    func theKitsContractHoldsForEveryKind(engine: Engine) async throws {
        try await AgreementsHarness.with(engine) { env in
            try await checkRecordContracts([
                RecordContract(
                    service: "agreements", table: "instruments", keyField: "id", key: .string("test-memorandum"),
                    create: #"{"id":"test-memorandum","kind":"memorandum","status":"proposed","title":"Test memorandum on ports","session":6,"sectors":["transport"],"parties":[{"party":{"region":"IR-01"},"role":"proposer"}]}"#,
                    patch: #"{"summary":"Caspian ports"}"#, filter: #"{"sector":"transport","session":6}"#, search: "ports"
                ),
                RecordContract(
                    service: "agreements", table: "relations", keyField: "id", key: .string("test-memorandum--implements--permanent-secretariat"),
                    create: #"{"from":"test-memorandum","kind":"implements","to":"permanent-secretariat"}"#,
                    patch: #"{"note":"Test relation"}"#, filter: #"{"instrument":"test-memorandum"}"#, search: "test relation"
                ),
                RecordContract(
                    service: "agreements", table: "obstacles", keyField: "id", key: .string("test-visas"),
                    create: #"{"id":"test-visas","category":"visas-and-travel","status":"open","title":"Visa queues","raisedAt":{"session":6,"official":"kazem-jalali"},"affects":{"instruments":["test-memorandum"]}}"#,
                    patch: #"{"status":"being-addressed"}"#, filter: #"{"instrument":"test-memorandum"}"#, search: "queues"
                ),
                RecordContract(
                    service: "agreements", table: "actions", keyField: "id", key: .string("test-action"),
                    create: #"{"id":"test-action","title":"Draft the port memorandum","instrument":"test-memorandum","owner":{"official":"kazem-jalali"},"due":"2026-05","status":"planned","obstacles":["test-visas"]}"#,
                    patch: #"{"status":"in-progress"}"#, filter: #"{"owner":"kazem-jalali"}"#, search: "port memorandum"
                ),
                RecordContract(
                    service: "agreements", table: "indicators", keyField: "id", key: .string("test-indicator"),
                    create: #"{"id":"test-indicator","title":"Port throughput","instrument":"test-memorandum","measure":"tonnes","ascending":true,"baseline":{"value":"1000","date":"2025"},"target":{"value":"1500.5","date":"2027"}}"#,
                    patch: #"{"measure":"thousand tonnes"}"#, filter: #"{"instrument":"test-memorandum"}"#, search: "throughput"
                ),
            ], client: env.client)
        }
    }

    @Test(arguments: Engine.allCases)
    func theSecretariatProposalMovesAlongItsGraphOnly(engine: Engine) async throws {
        try await AgreementsHarness.with(engine) { env in
            let refused = await env.error("agreements.instruments.transition", #"{"id":"permanent-secretariat","version":1,"to":"in-force","date":"2026-01"}"#)
            #expect(refused?.code == .badRequest)
            #expect(refused?.field == "body.to")
            #expect(refused?.message == "from proposed an instrument may move to under-negotiation, signed, rejected, withdrawn; not in-force")

            let moved = try await env.call(
                "agreements.instruments.transition",
                #"{"id":"permanent-secretariat","version":1,"to":"under-negotiation","date":"2026-02","note":"Drafting the secretariat's terms","source":"test"}"#
            )
            #expect(moved["status"] == .string("under-negotiation"))
            #expect(moved["version"] == .integer(2))
            let history = moved["history"]?.array ?? []
            #expect(history.count == 1)
            #expect(history.first?.object?["from"] == .string("proposed"))
            #expect(history.first?.object?["date"] == .string("2026-02"))

            let update = await env.error("agreements.instruments.update", #"{"id":"permanent-secretariat","version":2,"status":"signed"}"#)
            #expect(update?.code == .badRequest)
            #expect(update?.field == "body.status", "an update cannot set status")
            let forced = await env.error("agreements.instruments.transition", #"{"id":"permanent-secretariat","version":2,"to":"in-force","date":"2026-03","force":true}"#)
            #expect(forced?.code == .forbidden, "only an admin moves outside the graph")
            let stale = await env.error("agreements.instruments.transition", #"{"id":"permanent-secretariat","version":1,"to":"signed","date":"2026-03"}"#)
            #expect(stale?.code == .conflict)
        }
    }

    /// Overdue with a fixed day and partial due dates: a month is due at its end, a year at
    /// its end; done and cancelled actions are never overdue; oldest first.
    @Test(arguments: Engine.allCases)
    func overdueCountsPartialDatesToTheirEnd(engine: Engine) async throws {
        try await AgreementsHarness.with(engine) { env in
            let actions = [
                ("due-day", "2026-03-15", "planned"), ("due-month", "2026-03", "in-progress"), ("due-year", "2026", "planned"),
                ("due-done", "2026-01-01", "done"), ("due-cancelled", "2026-01-01", "cancelled"), ("due-early", "2025-11", "blocked"),
            ]
            for (id, due, status) in actions {
                _ = try await env.call("agreements.actions.create", #"{"id":"\#(id)","title":"\#(id)","owner":{"official":"kazem-jalali"},"due":"\#(due)","status":"\#(status)"}"#)
            }
            func overdue(_ asOf: String) async throws -> [String] {
                let answer = try await env.call("agreements.actions.overdue", #"{"asOf":"\#(asOf)"}"#)
                #expect(answer["asOf"] == .string(asOf))
                return (answer["items"]?.array ?? []).compactMap { $0.object?["id"]?.string }
            }
            #expect(try await overdue("2026-03-15") == ["due-early"], "due today is not overdue yet")
            #expect(try await overdue("2026-03-16") == ["due-early", "due-day"])
            #expect(try await overdue("2026-03-31") == ["due-early", "due-day"], "a month is due at its last day")
            #expect(try await overdue("2026-04-01") == ["due-early", "due-day", "due-month"])
            #expect(try await overdue("2027-01-01") == ["due-early", "due-day", "due-month", "due-year"])
            let today = try await env.call("agreements.actions.overdue", "{}")
            #expect(today["asOf"] == .string(AgreementsHarness.today), "without asOf, the service's today")
            let byOwner = try await env.call("agreements.actions.overdue", #"{"asOf":"2026-04-01","owner":"official:kazem-jalali","limit":2}"#)
            #expect((byOwner["items"]?.array ?? []).count == 2)
            let nobody = try await env.call("agreements.actions.overdue", #"{"asOf":"2026-04-01","owner":"mehdi-dousti"}"#)
            #expect(nobody["items"]?.array?.isEmpty == true)
            let partial = await env.error("agreements.actions.overdue", #"{"asOf":"2026-04"}"#)
            #expect(partial?.field == "body.asOf")
            // One instrument's overdue actions only (an instrument's page asks so).
            _ = try await env.call(
                "agreements.actions.create",
                #"{"id":"due-of-instrument","instrument":"permanent-secretariat","title":"t","owner":{"official":"kazem-jalali"},"due":"2026-01","status":"planned"}"#
            )
            let ofInstrument = try await env.call("agreements.actions.overdue", #"{"asOf":"2026-04-01","instrument":"permanent-secretariat"}"#)
            #expect((ofInstrument["items"]?.array ?? []).compactMap { $0.object?["id"]?.string } == ["due-of-instrument"])
            let all = try await env.call("agreements.actions.overdue", #"{"asOf":"2026-04-01"}"#)
            #expect((all["items"]?.array ?? []).count == 4)
        }
    }

    /// `agreements.followup.all`: the overdue actions by owner, most first, beside every open
    /// obstacle and how many of them it blocks: the join `brief.followup` shows, made here.
    @Test(arguments: Engine.allCases)
    func everythingOverdueIsGroupedByOwnerBesideWhatBlocksIt(engine: Engine) async throws {
        try await AgreementsHarness.with(engine) { env in
            let actions = [
                ("late-1", #"{"official":"kazem-jalali"}"#, #"["standards"]"#, "planned"),
                ("late-2", #"{"official":"kazem-jalali"}"#, #"["standards","legal-frameworks"]"#, "blocked"),
                ("late-3", #"{"organisation":"Caspian Shipping Co"}"#, #"["standards"]"#, "in-progress"),
                ("late-but-done", #"{"organisation":"Caspian Shipping Co"}"#, #"["legal-frameworks"]"#, "done"),
            ]
            for (id, owner, obstacles, status) in actions {
                _ = try await env.call(
                    "agreements.actions.create",
                    #"{"id":"\#(id)","title":"\#(id)","owner":\#(owner),"due":"2026-01","status":"\#(status)","obstacles":\#(obstacles)}"#
                )
            }
            let answer = try await env.call("agreements.followup.all", #"{"asOf":"2026-04-01"}"#)
            #expect(answer["asOf"] == .string("2026-04-01"))
            let owners = (answer["byOwner"]?.array ?? []).compactMap(\.object)
            #expect(owners.map { $0["owner"]?.string } == ["official:kazem-jalali", "organisation:Caspian Shipping Co"], "most overdue first")
            #expect(owners.map { ($0["actions"]?.array ?? []).count } == [2, 1], "a done action is not overdue")
            let blocking = (answer["blockingMost"]?.array ?? []).compactMap(\.object).map { entry in
                "\(entry["obstacle"]?.object?["id"]?.string ?? "?")=\(entry["blockedActions"]?.integer ?? -1)"
            }
            #expect(blocking == ["standards=3", "legal-frameworks=1", "monetary-and-banking-relations=0"], "every open obstacle, by how many it blocks")
            let refused = await env.error("agreements.followup.all", #"{"since":"2026-01-01"}"#)
            #expect(refused?.code == .badRequest && refused?.field == "body.since")
        }
    }

    /// A parent's progress is its children's average, in the transaction of each change.
    @Test(arguments: Engine.allCases)
    func progressRollsUpAndKeepsATimeline(engine: Engine) async throws {
        try await AgreementsHarness.with(engine) { env in
            _ = try await env.call("agreements.actions.create", #"{"id":"parent","title":"Set up the secretariat","instrument":"permanent-secretariat","owner":{"country":"IR"},"status":"planned"}"#)
            for child in ["office", "staff", "budget"] {
                _ = try await env.call("agreements.actions.create", #"{"id":"\#(child)","title":"\#(child)","parent":"parent","owner":{"country":"RU"},"status":"planned"}"#)
            }
            let office = try await env.call("agreements.actions.progress", #"{"id":"office","version":1,"progress":60,"date":"2026-04-02","note":"Premises chosen","source":"test"}"#)
            #expect(office["progress"] == .integer(60))
            #expect(office["timeline"]?.array?.first?.object?["note"] == .string("Premises chosen"))
            _ = try await env.call("agreements.actions.progress", #"{"id":"staff","version":1,"progress":30,"date":"2026-04-03"}"#)
            var parent = try await env.call("agreements.actions.get", #"{"id":"parent"}"#)
            #expect(parent["progress"] == .integer(30), "(60 + 30 + 0) / 3")
            _ = try await env.call("agreements.actions.update", #"{"id":"budget","version":1,"status":"cancelled"}"#)
            parent = try await env.call("agreements.actions.get", #"{"id":"parent"}"#)
            #expect(parent["progress"] == .integer(45), "a cancelled child is left out: (60 + 30) / 2")
            #expect(parent["version"] == .integer(4), "created, then three roll-ups")
            let direct = await env.error("agreements.actions.progress", #"{"id":"parent","version":4,"progress":90,"date":"2026-04-04"}"#)
            #expect(direct?.code == .badRequest)
            #expect(direct?.message.contains("rolled up") == true)
            let cycle = await env.error("agreements.actions.update", #"{"id":"parent","version":4,"parent":"office"}"#)
            #expect(cycle?.field == "body.parent", "\(String(describing: cycle))")
            _ = try await env.call("agreements.actions.delete", #"{"id":"staff"}"#)
            parent = try await env.call("agreements.actions.get", #"{"id":"parent"}"#)
            #expect(parent["progress"] == .integer(60))
            let audit = try await env.call("agreements.audit.list", #"{"kind":"actions","key":"parent"}"#)
            let changes = (audit["items"]?.array ?? []).compactMap { $0.object?["operation"]?.string }
            #expect(changes == ["create", "change", "change", "change", "change"], "each roll-up is audited: \(changes)")
        }
    }

    @Test(arguments: Engine.allCases)
    func referencesToParticipantsAreChecked(engine: Engine) async throws {
        try await AgreementsHarness.with(engine, replicas: 2) { env in
            let unknown = await env.error("agreements.actions.create", #"{"id":"x","title":"x","owner":{"official":"nobody-at-all"},"status":"planned"}"#)
            #expect(unknown?.code == .badRequest)
            #expect(unknown?.field == "body.owner.official")
            let session = await env.error("agreements.obstacles.create", #"{"id":"x","category":"other","status":"open","title":"x","raisedAt":{"session":99}}"#)
            #expect(session?.field == "body.raisedAt.session")

            // Behind two replicas: one stops, the other answers.
            await env.replicas[0].stop()
            _ = try await env.call("agreements.actions.create", #"{"id":"with-one-replica","title":"x","owner":{"region":"RU-AST"},"status":"planned"}"#)

            // Participants down: refused as unavailable, naming it, and nothing written.
            await env.replicas[1].stop()
            let down = await env.error("agreements.actions.create", #"{"id":"while-down","title":"x","owner":{"official":"kazem-jalali"},"status":"planned"}"#)
            #expect(down?.code == .unavailable)
            #expect(down?.message.contains("participants") == true, "\(String(describing: down))")
            #expect(await env.error("agreements.actions.get", #"{"id":"while-down"}"#)?.code == .notFound)
            let audit = try await env.call("agreements.audit.list", #"{"key":"while-down"}"#)
            #expect(audit["items"]?.array?.isEmpty == true)
            // Reads never depend on participants.
            _ = try await env.call("agreements.actions.get", #"{"id":"with-one-replica"}"#)
            _ = try await env.call("agreements.followup", #"{"session":6}"#)
        }
    }

    @Test(arguments: Engine.allCases)
    func anIdempotentRetryCreatesOnce(engine: Engine) async throws {
        try await AgreementsHarness.with(engine) { env in
            let body = #"{"title":"Open a trade house in Rasht","owner":{"region":"IR-01"},"status":"planned"}"#
            let first = try await env.call("agreements.actions.create", body, metadata: Metadata(idempotencyKey: "retry-1"))
            let again = try await env.call("agreements.actions.create", body, metadata: Metadata(idempotencyKey: "retry-1"))
            #expect(first["id"] == again["id"])
            let audit = try await env.call("agreements.audit.list", #"{"kind":"actions","key":"\#(first["id"]?.string ?? "")"}"#)
            #expect(audit["items"]?.array?.count == 1)
        }
    }

    @Test(arguments: Engine.allCases)
    func followUpOfTheSixthSessionShowsTheSeededItems(engine: Engine) async throws {
        try await AgreementsHarness.with(engine) { env in
            _ = try await env.call("agreements.actions.create", #"{"id":"secretariat-terms","title":"Draft the secretariat's terms","instrument":"permanent-secretariat","owner":{"official":"mehdi-dousti"},"due":"2026-03","status":"in-progress","obstacles":["legal-frameworks"]}"#)
            // Read for all of the session's instruments at once: an obstacle found by what it
            // affects, an indicator, and a done action (not open), each under its own instrument.
            _ = try await env.call("agreements.obstacles.create", #"{"id":"review-data-gaps","category":"other","status":"open","title":"Data gaps","affects":{"instruments":["session-6-sector-review"]}}"#)
            _ = try await env.call("agreements.indicators.create", #"{"id":"secretariat-staffed","title":"Secretariat staffed","instrument":"permanent-secretariat","measure":"posts filled","ascending":true,"target":{"value":"5","date":"2026"}}"#)
            _ = try await env.call("agreements.actions.create", #"{"id":"review-kickoff","title":"Hold the review's first meeting","instrument":"session-6-sector-review","owner":{"official":"mehdi-dousti"},"status":"done"}"#)
            let followUp = try await env.call("agreements.followup", #"{"session":6}"#)
            let items = followUp["items"]?.array ?? []
            let ids = items.compactMap { $0.object?["instrument"]?.object?["id"]?.string }
            #expect(ids.contains("permanent-secretariat"))
            #expect(ids.contains("session-6-sector-review"))
            let proposal = items.first { $0.object?["instrument"]?.object?["id"] == .string("permanent-secretariat") }?.object
            #expect(proposal?["instrument"]?.object?["status"] == .string("proposed"))
            #expect(proposal?["overdueActions"]?.array?.count == 1, "due end of March 2026, counted on \(AgreementsHarness.today)")
            #expect(proposal?["blockingObstacles"]?.array?.first?.object?["id"] == .string("legal-frameworks"))
            #expect((proposal?["indicators"]?.array ?? []).compactMap { $0.object?["id"]?.string } == ["secretariat-staffed"])
            let review = items.first { $0.object?["instrument"]?.object?["id"] == .string("session-6-sector-review") }?.object
            #expect((review?["blockingObstacles"]?.array ?? []).compactMap { $0.object?["id"]?.string } == ["review-data-gaps"])
            #expect(review?["indicators"]?.array?.isEmpty == true)
            #expect(review?["openActions"]?.array?.isEmpty == true, "a done action is not open")
            #expect(proposal?["openActions"]?.array?.count == 1)
            let obstacles = (followUp["obstacles"]?.array ?? []).compactMap { $0.object?["title"]?.string }
            #expect(Set(obstacles) == ["Monetary and banking relations", "Legal frameworks", "Standards"])
            let embassy = (followUp["sessionActions"]?.array ?? []).compactMap { $0.object?["id"]?.string }
            #expect(embassy == ["embassy-support-for-implementation"])
            let chain = try await env.call("agreements.relations.list", #"{"instrument":"eaeu-iran-interim-agreement"}"#)
            #expect(Set((chain["items"]?.array ?? []).compactMap { $0.object?["kind"]?.string }) == ["extends", "supersedes"])
            // A session participants does not have is not found, not a session where nothing was agreed.
            let missing = await env.error("agreements.followup", #"{"session":99}"#)
            #expect(missing == ConcordError(.notFound, "no session 99", field: "body.session", rule: .noRecord))
        }
    }
}
