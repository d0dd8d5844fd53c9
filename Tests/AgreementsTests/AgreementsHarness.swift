import ConcordClient
import ConcordDataService
import ConcordPool
import ConcordProtocol
import ConcordRecords
import ConcordServer
import ConcordStorage
import ConcordTestSupport
import Foundation
import Logging
import NIOCore
import NIOPosix

@testable import Agreements
@testable import Participants

let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
let participantsSeeds = repositoryRoot.appendingPathComponent("seeds/participants").path
let agreementsSeeds = repositoryRoot.appendingPathComponent("seeds/agreements").path

/// A participants replica: a real server (TLS, its own certificate, the data-service peer
/// policy) over a seeded participants store, which several replicas may share.
final class ParticipantsReplica: Sendable {
    let server: ConcordServer
    private let task: Task<Void, any Error>

    init(store: RecordStore) async throws {
        var logger = Logger(label: "concord.test.participants")
        logger.logLevel = .critical
        self.server = try await ConcordServer.bind(
            configuration: ServerConfiguration(
                tls: TestCertificates.identity("participants"), peerPolicy: .dataService, serviceName: "participants",
                drainTimeout: .milliseconds(200)
            ),
            router: Participants.router(store: store),
            logger: logger
        )
        let server = self.server
        self.task = Task { try await server.run() }
    }

    var endpoint: Endpoint { Endpoint(host: "127.0.0.1", port: self.server.localPort) }

    func stop() async {
        self.server.beginShutdown()
        _ = try? await self.task.value
    }
}

/// Everything an agreements test needs: participants replicas over a seeded store, the
/// agreements store (seeded unless asked not to) checking references through a pool of those
/// replicas with the agreements certificate, and a client of an agreements server.
struct AgreementsHarness {
    let client: ConcordClient
    let store: RecordStore
    let replicas: [ParticipantsReplica]
    let pool: ServicePool

    /// The day tests count overdue on unless they say otherwise.
    static let today = "2026-06-30"

    static func with(
        _ engine: Engine, replicas replicaCount: Int = 1, seeded: Bool = true, identity: String = "gateway",
        _ body: (AgreementsHarness) async throws -> Void
    ) async throws {
        try await withTestDatabase(engine, migrations: Participants.migrations, location: try freshLocation(engine, name: "participants")) { participantsDatabase in
            let participantsStore = RecordStore(database: participantsDatabase)
            _ = try await SeedLoader(store: participantsStore, directory: participantsSeeds, kinds: Participants.kinds, logger: quietLogger).load()
            var replicas: [ParticipantsReplica] = []
            for _ in 0..<replicaCount { replicas.append(try await ParticipantsReplica(store: participantsStore)) }
            var settings = PoolSettings()
            settings.connectTimeout = .seconds(1)
            let pool = ServicePool(
                service: "participants", endpoints: replicas.map(\.endpoint), settings: settings,
                identity: TestCertificates.identity("agreements"), resolver: SystemResolver(),
                eventLoopGroup: MultiThreadedEventLoopGroup.singleton, logger: quietLogger
            )
            defer { Task { await pool.close() } }
            do {
                try await withTestDatabase(engine, migrations: Agreements.migrations) { database in
                    let store = RecordStore(database: database, remote: PoolReferenceChecker(pools: ["participants": pool], deadline: .seconds(2)))
                    if seeded {
                        _ = try await SeedLoader(store: store, directory: agreementsSeeds, kinds: Agreements.kinds, logger: quietLogger).load()
                    }
                    try await withTestServer(router: Agreements.router(store: store, today: { Self.today }), serviceName: "agreements") { server in
                        let client = try makeTestClient(port: server.localPort, identity: identity, serverName: "agreements")
                        do {
                            try await body(AgreementsHarness(client: client, store: store, replicas: replicas, pool: pool))
                        } catch {
                            await client.close()
                            throw error
                        }
                        await client.close()
                    }
                }
            } catch {
                for replica in replicas { await replica.stop() }
                throw error
            }
            for replica in replicas { await replica.stop() }
        }
    }

    /// Calls `verb` with a JSON body and decodes the answer as a JSON object.
    func call(_ verb: String, _ body: String, metadata: Metadata = Metadata()) async throws -> JSONObject {
        let answer = try await self.client.call(verb, body: ByteBuffer(string: body), metadata: metadata)
        return try JSONDecoder().decode(JSONObject.self, from: Data(answer.readableBytesView))
    }

    /// The error a call gets; nil when it succeeds.
    func error(_ verb: String, _ body: String, metadata: Metadata = Metadata()) async -> ConcordError? {
        do {
            _ = try await self.client.call(verb, body: ByteBuffer(string: body), metadata: metadata)
            return nil
        } catch {
            return error
        }
    }
}

extension JSONValue {
    var array: [JSONValue]? { if case .array(let array) = self { array } else { nil } }
    var integer: Int64? { if case .integer(let value) = self { value } else { nil } }
}
