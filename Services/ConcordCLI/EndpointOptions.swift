import ArgumentParser
import ConcordTLS
import Foundation

/// Where to call and with which TLS identity; flags or `CONCORD_*` environment variables.
struct EndpointOptions: ParsableArguments {
    @Option(help: "Host to call (env CONCORD_HOST).")
    var host: String = ProcessInfo.processInfo.environment["CONCORD_HOST"] ?? "127.0.0.1"

    @Option(help: "Port to call; the gateway listens on 7400 by default (env CONCORD_PORT).")
    var port: Int = ProcessInfo.processInfo.environment["CONCORD_PORT"].flatMap(Int.init) ?? 7400

    @Option(help: "Directory written by `concord certs init` (env CONCORD_CERTS).")
    var certs: String = ProcessInfo.processInfo.environment["CONCORD_CERTS"] ?? ".concord/certs"

    @Option(help: "Certificate name in the certs directory to present.")
    var identity: String = "client"

    @Option(help: "Name the server's certificate must carry (default: its address).")
    var serverName: String?

    var tls: TLSIdentity { TLSIdentity.standard(directory: self.certs, name: self.identity) }
}
