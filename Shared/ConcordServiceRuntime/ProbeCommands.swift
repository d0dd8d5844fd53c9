import ArgumentParser
import ConcordClient
import ConcordProtocol
import ConcordTLS
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// What a probe needs to know of the executable it belongs to.
public protocol ProbedService {
    /// The certificate the process serves with; the probe presents it too.
    static var certificateName: String { get }
    static var defaultPort: Int { get }
}

/// `SERVICE health`: asks the process listening on this host's `CONCORD_PORT` the protocol's
/// `health` verb (it is alive) over mutual TLS, with the process's own certificate, and exits 0
/// or 1. What a container's HEALTHCHECK and a liveness probe run, so an image needs no CLI and
/// no shell.
public struct HealthProbe<Target: ProbedService>: AsyncParsableCommand {
    public static var configuration: CommandConfiguration {
        CommandConfiguration(
            commandName: "health",
            abstract: "Exit 0 if the \(Target.certificateName) running on this host answers the health verb, else 1."
        )
    }

    @Option(help: "Seconds to wait for the answer.")
    var timeout: Int = 3
    @OptionGroup var service: ServiceOptions

    public init() {}

    public func run() async throws {
        try await probe(Target.self, verb: "health", service: self.service, timeout: self.timeout)
    }
}

/// `SERVICE ready`: the same for the `ready` verb (its store and peers are usable): a readiness probe.
public struct ReadyProbe<Target: ProbedService>: AsyncParsableCommand {
    public static var configuration: CommandConfiguration {
        CommandConfiguration(
            commandName: "ready",
            abstract: "Exit 0 if the \(Target.certificateName) running on this host answers the ready verb, else 1."
        )
    }

    @Option(help: "Seconds to wait for the answer.")
    var timeout: Int = 3
    @OptionGroup var service: ServiceOptions

    public init() {}

    public func run() async throws {
        try await probe(Target.self, verb: "ready", service: self.service, timeout: self.timeout)
    }
}

private func probe<Target: ProbedService>(_: Target.Type, verb: String, service: ServiceOptions, timeout: Int) async throws {
    let environment = ProcessInfo.processInfo.environment
    let port = try service.port ?? environment["CONCORD_PORT"].map { text in
        guard let port = Int(text), (1...65535).contains(port) else {
            throw ValidationError("CONCORD_PORT must be a port number, got '\(text)'")
        }
        return port
    } ?? Target.defaultPort
    // A service listening on every interface answers on loopback.
    let host = ["0.0.0.0", "::", ""].contains(service.host) ? "127.0.0.1" : service.host
    let client = try ConcordClient(configuration: .init(
        host: host, port: port, tls: try service.tlsIdentity(name: Target.certificateName),
        connectTimeout: .seconds(timeout), defaultDeadline: .seconds(timeout)
    ))
    do {
        let answer = try await client.call(verb)
        await client.close()
        print(String(buffer: answer))
    } catch {
        await client.close()
        // ArgumentParser prints it on standard error and exits 1.
        throw ProbeFailure(description: "\(Target.certificateName) at \(host):\(port) is not \(verb == "health" ? "alive" : "ready"): \(error)")
    }
}

struct ProbeFailure: Error, CustomStringConvertible {
    var description: String
}
