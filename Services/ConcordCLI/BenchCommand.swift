import ArgumentParser
import ConcordLoad
import ConcordOptions
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

struct BenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Load one verb with N connections x pipeline depth; print requests/s and latency percentiles."
    )

    @OptionGroup var endpoint: EndpointOptions

    @Option(name: .shortAndLong, help: "Connections.")
    var connections: Int = 50

    @Option(name: [.customShort("P"), .long], help: "Requests outstanding per connection (pipeline depth).")
    var depth: Int = 1

    @Option(help: "Verb to call.")
    var verb: String = "ping"

    @Option(help: "JSON body of every request.")
    var body: String = "{}"

    @Option(help: "Measured seconds.")
    var seconds: Int = 5

    @Option(help: "Warm-up seconds before measuring.")
    var warmup: Int = 1

    @Option(help: "Event-loop threads for the load generator.")
    var threads: Int = 1

    func validate() throws {
        try OptionRules.positive(["--connections": self.connections, "--depth": self.depth, "--seconds": self.seconds, "--threads": self.threads])
    }

    func run() async throws {
        var configuration = LoadGenerator.Configuration(
            host: self.endpoint.resolvedHost, port: self.endpoint.resolvedPort, tls: self.endpoint.tls,
            verb: self.verb, body: self.body, connections: self.connections, depth: self.depth,
            duration: .seconds(self.seconds), warmup: .seconds(self.warmup), threads: self.threads
        )
        configuration.token = self.endpoint.resolvedToken
        let generator = LoadGenerator(configuration: configuration)
        let report = try await generator.run()
        print("concord bench \(self.verb) c=\(self.connections) P=\(self.depth): \(report.summary)")
        if report.requests == 0 { throw ExitCode(1) }
    }
}
