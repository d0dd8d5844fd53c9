import ArgumentParser
import ConcordProtocol
import ConcordRecords
import ConcordServer
import ConcordServiceRuntime
import ConcordStorage
import Logging

/// `SERVICE serve` (the default): the data service on its port, until SIGTERM.
public struct DataServe<Definition: DataServiceDefinition>: AsyncParsableCommand {
    public static var configuration: CommandConfiguration {
        CommandConfiguration(commandName: "serve", abstract: "Serve the \(Definition.name) verbs (the default).")
    }

    @OptionGroup var service: ServiceOptions
    @OptionGroup var storage: StorageOptions

    public init() {}

    public func run() async throws {
        let logger = try self.service.makeLogger(label: "concord.\(Definition.name)")
        let location = try self.storage.location(service: Definition.name)
        let configuration = try self.service.serverConfiguration(
            serviceName: Definition.name,
            defaultPort: Definition.defaultPort,
            defaultPeerAuthentication: .required,
            peerPolicy: .dataService
        )
        let eventLoopGroup = try self.service.makeEventLoopGroup()
        let database = try await openDatabase(location, eventLoopGroup: eventLoopGroup, logger: logger)
        logger.info("store opened", metadata: [LogKey.database: "\(location)"])
        let service = DataService<Definition>(
            database: database,
            configuration: configuration,
            seedsDirectory: self.storage.seedsDirectory,
            eventLoopGroup: eventLoopGroup,
            logger: logger
        )
        try await runUntilTerminated([database, service], logger: logger)
    }
}

/// `SERVICE seed`: load seed records into the store, idempotently, and exit.
public struct DataSeed<Definition: DataServiceDefinition>: AsyncParsableCommand {
    public static var configuration: CommandConfiguration {
        CommandConfiguration(
            commandName: "seed",
            abstract: "Load seed records into the store (idempotent: records already present are left as they are)."
        )
    }

    @OptionGroup var storage: StorageOptions

    @Option(help: "trace, debug, info, notice, warning, error or critical.")
    var logLevel: String = "warning"

    public init() {}

    public func run() async throws {
        var logger = Logger(label: "concord.\(Definition.name)")
        logger.logLevel = Logger.Level(rawValue: self.logLevel) ?? .warning
        guard let seeds = self.storage.seedsDirectory else {
            throw ValidationError("--seeds DIR is required, e.g. --seeds seeds/\(Definition.name)")
        }
        let database = try await openDatabase(try self.storage.location(service: Definition.name), logger: logger)
        let outcome = try await withDatabaseRunning(database) {
            try await database.migrate(Definition.migrations)
            let loader = SeedLoader(store: RecordStore(database: database), directory: seeds, kinds: Definition.kinds, logger: logger)
            return try await loader.load()
        }
        print("seeds from \(seeds): \(outcome)")
    }
}

extension DataServiceDefinition {
    /// The command line of a data service's executable: `serve` (the default) and `seed`.
    public static var commandConfiguration: CommandConfiguration {
        CommandConfiguration(
            commandName: Self.name,
            abstract: Self.abstract,
            subcommands: [DataServe<Self>.self, DataSeed<Self>.self],
            defaultSubcommand: DataServe<Self>.self
        )
    }
}
