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

    @Flag(help: "Relay Concord's lines as a gateway must (ids, token, actor, deadline, trace) instead of passing bytes: the floor of the protocol's own work.")
    var lines = false

    @Option(help: "With --lines: a token the relay accepts, for a reader named bench; repeatable.")
    var token: [String] = []

    @Option(help: "With --lines: a verb that only reads (a reader may call it); repeatable.")
    var read: [String] = []

    func validate() throws {
        if !self.lines, !self.token.isEmpty || !self.read.isEmpty {
            throw ValidationError("--token and --read are for --lines")
        }
    }

    func run() async throws {
        let lines = self.lines ? ReferenceProxy.Lines(tokens: self.token.map { ($0, "bench", "reader") }, reads: Set(self.read)) : nil
        try await ReferenceProxy.run(
            port: self.port, target: self.to, certificates: self.certs, applicationProtocols: self.alpn, threads: self.threads, lines: lines
        )
    }
}
