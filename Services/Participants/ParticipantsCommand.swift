import ArgumentParser
import ConcordServiceRuntime
import ConcordStorage
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Logging

/// Who takes part: countries, regions, officials, sessions, attendance and region partnerships.
@main
struct ParticipantsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "participants",
        abstract: "Concord's participants service: countries, regions, officials, sessions, attendance, partnerships.",
        subcommands: [Serve.self, Seed.self],
        defaultSubcommand: Serve.self
    )
}

/// Where the data lives; shared by every subcommand.
struct StorageOptions: ParsableArguments {
    @Option(help: "sqlite:PATH or postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE[?schema=NAME] (env CONCORD_DATABASE).")
    var database: String = ProcessInfo.processInfo.environment["CONCORD_DATABASE"] ?? "sqlite:.concord/data/participants.sqlite"

    @Option(help: "Directory of seed files (seeds/participants); loaded when the store is empty (env CONCORD_SEEDS).")
    var seeds: String?

    var seedsDirectory: String? { self.seeds ?? ProcessInfo.processInfo.environment["CONCORD_SEEDS"] }

    func location() throws -> DatabaseLocation {
        do {
            return try DatabaseLocation(parsing: self.database)
        } catch {
            throw ValidationError(error.message)
        }
    }
}

extension ParticipantsCommand {
    struct Serve: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Serve the participants verbs (the default).")

        @OptionGroup var service: ServiceOptions
        @OptionGroup var storage: StorageOptions

        func run() async throws {
            let logger = try self.service.makeLogger(label: "concord.participants")
            let location = try self.storage.location()
            let configuration = try self.service.serverConfiguration(
                serviceName: "participants",
                defaultPort: 7401,
                defaultPeerAuthentication: .required
            )
            let eventLoopGroup = try self.service.makeEventLoopGroup()
            let database = try await openDatabase(location, eventLoopGroup: eventLoopGroup, logger: logger)
            logger.info("store opened", metadata: ["concord.database": "\(location)"])
            let participants = ParticipantsService(
                database: database,
                configuration: configuration,
                seedsDirectory: self.storage.seedsDirectory,
                eventLoopGroup: eventLoopGroup,
                logger: logger
            )
            try await runUntilTerminated([database, participants], logger: logger)
        }
    }

    struct Seed: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Load seed records into the store (idempotent: records already present are left as they are)."
        )

        @OptionGroup var storage: StorageOptions

        @Option(help: "trace, debug, info, notice, warning, error or critical.")
        var logLevel: String = "warning"

        func run() async throws {
            var logger = Logger(label: "concord.participants")
            logger.logLevel = Logger.Level(rawValue: self.logLevel) ?? .warning
            guard let seeds = self.storage.seedsDirectory else {
                throw ValidationError("--seeds DIR is required, e.g. --seeds seeds/participants")
            }
            let database = try await openDatabase(try self.storage.location(), logger: logger)
            let outcome = try await withDatabaseRunning(database) {
                try await database.migrate(ParticipantsSchema.migrations)
                return try await SeedLoader(store: RecordStore(database: database), directory: seeds, logger: logger).load()
            }
            print("seeds from \(seeds): \(outcome)")
        }
    }
}
