import ConcordServer
import Logging
import ServiceLifecycle
import UnixSignals

/// Runs a process's services until SIGTERM or SIGINT, then shuts them down gracefully in reverse
/// order of `services`. SIGHUP reloads the process's TLS identities (certificate rotation).
public func runUntilTerminated(_ services: [any Service], logger: Logger) async throws {
    let group = ServiceGroup(
        configuration: .init(
            services: ([TLSReloadOnHangup(logger: logger)] + services).map { .init(service: $0) },
            gracefulShutdownSignals: [.sigterm, .sigint],
            logger: logger
        )
    )
    try await group.run()
}
