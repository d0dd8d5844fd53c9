import ConcordClient
import ConcordProtocol
import ConcordRecords
import ConcordStorage
import ConcordTestSupport
import Foundation
import NIOConcurrencyHelpers
import NIOCore
import Testing

@testable import Participants

/// The participants executable as it runs in production: its own process, its own database.
@Suite("Participants processes", .serialized, .timeLimit(.minutes(3)))
struct ParticipantsProcessTests {
    /// Every write acknowledged before a SIGKILL is there after a restart.
    @Test(arguments: Engine.allCases)
    func acknowledgedWritesSurviveSIGKILL(engine: Engine) async throws {
        let location = try freshLocation(engine)
        let first = try await ParticipantsProcess.start(database: databaseArgument(location), seeds: seedsDirectory)
        let client = try first.client()
        let acknowledged = NIOLockedValueBox<[String]>([])
        let target = 100
        try await withThrowingTaskGroup(of: Void.self) { group in
            for index in 0..<(target * 2) {
                group.addTask {
                    let id = String(format: "durable-%03d", index)
                    let body = #"{"id":"\#(id)","name":"Durable \#(index)","title":"Delegate","organisation":"Test","country":"IR"}"#
                    if (try? await client.call("participants.officials.create", body: ByteBuffer(string: body))) != nil {
                        acknowledged.withLockedValue { $0.append(id) }
                    }
                }
            }
            // Kill the moment `target` writes are acknowledged; the rest are in flight or unsent.
            try await eventually("\(target) writes acknowledged", timeout: .seconds(60), pollEvery: .milliseconds(1)) {
                acknowledged.withLockedValue { $0.count } >= target
            }
            await first.kill()
            try await group.waitForAll()
        }
        await client.close()
        let acked = acknowledged.withLockedValue { $0 }
        #expect(acked.count >= target)

        let second = try await ParticipantsProcess.start(database: databaseArgument(location))
        let reader = try second.client()
        var missing: [String] = []
        for id in acked {
            do {
                _ = try await reader.call("participants.officials.get", body: ByteBuffer(string: #"{"id":"\#(id)"}"#))
            } catch {
                missing.append(id)
            }
        }
        await reader.close()
        let exitStatus = await second.terminate()
        #expect(exitStatus == 0, "graceful exit on SIGTERM")
        #expect(missing.isEmpty, "acknowledged but lost: \(missing)")
        try await withTestDatabase(engine, location: location) { _ in }
    }

    /// Two replicas on one PostgreSQL database: what one writes, the other reads.
    @Test
    func twoProcessesShareOnePostgresDatabase() async throws {
        let location = try freshLocation(.postgres)
        let argument = databaseArgument(location)
        // Started together: both migrate, the advisory lock makes that safe.
        async let startA = ParticipantsProcess.start(database: argument, seeds: seedsDirectory)
        async let startB = ParticipantsProcess.start(database: argument, seeds: seedsDirectory)
        let (a, b) = try await (startA, startB)
        let clientA = try a.client()
        let clientB = try b.client()

        let created = try await call(clientA, "participants.officials.create", #"{"id":"shared-1","name":"Shared","title":"Adviser","organisation":"Secretariat","country":"RU"}"#)
        let readByB = try await call(clientB, "participants.officials.get", #"{"id":"shared-1"}"#)
        #expect(readByB == created)

        let updatedByB = try await call(clientB, "participants.officials.update", #"{"id":"shared-1","version":1,"title":"Senior Adviser"}"#)
        let readByA = try await call(clientA, "participants.officials.get", #"{"id":"shared-1"}"#)
        #expect(readByA == updatedByB)
        #expect(readByA["version"] == .integer(2))
        // A stale write through the other replica is still a conflict.
        await expectError(clientA, "participants.officials.update", #"{"id":"shared-1","version":1,"title":"X"}"#, .conflict, field: "body.version")
        // Seeds were loaded once, not twice.
        let countries = try await call(clientB, "participants.countries.list", "{}")
        #expect(countries["items"]?.array?.count == 2)

        await clientA.close()
        await clientB.close()
        let statusA = await a.terminate()
        #expect(statusA == 0)
        let statusB = await b.terminate()
        #expect(statusB == 0)
        try await withTestDatabase(.postgres, location: location) { _ in }
    }
}
