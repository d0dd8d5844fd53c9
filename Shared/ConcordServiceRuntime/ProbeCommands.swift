import ArgumentParser
import ConcordClient
import ConcordProtocol
import ConcordTLS

/// What a probe needs to know of the executable it belongs to.
public protocol ProbedService {
    /// The certificate the process serves with; the probe presents it too.
    static var certificateName: String { get }
    static var defaultPort: Int { get }
}

/// What a probe asks: the protocol's `health` (the process is alive: a liveness probe, and a
/// container's HEALTHCHECK) or `ready` (its store and peers are usable: a readiness probe).
public protocol ProbeVerb {
    static var verb: String { get }
    /// What a process that answers is: "alive", "ready".
    static var state: String { get }
}

public enum Liveness: ProbeVerb {
    public static let verb = "health"
    public static let state = "alive"
}

public enum Readiness: ProbeVerb {
    public static let verb = "ready"
    public static let state = "ready"
}

/// `SERVICE health` and `SERVICE ready`: ask the process listening on this host's `CONCORD_PORT`
/// the verb over mutual TLS, with the process's own certificate, and exit 0 or 1. What a
/// container's probes run, so an image needs no CLI and no shell.
public struct Probe<Target: ProbedService, Asked: ProbeVerb>: AsyncParsableCommand {
    public static var configuration: CommandConfiguration {
        CommandConfiguration(
            commandName: Asked.verb,
            abstract: "Exit 0 if the \(Target.certificateName) running on this host answers the \(Asked.verb) verb, else 1."
        )
    }

    @Option(help: "Seconds to wait for the answer.")
    var timeout: Int = 3
    @OptionGroup var service: ServiceOptions

    public init() {}

    public func run() async throws {
        let port = try self.service.port() ?? Target.defaultPort
        guard port != 0 else {
            throw ValidationError("a probe needs the port the service listens on; 0 asks for any free one")
        }
        // A service listening on every interface answers on loopback.
        let host = ["0.0.0.0", "::", ""].contains(self.service.host) ? "127.0.0.1" : self.service.host
        let client = try ConcordClient(configuration: .init(
            host: host, port: port, tls: self.service.tlsIdentity(name: Target.certificateName),
            connectTimeout: .seconds(self.timeout), defaultDeadline: .seconds(self.timeout)
        ))
        do {
            let answer = try await client.call(Asked.verb)
            await client.close()
            print(String(buffer: answer))
        } catch {
            await client.close()
            // ArgumentParser prints it on standard error and exits 1.
            throw ProbeFailure(description: "\(Target.certificateName) at \(host):\(port) is not \(Asked.state): \(error)")
        }
    }
}

public typealias HealthProbe<Target: ProbedService> = Probe<Target, Liveness>
public typealias ReadyProbe<Target: ProbedService> = Probe<Target, Readiness>

struct ProbeFailure: Error, CustomStringConvertible {
    var description: String
}
