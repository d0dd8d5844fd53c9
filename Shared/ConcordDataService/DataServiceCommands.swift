import ArgumentParser
import ConcordPool
import ConcordProtocol
import ConcordRecords
import ConcordServer
import ConcordServiceRuntime
import ConcordStorage
import Logging
import ServiceLifecycle

/// `SERVICE serve` (the default): the data service on its port, until SIGTERM.
public struct DataServe<Definition: DataServiceDefinition>: AsyncParsableCommand {
    public static var configuration: CommandConfiguration {
        CommandConfiguration(commandName: "serve", abstract: "Serve the \(Definition.name) verbs (the default).")
    }

    @OptionGroup var service: ServiceOptions
    @OptionGroup var storage: StorageOptions
    @OptionGroup var peers: PeerOptions

    public init() {}

    public func run() async throws {
        let logger = try self.service.makeLogger(label: "concord.\(Definition.certificateName)")
        let metrics = try await self.service.metricsEndpoint(logger: logger)
        let location = try self.storage.location(service: Definition.certificateName)
        let configuration = try self.service.serverConfiguration(
            serviceName: Definition.name,
            certificateName: Definition.certificateName,
            defaultPort: Definition.defaultPort,
            defaultPeerAuthentication: .required,
            peerPolicy: .dataService
        )
        let eventLoopGroup = try self.service.makeEventLoopGroup()
        let pools = try self.peers.pools(
            needed: Definition.peers, identity: configuration.tls, eventLoopGroup: eventLoopGroup, logger: logger
        )
        let database = try await openDatabase(location, eventLoopGroup: eventLoopGroup, logger: logger)
        logger.info("store opened", metadata: [LogKey.database: "\(location)"])
        let service = DataService<Definition>(
            database: database,
            configuration: configuration,
            seedsDirectory: self.storage.seedsDirectory,
            peers: pools,
            eventLoopGroup: eventLoopGroup,
            logger: logger
        )
        // Stopped in reverse: the service first, then the peer pools, then the database.
        let maintenance: [any Service] = pools.isEmpty ? [] : [PoolMaintenance(pools: Array(pools.values), logger: logger)]
        try await runUntilTerminated(metrics + [database] + maintenance + [service], logger: logger)
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
    @OptionGroup var peers: PeerOptions
    @OptionGroup var service: ServiceOptions

    public init() {}

    public func run() async throws {
        let logger = try self.service.makeLogger(label: "concord.\(Definition.certificateName)")
        guard let seeds = self.storage.seedsDirectory else {
            throw ValidationError("--seeds DIR is required, e.g. --seeds seeds/\(Definition.certificateName)")
        }
        let pools = try self.peers.pools(
            needed: Definition.peers, identity: self.service.tlsIdentity(name: Definition.certificateName),
            eventLoopGroup: try self.service.makeEventLoopGroup(), logger: logger
        )
        // Names (a compose service, say) become replicas when resolved.
        for pool in pools.values { await pool.refresh() }
        let database = try await openDatabase(try self.storage.location(service: Definition.certificateName), logger: logger)
        let outcome = try await withDatabaseRunning(database) {
            try await database.migrate(Definition.migrations)
            let store = RecordStore(database: database, remote: pools.isEmpty ? nil : PoolReferenceChecker(pools: pools))
            let loader = SeedLoader(store: store, directory: seeds, kinds: Definition.kinds, logger: logger)
            return try await loader.load()
        }
        for pool in pools.values { await pool.close() }
        print("seeds from \(seeds): \(outcome)")
    }
}

extension DataServiceDefinition {
    /// The command line of a data service's executable: `serve` (the default), `seed`, and the
    /// probes `health` and `ready` its image's HEALTHCHECK and Kubernetes run.
    public static var commandConfiguration: CommandConfiguration {
        CommandConfiguration(
            commandName: Self.certificateName,
            abstract: Self.abstract,
            subcommands: [DataServe<Self>.self, DataSeed<Self>.self, HealthProbe<Probed<Self>>.self, ReadyProbe<Probed<Self>>.self],
            defaultSubcommand: DataServe<Self>.self
        )
    }
}

/// A data service as its probes see it.
public enum Probed<Definition: DataServiceDefinition>: ProbedService {
    public static var certificateName: String { Definition.certificateName }
    public static var defaultPort: Int { Definition.defaultPort }
}
