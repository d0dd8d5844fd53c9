import ConcordMetrics
import ConcordPool
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
    let peers: [String: ServicePool]
    let eventLoopGroup: any EventLoopGroup
    let logger: Logger

    public init(
        database: any Database, configuration: ServerConfiguration, seedsDirectory: String?, peers: [String: ServicePool] = [:],
        eventLoopGroup: any EventLoopGroup, logger: Logger
    ) {
        self.database = database
        self.configuration = configuration
        self.seedsDirectory = seedsDirectory
        self.peers = peers
        self.eventLoopGroup = eventLoopGroup
        self.logger = logger
    }

    public func run() async throws {
        try await self.database.migrate(Definition.migrations)
        let named = self.peers.filter { Definition.peers.contains($0.key) }
        var store = RecordStore(database: self.database, remote: named.isEmpty ? nil : PoolReferenceChecker(pools: named))
        if !Definition.holders.isEmpty {
            store.holders = PoolHoldersChecker(service: Definition.name, services: Definition.holders, pools: self.peers)
        }
        try await store.rebuildRemoteReferenceIndex(kinds: Definition.kinds)
        if let seedsDirectory {
            let loader = SeedLoader(store: store, directory: seedsDirectory, kinds: Definition.kinds, logger: self.logger)
            if try await loader.storeIsEmpty() {
                // Before waiting for the peers: a wrong path is said at once.
                try loader.checkDirectory()
                // Seeds name records of the peers, which are checked: wait for them to be up.
                try await self.waitForPeers(timeout: .seconds(60))
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
        guard PrometheusExposition.isOn else { return try await server.run() }
        let (counted, logger) = (store, self.logger)
        try await withThrowingTaskGroup { group in
            group.addTask { await Self.refreshGauges(store: counted, every: Self.gaugeInterval, logger: logger) }
            try await server.run()
            group.cancelAll()
        }
    }

    /// How often the domain gauges are counted again.
    static var gaugeInterval: Duration { .seconds(5) }

    /// Counts the domain gauges until cancelled; a failed count is logged and tried again.
    private static func refreshGauges(store: RecordStore, every interval: Duration, logger: Logger) async {
        while !Task.isCancelled {
            do {
                try await Definition.refreshGauges(store: store)
            } catch {
                logger.warning("could not count the gauges", metadata: [LogKey.error: "\(error)"])
            }
            try? await Task.sleep(for: interval)
        }
    }

    private func waitForPeers(timeout: Duration) async throws {
        let deadline = ContinuousClock.now + timeout
        for (name, pool) in self.peers.sorted(by: { $0.key < $1.key }) where Definition.peers.contains(name) {
            while (try? await pool.call("ready", body: ByteBuffer(string: "{}"), deadline: .seconds(1))) == nil {
                guard ContinuousClock.now < deadline else {
                    throw ConcordError(.unavailable, "\(name) was not ready within \(timeout), so the seeds (which name its records) cannot be checked")
                }
                self.logger.info("waiting for a peer before loading seeds", metadata: [LogKey.service: "\(name)"])
                try await Task.sleep(for: .milliseconds(500))
            }
        }
    }
}
