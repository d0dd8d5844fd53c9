import ConcordProtocol
import ConcordRecords
import ConcordServer
import ConcordStorage
import Logging
import NIOCore
import ServiceLifecycle

/// A data service once its database is up: migrate, seed an empty store, then serve until
/// graceful shutdown. Runs after the database in the service group, so it stops first.
public struct DataService<Definition: DataServiceDefinition>: Service {
    let database: any Database
    let configuration: ServerConfiguration
    let seedsDirectory: String?
    let eventLoopGroup: any EventLoopGroup
    let logger: Logger

    public init(database: any Database, configuration: ServerConfiguration, seedsDirectory: String?, eventLoopGroup: any EventLoopGroup, logger: Logger) {
        self.database = database
        self.configuration = configuration
        self.seedsDirectory = seedsDirectory
        self.eventLoopGroup = eventLoopGroup
        self.logger = logger
    }

    public func run() async throws {
        try await self.database.migrate(Definition.migrations)
        let store = RecordStore(database: self.database)
        if let seedsDirectory {
            let loader = SeedLoader(store: store, directory: seedsDirectory, kinds: Definition.kinds, logger: self.logger)
            if try await loader.storeIsEmpty() {
                let outcome = try await loader.load()
                self.logger.info("loaded seeds into an empty store", metadata: [LogKey.seeds: "\(seedsDirectory)", LogKey.outcome: "\(outcome)"])
            }
        }
        let database = self.database
        let server = try await ConcordServer.bind(
            configuration: self.configuration,
            router: Definition.router(store: store),
            // Ready means the store answers, not only that the port is open.
            readiness: { (try? await database.read { try await $0.query("SELECT 1 AS ok") }) != nil },
            eventLoopGroup: self.eventLoopGroup,
            logger: self.logger
        )
        try await server.run()
    }
}
