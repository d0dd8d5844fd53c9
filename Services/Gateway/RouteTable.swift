import ArgumentParser
import ConcordMetrics
import ConcordPool
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
    /// The followers of the services' change feeds that every `watch` shares.
    let hub: WatchHub
    /// Each token's rate and concurrency at this replica.
    let limiter = TokenLimiter()

    static func fromEnvironment() -> [String] {
        (ProcessInfo.processInfo.environment["CONCORD_ROUTES"] ?? "")
            .split(separator: ";")
            .map { $0.trimmingSpaces }
            .filter { !$0.isEmpty }
    }

    init(pools: [String: ServicePool]) {
        self.pools = pools
        self.hub = WatchHub(pools: pools)
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
            let endpoints: [Endpoint]
            do {
                endpoints = try parts[1].split(separator: ",").map { text throws(EndpointError) in try Endpoint(parsing: text, in: "route \(spec)") }
            } catch {
                throw ValidationError(error.message)
            }
            guard !endpoints.isEmpty else { throw ValidationError("route '\(spec)' names no endpoint") }
            pools[parts[0]] = ServicePool(
                service: parts[0], endpoints: endpoints, settings: settings, identity: identity,
                resolver: resolver, eventLoopGroup: eventLoopGroup, logger: logger
            )
        }
        self.pools = pools
        self.hub = WatchHub(pools: pools)
    }

    /// The gateway's router: its own verbs (`gateway.stats`, `gateway.metrics`), then every other
    /// verb forwarded by prefix. With `authority`, every verb but the protocol's built-ins needs
    /// a token whose role allows it.
    func router(authority: TokenAuthority?, watchPatience: Duration = .seconds(5)) -> Router {
        var router = Router()
        let pools = self.pools
        // A handful of services: comparing a verb's prefix with each name beats making a String
        // of it and hashing that, for every forwarded request.
        let byName = pools.map { (name: $0.key, pool: $0.value) }
        let limiter = self.limiter
        // The gateway's own verbs are reads for its admins.
        router.register("gateway.stats", kind: .read) { (_: Empty, context: RequestContext) in
            _ = try authority?.authorize(token: context.metadata.auth, verb: "gateway.stats", needs: .admin, for: context)
            return GatewayStats(pools: pools)
        }
        router.register("gateway.metrics", kind: .read) { (_: Empty, context: RequestContext) in
            _ = try authority?.authorize(token: context.metadata.auth, verb: "gateway.metrics", needs: .admin, for: context)
            // A view of the registry `--metrics` serves over HTTP, for a caller of the protocol.
            guard PrometheusExposition.isOn else {
                throw ConcordError(.unavailable, "this gateway records no metrics; start it with --metrics HOST:PORT (env CONCORD_METRICS)")
            }
            return PrometheusText(text: String(decoding: PrometheusExposition.text(), as: UTF8.self))
        }
        // The change feeds of every service, pushed as they come (docs/protocol.md, "Streams").
        let watches = Watches(pools: pools, hub: self.hub, authority: authority, patience: watchPatience)
        router.registerStream("watch", kind: .read) { request, context, writer in
            try await watches.watch(request, context: context, writer: writer)
        }
        // Combined verbs: reads for any reader; each part goes to its service as the token's holder.
        let briefs = Briefs(pools: pools)
        let combined: [(String, @Sendable (Briefs, Request, RequestContext, (name: String, role: String)?) async throws -> ByteBuffer)] = [
            ("brief.session", { try await $0.session($1, context: $2, actor: $3) }),
            ("brief.region", { try await $0.region($1, context: $2, actor: $3) }),
            ("brief.followup", { try await $0.followUp($1, context: $2, actor: $3) }),
            ("brief.digest", { try await $0.digest($1, context: $2, actor: $3) }),
        ]
        for (verb, handler) in combined {
            router.registerRaw(verb, kind: .read) { request, context in
                let grant = try authority?.authorize(token: request.metadata.auth, verb: Substring(verb), needs: .reader, for: context)
                if let grant { try limiter.admit(grant) }
                defer { if let grant { limiter.finish(grant) } }
                return try await handler(briefs, request, context, grant.map { ($0.metadataName, $0.role.description) })
            }
        }
        router.setFallback(answering: { request, context, answer in
            let service = request.service
            guard let pool = byName.first(where: { $0.name == service })?.pool else {
                do throws(ConcordError) {
                    // Who may not call anything learns nothing about what is routed.
                    _ = try authority?.authorize(token: request.metadata.auth, verb: Substring(request.verb), needs: .reader, for: context)
                    let known = pools.keys.sorted().joined(separator: ", ")
                    throw ConcordError(
                        .notFound,
                        "no service behind this gateway serves '\(service)' verbs" + (known.isEmpty ? "" : " (routes: \(known))"),
                        field: "verb"
                    )
                } catch {
                    return answer(.failure(error))
                }
            }
            if !pool.knowsVerbs {
                // No replica has said what its verbs are yet (the gateway has just started):
                // the pool asks one before roles and retries are decided, rather than treat
                // every verb as a write meanwhile.
                return pool.whenVerbsKnown {
                    // Forwarding lives on the request's event loop.
                    context.eventLoop.execute {
                        Self.authorizeAndForward(request, context: context, pool: pool, authority: authority, limiter: limiter, answer: answer)
                    }
                }
            }
            Self.authorizeAndForward(request, context: context, pool: pool, authority: authority, limiter: limiter, answer: answer)
        }, declares: { verb in
            byName.first { verb.hasPrefix($0.name + ".") }?.pool.declares(verb) ?? false
        })
        return router
    }
}

extension RouteTable {
    /// Checks the token against the role the verb's declared kind needs, then forwards with the
    /// holder's name and role as the actor.
    fileprivate static func authorizeAndForward(
        _ request: Request, context: RequestContext, pool: ServicePool, authority: TokenAuthority?, limiter: TokenLimiter, answer: Router.Answer
    ) {
        let kind = pool.kind(of: request.verb)
        guard let authority else {
            return pool.forward(request, kind: kind, actor: nil, deadline: context.deadline, eventLoop: context.eventLoop, answer: answer)
        }
        let grant: TokenAuthority.Grant
        do throws(ConcordError) {
            grant = try authority.authorize(token: request.metadata.auth, verb: Substring(request.verb), needs: Role.required(for: kind), for: context)
            try limiter.admit(grant)
        } catch {
            return answer(.failure(error))
        }
        let actor = (grant.metadataName, grant.role.description)
        // A token without limits has nothing to finish: its answer goes straight back.
        guard grant.isLimited else {
            return pool.forward(request, kind: kind, actor: actor, deadline: context.deadline, eventLoop: context.eventLoop, answer: answer)
        }
        pool.forward(
            request, kind: kind, actor: actor, deadline: context.deadline, eventLoop: context.eventLoop,
            answer: LimitedAnswer(answer: answer, limiter: limiter, grant: grant)
        )
    }
}

/// A limited token's answer: its request stops counting against the token's limits as the
/// answer goes back, whatever the answer is.
private struct LimitedAnswer: Answering {
    let answer: Router.Answer
    let limiter: TokenLimiter
    let grant: TokenAuthority.Grant

    func callAsFunction(_ result: Result<ByteBuffer, ConcordError>) {
        self.limiter.finish(self.grant)
        self.answer(result)
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
