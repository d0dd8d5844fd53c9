import ConcordProtocol
import ConcordStorage
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Logging

/// Loads a service's seed files (`DIR/<table>.json`, one JSON array per kind, every record with
/// its source) kind by kind, in the order their references need. Records already present are
/// left as they are, so loading twice changes nothing and edits made since are never overwritten.
public struct SeedLoader: Sendable {
    public let store: RecordStore
    public let directory: String
    /// The kinds, referenced before referring.
    public let kinds: [any StoredRecord.Type]
    public let logger: Logger

    public init(store: RecordStore, directory: String, kinds: [any StoredRecord.Type], logger: Logger) {
        self.store = store
        self.directory = directory
        self.kinds = kinds
        self.logger = logger
    }

    public struct Outcome: Sendable, Equatable, CustomStringConvertible {
        public var created = 0
        public var present = 0
        public init(created: Int = 0, present: Int = 0) {
            self.created = created
            self.present = present
        }
        public var description: String { "\(self.created) created, \(self.present) already present" }
    }

    /// Refuses a directory that is not there, or that holds none of the kinds' files: a seed
    /// run that loads nothing from a mistyped path would leave an empty store without a word.
    public func checkDirectory() throws(SeedError) {
        let expected = self.kinds.map { "\($0.table).json" }
        guard let entries = try? FileManager.default.contentsOfDirectory(atPath: self.directory) else {
            throw SeedError(path: self.directory, index: nil, message: "is not a directory of seed files")
        }
        guard entries.contains(where: expected.contains) else {
            throw SeedError(path: self.directory, index: nil, message: "holds none of this service's seed files (\(expected.joined(separator: ", ")))")
        }
    }

    public func load() async throws -> Outcome {
        try self.checkDirectory()
        var outcome = Outcome()
        for kind in self.kinds {
            try await self.load(kind, into: &outcome)
        }
        return outcome
    }

    /// True when every table of the service is empty: a fresh database.
    public func storeIsEmpty() async throws -> Bool {
        for kind in self.kinds {
            if try await self.store.hasRecords(kind) { return false }
        }
        return true
    }

    /// How many times a record is tried when what it names could not be checked in time.
    static let attempts = 5

    /// Whether a record may be tried again: nothing was written, because what it names could
    /// not be confirmed in time (another service did not answer, or the check went stale).
    static func mayTryAgain(_ error: any Error) -> Bool {
        switch error {
        case let error as RecordError: error.reason == .notConfirmed
        case let error as ConcordError: error.code == .unavailable
        default: false
        }
    }

    /// What refused a record: a rule of records (the store's) or of its fields (the kind's);
    /// nil for any other failure, which stops the load as it is.
    static func refusal(_ error: any Error) -> (message: String, field: String?)? {
        switch error {
        case let error as RecordError: (error.message, error.field)
        case let error as ConcordError: (error.message, error.field)
        default: nil
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
            var attempt = 1
            while true {
                do {
                    let record = try RecordBody.record(Record.self, from: object).normalised(isNew: false)
                    if try await self.store.exists(Record.self, key: record.key) {
                        outcome.present += 1
                    } else {
                        _ = try await self.store.create(record, context: .seed)
                        outcome.created += 1
                    }
                    break
                } catch let error as RecordError where error.reason == .exists {
                    // Another replica loaded it between our check and our create.
                    outcome.present += 1
                    break
                } catch where Self.mayTryAgain(error) && attempt < Self.attempts {
                    // Nothing was written: the service a record names did not answer in time, or
                    // the check went stale before the commit (a busy machine). Try it again.
                    self.logger.info("seed record not written yet; trying again", metadata: [
                        LogKey.seedFile: "\(path)", LogKey.seedRecord: "\(index)", LogKey.error: "\(error)",
                    ])
                    try await Task.sleep(for: .milliseconds(100 * attempt))
                    attempt += 1
                } catch {
                    guard let (message, field) = Self.refusal(error) else { throw error }
                    throw SeedError(path: path, index: index, message: message + (field.map { " (field \($0))" } ?? ""))
                }
            }
        }
        self.logger.debug("seeds loaded", metadata: [LogKey.seedFile: "\(path)", LogKey.count: "\(objects.count)"])
    }
}

public struct SeedError: Error, CustomStringConvertible {
    public var path: String
    public var index: Int?
    public var message: String
    public var description: String { "\(self.path)" + (self.index.map { " record \($0)" } ?? "") + ": \(self.message)" }
}

extension RecordStore {
    /// Whether the kind's table holds any record.
    public func hasRecords<Record: StoredRecord>(_ type: Record.Type) async throws -> Bool {
        try await self.database.read { session in
            try await session.first("SELECT 1 AS found FROM \(Record.table) LIMIT 1") != nil
        }
    }
}
