import ArgumentParser
import ConcordProtocol
import ConcordServer
import ConcordServiceRuntime
import ConcordTLS
import Testing

/// What a service executable makes of its flags and its environment, with the environment
/// passed in: the process's own is never read or changed here.
@Suite("Service options")
struct ServiceOptionsTests {
    func configuration(_ arguments: [String], environment: [String: String] = [:]) throws -> ServerConfiguration {
        try ServiceOptions.parse(arguments).serverConfiguration(
            serviceName: "participants", defaultPort: 7401, defaultPeerAuthentication: .required,
            peerPolicy: .dataService, environment: environment
        )
    }

    /// The message a refused setting gives, as the executable would print it.
    func refusal(_ arguments: [String], environment: [String: String] = [:]) -> String? {
        do {
            _ = try self.configuration(arguments, environment: environment)
            return nil
        } catch let error as ValidationError {
            return error.message
        } catch {
            return "\(error)"
        }
    }

    @Test func withNothingGivenAServiceTakesItsDefaults() throws {
        let configuration = try self.configuration(["--host", "127.0.0.1"])
        #expect(configuration.port == 7401)
        #expect(configuration.peerAuthentication == .required)
        #expect(configuration.peerPolicy == .dataService)
        #expect(configuration.limits.maxLineLength == ProtocolLimits().maxLineLength)
        #expect(configuration.tls == TLSIdentity.standard(directory: ".concord/certs", name: "participants"))
    }

    @Test func theEnvironmentSetsWhatNoFlagDoes() throws {
        let configuration = try self.configuration([], environment: [
            "CONCORD_PORT": "7500", "CONCORD_PEER_AUTH": "optional", "CONCORD_MAX_LINE": "4096",
            "CONCORD_CERTS": "/etc/concord", "CONCORD_KEY": "/run/secrets/key.pem",
            "CONCORD_PEER_ALLOW": "spiffe://concord/client/diagnostics=read;;spiffe://concord/client/ops=all",
        ])
        #expect(configuration.port == 7500)
        #expect(configuration.peerAuthentication == .optional)
        #expect(configuration.limits.maxLineLength == 4096)
        #expect(configuration.tls.caPath == "/etc/concord/ca.pem")
        #expect(configuration.tls.certificatePath == "/etc/concord/participants.pem")
        #expect(configuration.tls.keyPath == "/run/secrets/key.pem")
        #expect(configuration.peerPolicy.grants == [
            "spiffe://concord/client/diagnostics": .read, "spiffe://concord/client/ops": .all,
        ])
    }

    @Test func aFlagWinsOverTheEnvironment() throws {
        let configuration = try self.configuration(
            ["--port", "0", "--peer-auth", "required", "--max-line", "1024", "--certs", "/tmp/c", "--peer-allow", "spiffe://concord/client/a=builtins"],
            environment: [
                "CONCORD_PORT": "7500", "CONCORD_PEER_AUTH": "optional", "CONCORD_MAX_LINE": "4096", "CONCORD_CERTS": "/etc/concord",
                "CONCORD_PEER_ALLOW": "spiffe://concord/client/b=all",
            ]
        )
        #expect(configuration.port == 0)
        #expect(configuration.peerAuthentication == .required)
        #expect(configuration.limits.maxLineLength == 1024)
        #expect(configuration.tls.caPath == "/tmp/c/ca.pem")
        #expect(configuration.peerPolicy.grants == ["spiffe://concord/client/a": .builtins])
    }

    /// A flag is held to the same rule as the variable it stands for, and the message names
    /// which of the two was wrong.
    @Test func aBadValueIsRefusedByNameFromAFlagAsFromTheEnvironment() {
        #expect(self.refusal(["--port", "70000"]) == "--port must be a port number from 0 to 65535, got '70000'")
        #expect(self.refusal([], environment: ["CONCORD_PORT": "http"]) == "CONCORD_PORT must be a port number from 0 to 65535, got 'http'")
        #expect(self.refusal(["--max-line", "10"]) == "max line must be at least 256 bytes, got '10'")
        #expect(self.refusal([], environment: ["CONCORD_MAX_LINE": "lots"]) == "max line must be at least 256 bytes, got 'lots'")
        #expect(self.refusal(["--peer-auth", "sometimes"]) == "peer auth must be 'required' or 'optional', got 'sometimes'")
        #expect(self.refusal(["--peer-allow", "diagnostics=read"])?.hasPrefix("peer grant 'diagnostics=read' must look like") == true)
    }

    @Test func threadsComeFromTheFlagOrTheEnvironmentAndAreChecked() throws {
        #expect(try ServiceOptions.parse([]).threads(environment: [:]) == nil)
        #expect(try ServiceOptions.parse([]).threads(environment: ["CONCORD_THREADS": "3"]) == 3)
        #expect(try ServiceOptions.parse(["--threads", "2"]).threads(environment: ["CONCORD_THREADS": "3"]) == 2)
        let refused: [([String], [String: String])] = [(["--threads", "0"], [:]), ([], ["CONCORD_THREADS": "many"]), ([], ["CONCORD_THREADS": "300"])]
        for (arguments, environment) in refused {
            #expect(throws: ValidationError.self) { try ServiceOptions.parse(arguments).threads(environment: environment) }
        }
    }

    @Test func aCertificateNameOtherThanTheServiceNamePicksItsFiles() throws {
        let configuration = try ServiceOptions.parse(["--certs", "/c"]).serverConfiguration(
            serviceName: "trade", certificateName: "trade-metrics", defaultPort: 7403, defaultPeerAuthentication: .required,
            peerPolicy: .open, environment: [:]
        )
        #expect(configuration.tls.certificatePath == "/c/trade-metrics.pem")
        #expect(configuration.tls.keyPath == "/c/trade-metrics-key.pem")
        #expect(configuration.serviceName == "trade")
    }

    @Test func anUnknownLogLevelIsRefusedByName() throws {
        #expect(try ServiceOptions.parse(["--log-level", "debug"]).makeLogger(label: "test").logLevel == .debug)
        #expect(throws: ValidationError.self) { try ServiceOptions.parse(["--log-level", "loud"]).makeLogger(label: "test") }
    }
}
