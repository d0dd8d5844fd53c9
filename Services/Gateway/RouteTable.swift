import ArgumentParser
import ConcordProtocol
import ConcordServer
import ConcordTLS
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Logging
import NIOCore
import NIOPosix

/// Which pool serves which verb prefix. The gateway reads only a request's verb and metadata;
/// bodies are forwarded as the bytes received.
struct RouteTable: Sendable {
    let pools: [String: ServicePool]

    static func fromEnvironment() -> [String] {
        (ProcessInfo.processInfo.environment["CONCORD_ROUTES"] ?? "")
            .split(separator: ";")
            .map { $0.trimmingSpaces }
            .filter { !$0.isEmpty }
    }

    init(pools: [String: ServicePool]) {
        self.pools = pools
    }

    /// Parses `service=HOST:PORT[,HOST:PORT...]` specs; a HOST that is a name is resolved, and
    /// every address it resolves to is a replica.
    init(
        specs: [String],
        settings: PoolSettings = PoolSettings(),
        identity: TLSIdentity,
        resolver: any NameResolver = SystemResolver(),
        eventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        logger: Logger
    ) throws {
        var pools: [String: ServicePool] = [:]
        for spec in specs {
            let parts = spec.split(separator: "=", maxSplits: 1).map(String.init)
            guard parts.count == 2, LineCodec.isValidVerb(ByteBuffer(string: parts[0]).readableBytesView[...]), !parts[0].contains(".") else {
                throw ValidationError("route '\(spec)' must look like participants=127.0.0.1:7401[,127.0.0.2:7401] or participants=participants:7401")
            }
            guard pools[parts[0]] == nil else { throw ValidationError("route for '\(parts[0])' is given twice") }
            let endpoints = try parts[1].split(separator: ",").map { try Endpoint(parsing: $0, in: spec) }
            guard !endpoints.isEmpty else { throw ValidationError("route '\(spec)' names no endpoint") }
            pools[parts[0]] = ServicePool(
                service: parts[0], endpoints: endpoints, settings: settings, identity: identity,
                resolver: resolver, eventLoopGroup: eventLoopGroup, logger: logger
            )
        }
        self.pools = pools
    }

    /// The gateway's router: its own verbs (`gateway.stats`, `gateway.metrics`), then every other
    /// verb forwarded by prefix. With `authority`, every verb but the protocol's built-ins needs
    /// a token whose role allows it.
    func router(authority: TokenAuthority?) -> Router {
        var router = Router()
        let pools = self.pools
        // A handful of services: comparing a verb's prefix with each name beats making a String
        // of it and hashing that, for every forwarded request.
        let byName = pools.map { (name: $0.key, pool: $0.value) }
        router.register("gateway.stats") { (_: Empty, context: RequestContext) in
            _ = try authority?.authorize(token: context.metadata.auth, verb: "gateway.stats", for: context)
            return GatewayStats(pools: pools)
        }
        router.register("gateway.metrics") { (_: Empty, context: RequestContext) in
            _ = try authority?.authorize(token: context.metadata.auth, verb: "gateway.metrics", for: context)
            return PrometheusText(text: GatewayStats(pools: pools).prometheus)
        }
        router.setFallback(answering: { request, context, answer in
            do throws(ConcordError) {
                if let authority {
                    _ = try authority.authorize(token: request.metadata.auth, verb: Substring(request.verb), for: context)
                }
                let service = request.service
                guard let pool = byName.first(where: { $0.name == service })?.pool else {
                    let known = pools.keys.sorted().joined(separator: ", ")
                    throw ConcordError(
                        .notFound,
                        "no service behind this gateway serves '\(service)' verbs" + (known.isEmpty ? "" : " (routes: \(known))"),
                        field: "verb"
                    )
                }
                pool.forward(request, deadline: context.deadline, eventLoop: context.eventLoop, answer: answer)
            } catch {
                answer(.failure(error))
            }
        })
        return router
    }
}

struct PrometheusText: Codable, Sendable {
    var text: String
}

extension Substring {
    /// Without leading and trailing whitespace.
    fileprivate var trimmingSpaces: String {
        var text = self
        while text.first?.isWhitespace == true { text.removeFirst() }
        while text.last?.isWhitespace == true { text.removeLast() }
        return String(text)
    }
}
