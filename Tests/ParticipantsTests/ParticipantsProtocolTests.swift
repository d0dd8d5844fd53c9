import ConcordClient
import ConcordProtocol
import ConcordRecords
import ConcordStorage
import ConcordTestSupport
import Foundation
import NIOCore
import Testing

@testable import Participants

/// The participants verbs through the real protocol: TLS, a real server on port 0, a real client.
@Suite("Participants over the protocol", .timeLimit(.minutes(2)))
struct ParticipantsProtocolTests {
    /// A seeded store behind a real server, and a client connected to it.
    func withParticipants(_ engine: Engine, seeded: Bool = true, _ body: (ConcordClient) async throws -> Void) async throws {
        try await withTestDatabase(engine) { database in
            let store = RecordStore.standalone(database)
            if seeded {
                _ = try await seedLoader(store).load()
            }
            try await withTestServer(router: Participants.router(store: store)) { server in
                let client = try makeTestClient(port: server.localPort)
                do {
                    try await body(client)
                    await client.close()
                } catch {
                    await client.close()
                    throw error
                }
            }
        }
    }

    @Test(arguments: Engine.allCases)
    func everyVerbOfEveryKind(engine: Engine) async throws {
        // For each kind: a create body, a patch for update, a filter for list, a search text.
        let kinds: [(table: String, key: JSONValue, create: String, patch: String, filter: String, search: String)] = [
            ("countries", .string("AZ"), #"{"code":"az","name":"Azerbaijan"}"#, #"{"localName":"Azərbaycan"}"#, #"{}"#, "azerb"),
            ("regions", .string("IR-27"), #"{"code":"IR-27","country":"IR","kind":"province","name":"Golestan","capital":"Gorgan","sectors":["agriculture"]}"#,
             #"{"profile":"Caspian coast"}"#, #"{"sector":"agriculture"}"#, "gorgan"),
            ("officials", .string("test-official"), #"{"id":"test-official","name":"Test Official","title":"Governor","organisation":"Gilan Governorate","country":"IR"}"#,
             #"{"title":"Governor-General"}"#, #"{"organisation":"Gilan Governorate"}"#, "governor"),
            ("sessions", .integer(7), #"{"number":7,"startDate":"2026-10-01","endDate":"2026-10-02","city":"Tehran","hostCountry":"IR"}"#,
             #"{"city":"Rasht"}"#, #"{"hostCountry":"IR","year":2026}"#, "rasht"),
            ("attendance", .string("6/test-official"), #"{"session":6,"official":"test-official","role":"presenter","region":"IR-27"}"#,
             #"{"note":"Presented Golestan's ports"}"#, #"{"role":"presenter"}"#, "ports"),
            ("partnerships", .string("golestan-astrakhan"), #"{"id":"golestan-astrakhan","regionA":"IR-27","regionB":"RU-AST","instrument":"memorandum","since":"2026-10"}"#,
             #"{"note":"Signed at the seventh session"}"#, #"{"region":"IR-27"}"#, "seventh"),
        ]
        try await withParticipants(engine) { client in
            try await checkRecordContracts(kinds.map { kind in
                let keyField = kind.table == "countries" || kind.table == "regions" ? "code" : kind.table == "sessions" ? "number" : "id"
                return RecordContract(
                    service: "participants", table: kind.table, keyField: keyField, key: kind.key,
                    create: kind.create, patch: kind.patch, filter: kind.filter, search: kind.search
                )
            }, client: client)
            let attendees = try await client.call("participants.sessions.attendees", body: ByteBuffer(string: #"{"number":6}"#))
            let decoded = try JSONDecoder().decode([JSONObject].self, from: attendees)
            #expect(decoded.count == 3, "the seeded three; the contract's attendance record is deleted again")
            let session = try await call(client, "participants.sessions.get", #"{"number":6}"#)
            #expect(session["coChairs"] == .array([.string("mehdi-dousti"), .string("vladimir-ilichev")]))
            // The overview: the same session and the same attendees, in one answer.
            let overview = try await call(client, "participants.sessions.overview", #"{"number":6}"#)
            #expect(overview["session"]?.object?["coChairs"] == session["coChairs"])
            #expect(overview["attendees"]?.array?.count == 3)
            await expectError(client, "participants.sessions.overview", #"{"number":99}"#, .notFound, field: "body.number")
        }
    }

    /// Every validation rule answers bad_request naming the field and the rule.
    @Test(arguments: Engine.allCases)
    func validationErrorsNameTheFieldAndTheRule(engine: Engine) async throws {
        let long = String(repeating: "x", count: 201)
        let cases: [(verb: String, body: String, field: String, says: String)] = [
            ("participants.regions.create", #"{"code":"IR-27","country":"XX","kind":"province","name":"Golestan"}"#, "body.code", "does not belong to country XX"),
            ("participants.regions.create", #"{"code":"XX-27","country":"XX","kind":"province","name":"Golestan"}"#, "body.country", "unknown country XX"),
            ("participants.regions.create", #"{"code":"IR-27","country":"IR","kind":"canton","name":"Golestan"}"#, "body.kind", "must be one of"),
            ("participants.regions.create", #"{"code":"IR27","country":"IR","kind":"province","name":"Golestan"}"#, "body.code", "ISO 3166-2"),
            ("participants.regions.create", #"{"code":"IR-27","country":"IR","kind":"province","name":"  "}"#, "body.name", "must not be empty"),
            ("participants.regions.create", #"{"code":"IR-27","country":"IR","kind":"province","name":"\#(long)"}"#, "body.name", "the most allowed is 200"),
            ("participants.regions.create", #"{"code":"IR-27","country":"IR","kind":"province","name":"G","localNames":{"Persian":"x"}}"#, "body.localNames", "ISO 639"),
            ("participants.regions.create", #"{"code":"IR-27","country":"IR","kind":"province","name":"G","sectors":["Agri Culture"]}"#, "body.sectors[0]", "lower-case"),
            ("participants.regions.create", #"{"code":"IR-27","country":"IR","kind":"province"}"#, "body.name", "missing required field"),
            ("participants.regions.create", #"{"code":"IR-27","country":"IR","kind":"province","name":7}"#, "body.name", "must be a string"),
            ("participants.regions.create", #"{"code":"IR-27","country":"IR","kind":"province","name":"G","colour":"red"}"#, "body.colour", "unknown field 'colour'"),
            ("participants.countries.create", #"{"code":"IRN","name":"Iran"}"#, "body.code", "ISO 3166-1 alpha-2"),
            ("participants.officials.create", #"{"id":"Mehdi Dousti","name":"M","title":"T","organisation":"O","country":"IR"}"#, "body.id", "lower-case letters"),
            ("participants.sessions.create", #"{"number":7,"startDate":"2026-13","city":"Tehran","hostCountry":"IR"}"#, "body.startDate", "month 13 is out of range"),
            ("participants.sessions.create", #"{"number":7,"startDate":"1850","city":"Tehran","hostCountry":"IR"}"#, "body.startDate", "out of range"),
            ("participants.sessions.create", #"{"number":7,"startDate":"2026-02-30","city":"Tehran","hostCountry":"IR"}"#, "body.startDate", "day 30 is out of range"),
            ("participants.sessions.create", #"{"number":7,"startDate":"10 Dec 2025","city":"Tehran","hostCountry":"IR"}"#, "body.startDate", "YYYY-MM-DD"),
            ("participants.sessions.create", #"{"number":7,"startDate":"2026-10-02","endDate":"2026-10-01","city":"Tehran","hostCountry":"IR"}"#, "body.endDate", "before startDate"),
            ("participants.sessions.create", #"{"number":0,"startDate":"2026","city":"Tehran","hostCountry":"IR"}"#, "body.number", "between 1 and 1000"),
            ("participants.attendance.create", #"{"session":6,"official":"mehdi-dousti","role":"king"}"#, "body.role", "must be one of"),
            ("participants.attendance.create", #"{"session":9,"official":"mehdi-dousti","role":"delegate"}"#, "body.session", "unknown session 9"),
            ("participants.attendance.create", #"{"session":6,"official":"nobody","role":"delegate"}"#, "body.official", "unknown official nobody"),
            ("participants.partnerships.create", #"{"regionA":"IR-01","regionB":"IR-01","instrument":"memorandum"}"#, "body.regionB", "must differ"),
            ("participants.partnerships.create", #"{"regionA":"IR-01","regionB":"RU-XX","instrument":"memorandum"}"#, "body.regionB", "unknown region RU-XX"),
            ("participants.regions.list", #"{"limit":0}"#, "body.limit", "from 1 to 500"),
            ("participants.regions.list", #"{"cursor":"bm9wZQ=="}"#, "body.cursor", "not one this service issued"),
            ("participants.regions.list", #"{"colour":"red"}"#, "body.colour", "unknown field"),
            ("participants.regions.list", #"{"country":5}"#, "body.country", "must be a string"),
            // A filter on a vocabulary matches nothing outside it: refused as a write would be.
            ("participants.regions.list", #"{"kind":"planet"}"#, "body.kind", "kind must be one of"),
            ("participants.attendance.list", #"{"role":"king"}"#, "body.role", "role must be one of"),
            ("participants.regions.list", #"{"country":"IRN"}"#, "body.country", "ISO 3166-1 alpha-2"),
            ("participants.attendance.list", #"{"region":"Gilan"}"#, "body.region", "ISO 3166-2"),
            ("participants.regions.search", #"{}"#, "body.q", "q is required"),
            ("participants.regions.get", #"{}"#, "body.code", "code is required"),
            ("participants.sessions.get", #"{"number":"six"}"#, "body.number", "must be an integer"),
            ("participants.regions.update", #"{"code":"IR-01","name":"Gilan"}"#, "body.version", "version is required"),
            ("participants.regions.update", #"{"code":"IR-01","version":1,"code2":"x"}"#, "body.code2", "unknown field"),
            ("participants.regions.update", #"{"code":"IR-01","version":1,"name":""}"#, "body.name", "must not be empty"),
            ("participants.regions.update", #"{"code":"IR-01","version":1,"createdAt":"x"}"#, "body.createdAt", "kept by the service"),
            ("participants.regions.create", #"[1,2]"#, "body", "an object"),
        ]
        try await withParticipants(engine) { client in
            for test in cases {
                await expectError(client, test.verb, test.body, .badRequest, field: test.field, says: test.says)
            }
            // None of them wrote anything.
            let regions = try await call(client, "participants.regions.list", "{}")
            #expect(regions["items"]?.array?.count == 7)
        }
    }

    @Test(arguments: Engine.allCases)
    func conflictsAndTheirMessages(engine: Engine) async throws {
        try await withParticipants(engine) { client in
            await expectError(client, "participants.countries.create", #"{"code":"IR","name":"Iran again"}"#, .conflict, field: "body.code", says: "country IR already exists")
            await expectError(client, "participants.regions.update", #"{"code":"IR-01","version":5,"capital":"Rasht"}"#, .conflict, field: "body.version", says: "is at version 1, not 5")
            await expectError(client, "participants.countries.delete", #"{"code":"RU"}"#, .conflict, field: "body.code", says: "still referenced by 4 regions, 1 officials, 1 sessions")
            await expectError(client, "participants.officials.delete", #"{"id":"kazem-jalali"}"#, .conflict, field: "body.id", says: "1 attendance records")
            await expectError(client, "participants.regions.update", #"{"code":"IR-01","version":1,"country":"RU"}"#, .badRequest, field: "body.code", says: "does not belong to country RU")
            await expectError(client, "participants.attendance.create", #"{"session":6,"official":"kazem-jalali","role":"delegate"}"#, .conflict, field: "body.id", says: "already exists")
            await expectError(client, "participants.officials.get", #"{"id":"nobody"}"#, .notFound, field: "body.id", says: "no official nobody")
        }
    }

    @Test(arguments: Engine.allCases)
    func aRetriedCreateWithAnIdempotencyKeyCreatesOnce(engine: Engine) async throws {
        try await withParticipants(engine) { client in
            let body = ByteBuffer(string: #"{"name":"New Official","title":"Adviser","organisation":"Embassy","country":"RU"}"#)
            let metadata = Metadata(idempotencyKey: "create-adviser-1")
            let first = try await client.call("participants.officials.create", body: body, metadata: metadata)
            let second = try await client.call("participants.officials.create", body: body, metadata: metadata)
            #expect(first == second)
            let listed = try await call(client, "participants.officials.list", #"{"country":"RU"}"#)
            #expect(listed["items"]?.array?.count == 2)
            do {
                _ = try await client.call("participants.officials.create", body: ByteBuffer(string: #"{"name":"Other","title":"T","organisation":"O","country":"RU"}"#), metadata: metadata)
                Issue.record("reusing a key for another request must fail")
            } catch let error as ConcordError {
                #expect(error.code == .conflict)
                #expect(error.field == "metadata.idem")
            }
        }
    }

    @Test(arguments: Engine.allCases)
    func paginationAcrossPagesWhileRecordsAreInserted(engine: Engine) async throws {
        try await withParticipants(engine, seeded: false) { client in
            _ = try await call(client, "participants.countries.create", #"{"code":"IR","name":"Iran"}"#)
            for index in stride(from: 0, to: 40, by: 2) {
                _ = try await call(client, "participants.officials.create", String(format: #"{"id":"o-%02d","name":"N","title":"T","organisation":"O","country":"IR"}"#, index))
            }
            var seen: [String] = []
            var cursor: JSONValue = .null
            var page = 0
            repeat {
                let answer = try await call(client, "participants.officials.list", try json(["limit": .integer(6), "cursor": cursor]))
                seen += answer["items"]?.array?.compactMap { $0.object?["id"]?.string } ?? []
                cursor = answer["nextCursor"] ?? .null
                page += 1
                // Inserted meanwhile: one sorting before the cursor, one after everything.
                _ = try await call(client, "participants.officials.create", String(format: #"{"id":"o-%02d","name":"N","title":"T","organisation":"O","country":"IR"}"#, page * 4 - 3))
                _ = try await call(client, "participants.officials.create", #"{"id":"z-\#(page)","name":"N","title":"T","organisation":"O","country":"IR"}"#)
            } while cursor != .null
            #expect(Set(seen).count == seen.count)
            #expect(Set(stride(from: 0, to: 40, by: 2).map { String(format: "o-%02d", $0) }).isSubset(of: Set(seen)))
            #expect(page >= 4)
        }
    }
}

// MARK: Helpers

func json(_ object: JSONObject) throws -> String {
    String(decoding: try JSONEncoder().encode(object), as: UTF8.self)
}

func call(_ client: ConcordClient, _ verb: String, _ body: String) async throws -> JSONObject {
    let answer = try await client.call(verb, body: ByteBuffer(string: body))
    return try JSONDecoder().decode(JSONObject.self, from: answer)
}

func expectError(
    _ client: ConcordClient, _ verb: String, _ body: String, _ code: ErrorCode, field: String?, says: String = "",
    sourceLocation: SourceLocation = #_sourceLocation
) async {
    do {
        _ = try await client.call(verb, body: ByteBuffer(string: body))
        Issue.record("\(verb) \(body) succeeded; expected \(code)", sourceLocation: sourceLocation)
    } catch {
        #expect(error.code == code, "\(verb) \(body): \(error)", sourceLocation: sourceLocation)
        #expect(error.field == field, "\(verb) \(body): \(error)", sourceLocation: sourceLocation)
        #expect(says.isEmpty || error.message.contains(says), "\(verb) \(body): \(error)", sourceLocation: sourceLocation)
    }
}


