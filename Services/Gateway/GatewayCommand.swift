import ArgumentParser
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import ConcordPool
import ConcordClient
import ConcordOptions
import ConcordProtocol
import ConcordServer
import ConcordServiceRuntime
import Logging

/// The front door: clients call every service through it. `serve` (the default), and the probes
/// `health` and `ready` its image's HEALTHCHECK and Kubernetes run.
@main
struct GatewayCommand: AsyncParsableCommand, ProbedService {
    static let configuration = CommandConfiguration(
        commandName: "gateway",
        abstract: "Concord's gateway: routes protocol requests by verb prefix to the services behind it.",
        subcommands: [GatewayServe.self, HealthProbe<GatewayCommand>.self, ReadyProbe<GatewayCommand>.self],
        defaultSubcommand: GatewayServe.self
    )
    static let certificateName = "gateway"
    static let defaultPort = 7400
}

struct GatewayServe: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Route protocol requests by verb prefix to the services behind it (the default)."
    )

    @OptionGroup var service: ServiceOptions

    @Option(
        name: .customLong("route"),
        help: "SERVICE=HOST:PORT[,HOST:PORT...], repeatable (env CONCORD_ROUTES, routes separated by ';')."
    )
    var routes: [String] = []

    @Option(help: "Requests pending per service beyond which callers get unavailable at once.")
    var maxPending: Int = 1024

    @Option(help: "Deadline in milliseconds for requests that bring none.")
    var defaultDeadline: Int = 10_000

    @Option(help: "Milliseconds between active health checks (the ready verb) of each replica.")
    var healthInterval: Int = 2_000

    @Option(help: "Milliseconds between re-resolutions of service names.")
    var resolveInterval: Int = 5_000

    @Option(help: "Token file: lines 'ROLE NAME SHA256-HEX', re-read when it changes (env CONCORD_TOKENS); `concord tokens add` writes it.")
    var tokens: String?

    @Option(help: "Milliseconds a watcher may leave sent events unread before its watch ends with resync.")
    var watchPatience: Int = 5_000

    @Flag(help: "Accept calls without tokens (a trusted development setup only).")
    var noAuth = false

    func validate() throws {
        try OptionRules.positive([
            "--max-pending": self.maxPending, "--default-deadline": self.defaultDeadline, "--health-interval": self.healthInterval,
            "--resolve-interval": self.resolveInterval, "--watch-patience": self.watchPatience,
        ])
    }

    func run() async throws {
        let logger = try self.service.makeLogger(label: "concord.gateway")
        let metrics = try await self.service.metricsEndpoint(logger: logger)
        let specs = self.routes.isEmpty ? RouteTable.fromEnvironment() : self.routes
        var settings = PoolSettings()
        settings.maxPending = self.maxPending
        settings.defaultDeadline = .milliseconds(self.defaultDeadline)
        settings.healthInterval = .milliseconds(self.healthInterval)
        settings.resolveInterval = .milliseconds(self.resolveInterval)
        let eventLoopGroup = try self.service.makeEventLoopGroup()
        let table = try RouteTable(
            specs: specs, settings: settings, identity: self.service.tlsIdentity(name: "gateway"),
            eventLoopGroup: eventLoopGroup, logger: logger
        )
        let authority: TokenAuthority?
        if let path = self.tokens ?? ProcessInfo.processInfo.environment["CONCORD_TOKENS"] {
            authority = try TokenAuthority(path: path, logger: logger)
        } else if self.noAuth {
            logger.warning("client authentication is off (--no-auth): any caller with a certificate from the CA may call anything")
            authority = nil
        } else {
            throw ValidationError("give --tokens FILE (write one with `concord tokens add`) or, for a trusted development setup, --no-auth")
        }
        // Clients authorise with tokens here, not with their certificates' identities.
        let configuration = try self.service.serverConfiguration(
            serviceName: "gateway",
            defaultPort: GatewayCommand.defaultPort,
            defaultPeerAuthentication: .optional,
            peerPolicy: .open
        )
        let server = try await ConcordServer.bind(
            configuration: configuration,
            router: table.router(authority: authority, watchPatience: .milliseconds(self.watchPatience)),
            eventLoopGroup: eventLoopGroup,
            logger: logger
        )
        // The server stops first (reverse order): it drains in-flight forwards before the pools close.
        let maintenance = PoolMaintenance(pools: Array(table.pools.values), logger: logger)
        try await runUntilTerminated(metrics + [maintenance, table.hub, server], logger: logger)
    }
}
