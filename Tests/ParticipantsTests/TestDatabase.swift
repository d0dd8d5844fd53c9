import ConcordProtocol
import ConcordRecords
import ConcordServer
import ConcordStorage
import ConcordTestSupport
import Foundation

@testable import Participants

/// A migrated participants store on a fresh location of `engine`.
func withTestDatabase<T: Sendable>(
    _ engine: Engine,
    location: DatabaseLocation? = nil,
    _ body: (any Database) async throws -> T
) async throws -> T {
    try await withTestDatabase(engine, migrations: Participants.migrations, location: location, body)
}

/// A write as a test makes it.
let testWrite = WriteContext(verb: "test", actor: Principal(name: "test"))

extension RecordStore {
    /// Creates the two countries and a region most tests build on.
    func createBasics() async throws {
        _ = try await self.create(Country(code: "IR", name: "Iran"), context: testWrite)
        _ = try await self.create(Country(code: "RU", name: "Russia"), context: testWrite)
        _ = try await self.create(
            Region(code: "IR-01", country: "IR", kind: "province", name: "Gilan", capital: "Rasht"),
            context: testWrite
        )
    }
}

func official(_ id: String?, name: String = "Test Official", country: String = "IR") -> Official {
    Official(id: id, name: name, title: "Deputy Minister", organisation: "Ministry of Interior", country: country)
}

func seedLoader(_ store: RecordStore) -> SeedLoader {
    SeedLoader(store: store, directory: seedsDirectory, kinds: Participants.kinds, logger: quietLogger)
}

let seedsDirectory: String = {
    // Tests/ParticipantsTests/TestDatabase.swift -> repository root.
    URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("seeds/participants").path
}()
