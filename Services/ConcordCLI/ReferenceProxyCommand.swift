import ArgumentParser
import ConcordLoad

/// `concord reference-proxy`: SwiftNIO and swift-nio-ssl forwarding TLS to TLS with nothing of
/// Concord's, for `scripts/bench-reference.sh` to measure beside nginx and the gateway.
struct ReferenceProxyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "reference-proxy",
        abstract: "A bare SwiftNIO TLS proxy (no framing, no routing, no tokens): the floor the gateway is measured against.",
        shouldDisplay: false
    )

    @Option(help: "Port to listen on, at 127.0.0.1.")
    var port: Int

    @Option(help: "Port of the TLS server to forward to, at 127.0.0.1.")
    var to: Int

    @Option(help: "Directory with gateway.pem, gateway-key.pem (answered with) and ca.pem (the target is checked against it, as localhost).")
    var certs: String

    @Option(help: "ALPN protocol offered and accepted on both sides, repeatable (concord/1 in front of a Concord service).")
    var alpn: [String] = []

    @Option(help: "Event-loop threads.")
    var threads: Int = 1

    func run() async throws {
        try await ReferenceProxy.run(port: self.port, target: self.to, certificates: self.certs, applicationProtocols: self.alpn, threads: self.threads)
    }
}
