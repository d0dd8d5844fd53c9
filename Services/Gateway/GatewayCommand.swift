import ArgumentParser
import ConcordClient
import ConcordProtocol
import ConcordServer
import ConcordServiceRuntime
import Logging

/// The front door: clients call every service through it.
@main
struct GatewayCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gateway",
        abstract: "Concord's gateway: routes protocol requests by verb prefix to the services behind it."
    )

    @OptionGroup var service: ServiceOptions

    @Option(
        name: .customLong("route"),
        help: "SERVICE=HOST:PORT[,HOST:PORT...], repeatable (env CONCORD_ROUTES, routes separated by ';')."
    )
    var routes: [String] = []

    func run() async throws {
        let logger = try self.service.makeLogger(label: "concord.gateway")
        let specs = self.routes.isEmpty ? RouteTable.fromEnvironment() : self.routes
        let table = try RouteTable(specs: specs, identity: try self.service.tlsIdentity(name: "gateway"), logger: logger)
        let configuration = try self.service.serverConfiguration(
            serviceName: "gateway",
            defaultPort: 7400,
            defaultPeerAuthentication: .optional
        )
        let server = try await ConcordServer.bind(
            configuration: configuration,
            router: table.router(),
            eventLoopGroup: try self.service.makeEventLoopGroup(),
            logger: logger
        )
        try await runUntilTerminated([server], logger: logger)
    }
}
