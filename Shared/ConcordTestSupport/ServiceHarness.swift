import ConcordClient
import ConcordDataService
import ConcordPool
import ConcordProtocol
import ConcordRecords
import ConcordServer
import ConcordStorage
import Foundation
import Logging
import NIOCore
import NIOPosix
import Synchronization

/// A data service as a test runs it: its store (seeded or not), a real server with real TLS,
/// and, for a service that names another's records, real replicas of that peer over a seeded
/// store, reached through a replica pool with the service's own certificate.
public struct ServiceHarness: Sendable {
    /// A data service by its parts: what `DataServiceDefinition` gives, handed over by the test
    /// (the harness serves every service, so it names none of them).
    public struct Service: Sendable {
        public var name: String
        public var certificateName: String
        public var migrations: [Migration]
        public var kinds: [any StoredRecord.Type]
        public var seeds: String?
        public var router: @Sendable (RecordStore) -> Router

        public init(
            name: String, certificateName: String? = nil, migrations: [Migration], kinds: [any StoredRecord.Type], seeds: String?,
            router: @escaping @Sendable (RecordStore) -> Router
        ) {
            self.name = name
            self.certificateName = certificateName ?? name
            self.migrations = migrations
            self.kinds = kinds
            self.seeds = seeds
            self.router = router
        }
    }

    /// A replica of the peer: a real server with the data-service peer policy.
    public final class Replica: Sendable {
        private let running: RunningServer
        public var server: ConcordServer { self.running.server }

        init(_ peer: Service, store: RecordStore) async throws {
            self.running = try await RunningServer(
                ServerConfiguration(
                    tls: TestCertificates.identity(peer.certificateName), peerPolicy: .dataService, serviceName: peer.name,
                    drainTimeout: .milliseconds(200)
                ),
                router: peer.router(store)
            )
        }

        public var endpoint: Endpoint { self.running.endpoint }

        public func stop() async { await self.running.stop() }
    }

    public let client: ConcordClient
    public let store: RecordStore
    public let replicas: [Replica]
    public let pool: ServicePool
    /// The service's own server (the test may stop it).
    public let server: ConcordServer

    public static func with(
        _ engine: Engine, service: Service, peer: Service, replicas replicaCount: Int = 1, seeded: Bool = true,
        identity: String = "gateway", peerAsksBeforeDeleting: Bool = false, _ body: (ServiceHarness) async throws -> Void
    ) async throws {
        try await withTestDatabase(engine, migrations: peer.migrations, location: try freshLocation(engine, name: peer.certificateName)) { peerDatabase in
            // With `peerAsksBeforeDeleting`, the peer asks the service (once it is up) before a
            // delete of a record the service may name, as a deployment's participants does.
            let deferred = DeferredHolders()
            var peerStore = RecordStore.standalone(peerDatabase)
            if peerAsksBeforeDeleting {
                peerStore.holders = deferred
                peerStore.referenceFreshness = Self.fence
            }
            if let seeds = peer.seeds {
                _ = try await SeedLoader(store: peerStore, directory: seeds, kinds: peer.kinds, logger: quietLogger).load()
            }
            var replicas: [Replica] = []
            for _ in 0..<replicaCount { replicas.append(try await Replica(peer, store: peerStore)) }
            var settings = PoolSettings()
            settings.connectTimeout = .seconds(1)
            let pool = ServicePool(
                service: peer.name, endpoints: replicas.map(\.endpoint), settings: settings,
                identity: TestCertificates.identity(service.certificateName), resolver: SystemResolver(),
                eventLoopGroup: MultiThreadedEventLoopGroup.singleton, logger: quietLogger
            )
            do {
                try await withTestDatabase(engine, migrations: service.migrations) { database in
                    var store = RecordStore(database: database, remote: PoolReferenceChecker(pools: [peer.name: pool], deadline: .seconds(2)))
                    store.referenceFreshness = Self.fence
                    if seeded, let seeds = service.seeds {
                        _ = try await SeedLoader(store: store, directory: seeds, kinds: service.kinds, logger: quietLogger).load()
                    }
                    try await withTestServer(router: service.router(store), serviceName: service.certificateName) { server in
                        let client = try makeTestClient(port: server.localPort, identity: identity, serverName: service.certificateName)
                        let holderPool = ServicePool(
                            service: service.name, endpoints: [Endpoint(host: "127.0.0.1", port: server.localPort)], settings: settings,
                            identity: TestCertificates.identity(peer.certificateName), resolver: SystemResolver(),
                            eventLoopGroup: MultiThreadedEventLoopGroup.singleton, logger: quietLogger
                        )
                        deferred.set(PoolHoldersChecker(service: peer.name, services: [service.name], pools: [service.name: holderPool], deadline: .seconds(2)))
                        do {
                            try await body(ServiceHarness(client: client, store: store, replicas: replicas, pool: pool, server: server))
                        } catch {
                            await client.close()
                            await holderPool.close()
                            throw error
                        }
                        await client.close()
                        await holderPool.close()
                    }
                }
            } catch {
                for replica in replicas { await replica.stop() }
                await pool.close()
                throw error
            }
            for replica in replicas { await replica.stop() }
            await pool.close()
        }
    }

    /// The fence of references between the two services in a test: short, the same on both sides.
    public static let fence: Duration = .milliseconds(300)

    /// Calls `verb` with a JSON body and decodes the answer as a JSON object.
    public func call(_ verb: String, _ body: String, metadata: Metadata = Metadata()) async throws -> JSONObject {
        let answer = try await self.client.call(verb, body: ByteBuffer(string: body), metadata: metadata)
        return try JSONDecoder().decode(JSONObject.self, from: Data(answer.readableBytesView))
    }

    /// The error a call gets; nil when it succeeds.
    public func error(_ verb: String, _ body: String, metadata: Metadata = Metadata()) async -> ConcordError? {
        do {
            _ = try await self.client.call(verb, body: ByteBuffer(string: body), metadata: metadata)
            return nil
        } catch {
            return error
        }
    }
}

extension JSONValue {
    public var array: [JSONValue]? { if case .array(let array) = self { array } else { nil } }
}

/// The repository's root, from a file in Tests/TARGET/.
public func repositoryRoot(_ file: String = #filePath) -> URL {
    URL(fileURLWithPath: file).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
}

/// Holders set once the service that names the records is up (it starts after its peer).
final class DeferredHolders: RemoteHoldersChecker {
    private let checker = Mutex<(any RemoteHoldersChecker)?>(nil)

    func set(_ checker: any RemoteHoldersChecker) {
        self.checker.withLock { $0 = checker }
    }

    func holders(of kind: String, key: SQLValue) async throws(ConcordError) -> [RemoteHolding] {
        guard let checker = self.checker.withLock({ $0 }) else {
            throw ConcordError(.unavailable, "the service that may name this record is not up yet")
        }
        return try await checker.holders(of: kind, key: key)
    }
}
