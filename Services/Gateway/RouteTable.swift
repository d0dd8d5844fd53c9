import ArgumentParser
import ConcordClient
import ConcordProtocol
import ConcordServer
import ConcordTLS
import Foundation
import Logging
import NIOConcurrencyHelpers
import NIOCore

/// Which endpoints serve which verb prefix, and the forwarding that uses them.
///
/// Bodies are forwarded as the bytes received: the gateway reads only the verb and metadata.
struct RouteTable: Sendable {
    /// The replicas of one service, taken in turn.
    struct Pool: Sendable {
        let clients: [ConcordClient]
        private let next = NIOLockedValueBox(0)

        init(clients: [ConcordClient]) {
            self.clients = clients
        }

        func pick() -> ConcordClient {
            let index = self.next.withLockedValue { next in
                defer { next = (next + 1) % self.clients.count }
                return next
            }
            return self.clients[index]
        }
    }

    let pools: [String: Pool]

    static func fromEnvironment() -> [String] {
        (ProcessInfo.processInfo.environment["CONCORD_ROUTES"] ?? "")
            .split(separator: ";")
            .map { $0.trimmingCharacters(in: .whitespaces) }
            .filter { !$0.isEmpty }
    }

    /// Parses `service=host:port,host:port` specs.
    init(specs: [String], identity: TLSIdentity, logger: Logger) throws {
        var pools: [String: Pool] = [:]
        for spec in specs {
            let parts = spec.split(separator: "=", maxSplits: 1).map(String.init)
            guard parts.count == 2, LineCodec.isValidVerb(ByteBuffer(string: parts[0]).readableBytesView[...]), !parts[0].contains(".") else {
                throw ValidationError("route '\(spec)' must look like participants=127.0.0.1:7101[,127.0.0.1:7102]")
            }
            let clients = try parts[1].split(separator: ",").map { endpoint -> ConcordClient in
                guard let colon = endpoint.lastIndex(of: ":"), let port = Int(endpoint[endpoint.index(after: colon)...]),
                    (1...65535).contains(port)
                else {
                    throw ValidationError("endpoint '\(endpoint)' in route '\(spec)' must be HOST:PORT")
                }
                let host = String(endpoint[..<colon])
                return try ConcordClient(
                    configuration: .init(host: host, port: port, tls: identity, serverName: parts[0]),
                    logger: logger
                )
            }
            guard !clients.isEmpty else { throw ValidationError("route '\(spec)' names no endpoint") }
            pools[parts[0]] = Pool(clients: clients)
        }
        self.pools = pools
    }

    func router() -> Router {
        var router = Router()
        let pools = self.pools
        router.setFallback { request, context in
            let service = String(request.service)
            guard let pool = pools[service] else {
                let known = pools.keys.sorted().joined(separator: ", ")
                throw ConcordError(
                    .notFound,
                    "no service behind this gateway serves '\(service)' verbs" + (known.isEmpty ? "" : " (routes: \(known))"),
                    field: "verb"
                )
            }
            var forwarded = request
            let remaining = context.deadline - .now()
            guard remaining > .zero else {
                throw ConcordError(.deadlineExceeded, "deadline passed before the request could be forwarded")
            }
            forwarded.metadata.deadline = .nanoseconds(remaining.nanoseconds)
            let response = try await pool.pick().send(forwarded)
            switch response.outcome {
            case .ok(let body): return body
            case .error(let error): throw error
            }
        }
        return router
    }
}
