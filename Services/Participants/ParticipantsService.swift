import ConcordServer
import ConcordStorage
import Logging
import NIOCore
import ServiceLifecycle

/// The participants process once its database is up: migrate, seed an empty store, then serve
/// until graceful shutdown. Runs after the database in the service group, so it stops first.
struct ParticipantsService: Service {
    let database: any Database
    let configuration: ServerConfiguration
    let seedsDirectory: String?
    let eventLoopGroup: any EventLoopGroup
    let logger: Logger

    func run() async throws {
        try await self.database.migrate(ParticipantsSchema.migrations)
        let store = RecordStore(database: self.database)
        if let seedsDirectory {
            let loader = SeedLoader(store: store, directory: seedsDirectory, logger: self.logger)
            if try await loader.storeIsEmpty() {
                let outcome = try await loader.load()
                self.logger.info("loaded seeds into an empty store", metadata: ["concord.seeds": "\(seedsDirectory)", "concord.outcome": "\(outcome)"])
            }
        }
        let server = try await ConcordServer.bind(
            configuration: self.configuration,
            router: ParticipantsAPI(store: store).router(),
            // Ready means the store answers, not only that the port is open.
            readiness: { [database] in (try? await database.read { try await $0.query("SELECT 1 AS ok") }) != nil },
            eventLoopGroup: self.eventLoopGroup,
            logger: self.logger
        )
        try await server.run()
    }
}
