import ConcordProtocol
import ConcordStorage
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Logging

/// Loads the records under `seeds/participants/` (one JSON array per kind, every record with its
/// source). Records already present are left as they are, so loading twice changes nothing and
/// edits made since are never overwritten.
struct SeedLoader: Sendable {
    let store: RecordStore
    let directory: String
    let logger: Logger

    struct Outcome: Sendable, Equatable, CustomStringConvertible {
        var created = 0
        var present = 0
        var description: String { "\(self.created) created, \(self.present) already present" }
    }

    /// Kinds in the order their references need.
    func load() async throws -> Outcome {
        var outcome = Outcome()
        try await self.load(Country.self, into: &outcome)
        try await self.load(Region.self, into: &outcome)
        try await self.load(Official.self, into: &outcome)
        try await self.load(CommitteeSession.self, into: &outcome)
        try await self.load(Attendance.self, into: &outcome)
        try await self.load(Partnership.self, into: &outcome)
        return outcome
    }

    /// True when the store holds no records at all (a fresh database).
    func storeIsEmpty() async throws -> Bool {
        try await self.store.database.read { session in
            try await session.first("SELECT COUNT(*) AS n FROM countries")?.integer("n") == 0
        }
    }

    private func load<Record: StoredRecord>(_ type: Record.Type, into outcome: inout Outcome) async throws {
        let path = URL(fileURLWithPath: self.directory).appendingPathComponent("\(Record.table).json").path
        guard FileManager.default.fileExists(atPath: path) else { return }
        let objects: [JSONObject]
        do {
            objects = try JSONDecoder().decode([JSONObject].self, from: Data(contentsOf: URL(fileURLWithPath: path)))
        } catch {
            throw SeedError(path: path, index: nil, message: "is not a JSON array of objects: \(error)")
        }
        for (index, object) in objects.enumerated() {
            do {
                let record = try RecordStore.decodeInput(Record.self, from: object).normalised(isNew: false)
                if try await self.store.exists(Record.self, key: record.key) {
                    outcome.present += 1
                    continue
                }
                _ = try await self.store.create(record, verb: "seed", idempotencyKey: nil)
                outcome.created += 1
            } catch let error as ConcordError where error.code == .conflict {
                // Another replica loaded it between our check and our create.
                outcome.present += 1
            } catch let error as ConcordError {
                throw SeedError(path: path, index: index, message: "\(error.message)" + (error.field.map { " (field \($0))" } ?? ""))
            }
        }
        self.logger.debug("seeds loaded", metadata: ["concord.seed_file": "\(path)", "concord.count": "\(objects.count)"])
    }
}

struct SeedError: Error, CustomStringConvertible {
    var path: String
    var index: Int?
    var message: String
    var description: String { "\(self.path)" + (self.index.map { " record \($0)" } ?? "") + ": \(self.message)" }
}

extension RecordStore {
    func exists<Record: StoredRecord>(_ type: Record.Type, key: SQLValue) async throws -> Bool {
        try await self.database.read { session in try await Self.exists(Record.self, key: key, in: session) }
    }
}
