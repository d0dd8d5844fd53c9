import ArgumentParser
import ConcordClient
import ConcordProtocol
import ConcordTLS
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Where to call, with which TLS identity and token. Each comes from a flag, else the
/// environment (CONCORD_HOST, CONCORD_PORT, CONCORD_CERTS, CONCORD_TOKEN), else the client
/// config file (`--config`, CONCORD_CONFIG, or `.concord/client.json`, which `concord up`
/// writes), else the default.
struct EndpointOptions: ParsableArguments {
    @Option(help: "Host to call (env CONCORD_HOST; default 127.0.0.1).")
    var host: String?

    @Option(help: "Port to call; the gateway listens on 7400 by default (env CONCORD_PORT).")
    var port: Int?

    @Option(help: "Directory written by `concord certs init` (env CONCORD_CERTS; default .concord/certs).")
    var certs: String?

    @Option(help: "Certificate name in the certs directory to present.")
    var identity: String = "client"

    @Option(help: "Name the server's certificate must carry (default: its address).")
    var serverName: String?

    @Option(help: "Token for the gateway (env CONCORD_TOKEN).")
    var token: String?

    @Option(help: "Client config file (env CONCORD_CONFIG; default .concord/client.json when present).")
    var config: String?

    private var environment: [String: String] { ProcessInfo.processInfo.environment }

    private var file: ClientConfigFile? {
        let explicit = self.config ?? self.environment["CONCORD_CONFIG"]
        let path = explicit ?? ClientConfigFile.defaultPath
        guard explicit != nil || FileManager.default.fileExists(atPath: path) else { return nil }
        return try? ClientConfigFile.load(path)
    }

    /// A wildcard (a service's listen address, as containers set CONCORD_HOST) means this machine.
    var resolvedHost: String {
        let host = self.host ?? self.environment["CONCORD_HOST"] ?? self.file?.host ?? "127.0.0.1"
        switch host {
        case "0.0.0.0": return "127.0.0.1"
        case "::", "[::]": return "::1"
        default: return host
        }
    }
    var resolvedPort: Int { self.port ?? self.environment["CONCORD_PORT"].flatMap(Int.init) ?? self.file?.port ?? 7400 }
    var resolvedCerts: String { self.certs ?? self.environment["CONCORD_CERTS"] ?? self.file?.certs ?? ".concord/certs" }
    var resolvedToken: String? { self.token ?? self.environment["CONCORD_TOKEN"] ?? self.file?.token }

    var tls: TLSIdentity { TLSIdentity.standard(directory: self.resolvedCerts, name: self.identity) }

    func validate() throws {
        let explicit = self.config ?? self.environment["CONCORD_CONFIG"]
        if let explicit {
            _ = try ClientConfigFile.load(explicit)
        }
    }

    func makeClient(defaultDeadline: Duration = .seconds(30)) throws -> ConcordClient {
        try ConcordClient(
            configuration: .init(
                host: self.resolvedHost, port: self.resolvedPort, tls: self.tls, serverName: self.serverName,
                defaultDeadline: defaultDeadline
            )
        )
    }
}

/// `.concord/client.json`: where the gateway is, the certificates, and a token.
struct ClientConfigFile: Codable {
    var host: String?
    var port: Int?
    var certs: String?
    var token: String?

    static let defaultPath = ".concord/client.json"

    static func load(_ path: String) throws -> ClientConfigFile {
        do {
            return try JSONDecoder().decode(ClientConfigFile.self, from: Data(contentsOf: URL(fileURLWithPath: path)))
        } catch {
            throw ValidationError("cannot read client config \(path): \(error)")
        }
    }

    /// Written 0600: it holds a token.
    func write(_ path: String) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        let data = try encoder.encode(self)
        guard FileManager.default.createFile(atPath: path, contents: data, attributes: [.posixPermissions: 0o600]) else {
            throw ValidationError("cannot write the client config \(path)")
        }
    }
}
