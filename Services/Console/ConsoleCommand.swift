import ArgumentParser
import ConcordClient
import ConcordOptions
import ConcordTLS
import Crypto
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Hummingbird
import HummingbirdTLS
import Logging
import NIOSSL
import ServiceLifecycle

/// `console`: the secretariat's pages over HTTPS, for browsers, in Persian, Russian or English.
/// It signs people in from the users file and asks the gateway for every answer, with its own
/// certificate identity (spiffe://concord/console) and token.
@main
struct ConsoleCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "console",
        abstract: "Serve the console: the secretariat's pages over HTTPS, answered by the gateway.",
        subcommands: [Health.self, Ready.self]
    )

    @OptionGroup var listening: Listening
    var host: String { self.listening.host }
    var port: Int { self.listening.port }
    @Option(help: "Directory written by `concord certs init`: the CA, and the console's certificate and key (env CONCORD_CERTS).")
    var certs: String = ProcessInfo.processInfo.environment["CONCORD_CERTS"] ?? ".concord/certs"
    @Option(help: "Certificate for browsers, PEM (default: CERTS/console.pem, issued by the deployment's CA); give one for a public name.")
    var cert: String?
    @Option(help: "Its private key, PEM (default: CERTS/console-key.pem).")
    var key: String?
    @Option(help: "The gateway, HOST:PORT (env CONCORD_GATEWAY).")
    var gateway: String = ProcessInfo.processInfo.environment["CONCORD_GATEWAY"] ?? "127.0.0.1:7400"
    @Option(help: "File holding the console's gateway token (env CONCORD_CONSOLE_TOKEN_FILE).")
    var tokenFile: String = ProcessInfo.processInfo.environment["CONCORD_CONSOLE_TOKEN_FILE"] ?? ".concord/console-token"
    @Option(help: "The users file (env CONCORD_USERS; `concord users` writes it).")
    var users: String = ProcessInfo.processInfo.environment["CONCORD_USERS"] ?? ".concord/users"
    @Option(help: "File of the key sessions are signed with, made when missing (mode 0600); every replica needs the same (env CONCORD_CONSOLE_SECRET).")
    var secret: String = ProcessInfo.processInfo.environment["CONCORD_CONSOLE_SECRET"] ?? ".concord/console-secret"
    @Option(help: "Hours a session lasts.")
    var sessionHours: Int = 12
    @Option(help: "trace, debug, info, notice, warning, error or critical.")
    var logLevel: String = "info"

    func validate() throws {
        _ = try OptionRules.logLevel(self.logLevel)
        guard (1...720).contains(self.sessionHours) else {
            throw ValidationError("--session-hours must be from 1 to 720 (30 days); got \(self.sessionHours)")
        }
        _ = try self.gatewayAddress()
    }

    /// `--gateway` (or `CONCORD_GATEWAY`) as host and port.
    func gatewayAddress() throws -> (host: String, port: Int) {
        let parts = self.gateway.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 2, !parts[0].isEmpty, let port = Int(parts[1]), (1...65535).contains(port) else {
            throw ValidationError("--gateway (env CONCORD_GATEWAY) must be HOST:PORT with a port from 1 to 65535; got '\(self.gateway)'")
        }
        return (String(parts[0]), port)
    }

    func run() async throws {
        let logger = {
            var logger = Logger(label: "concord.console")
            logger.logLevel = Logger.Level(rawValue: self.logLevel) ?? .info
            return logger
        }()
        let (gatewayHost, gatewayPort) = try self.gatewayAddress()
        guard let text = try? String(contentsOfFile: self.tokenFile, encoding: .utf8) else {
            throw ValidationError("cannot read the console's token file \(self.tokenFile) (--token-file, env CONCORD_CONSOLE_TOKEN_FILE); `concord up` writes one")
        }
        let token = text.filter { !$0.isWhitespace }
        guard !token.isEmpty else { throw ValidationError("\(self.tokenFile) holds no token; write one with `concord tokens add --role admin --name console`") }
        let client = try ConcordClient(configuration: .init(
            host: gatewayHost, port: gatewayPort, tls: TLSIdentity.standard(directory: self.certs, name: "console")
        ))
        let gateway = Gateway(client: client, token: token)
        let console = Console(
            users: try Users(path: self.users), key: try Self.signingKey(self.secret), gateway: gateway,
            logger: logger, tail: ChangeTail(gateway: gateway, logger: logger), sessionLength: self.sessionHours * 3600
        )
        let router = Router(context: ConsoleContext.self)
        router.add(middleware: SecurityHeaders())
        console.register(on: router)
        let certificate = self.cert ?? "\(self.certs)/console.pem"
        let privateKey = self.key ?? "\(self.certs)/console-key.pem"
        // Read again when its files change (a rotation), or at SIGHUP.
        let browserCertificate = try BrowserCertificate(certificate: certificate, key: privateKey)
        let tls = browserCertificate.configuration()
        let app = Application(
            router: router,
            server: try .tls(.http1(), tlsConfiguration: tls),
            configuration: .init(address: .hostname(self.host, port: self.port), serverName: "concord-console"),
            onServerRunning: { channel in
                logger.info("listening", metadata: ["address": "https://\(self.host):\(channel.localAddress?.port ?? self.port)"])
            },
            logger: logger
        )
        // The event streams are ended first (services stop in reverse order): the server then
        // finds no connection held open by a browser and stops at once.
        let group = ServiceGroup(configuration: .init(
            services: [
                .init(service: app), .init(service: console.live), .init(service: console.tail),
                .init(service: ReloadOnHangup(browser: browserCertificate, logger: logger)),
            ],
            gracefulShutdownSignals: [.sigterm, .sigint], logger: logger
        ))
        try await group.run()
        await client.close()
    }

    /// The key sessions are signed with: read from `path`, or 32 random bytes written there.
    static func signingKey(_ path: String) throws -> SymmetricKey {
        if let data = FileManager.default.contents(atPath: path), data.count >= 32 {
            return SymmetricKey(data: data)
        }
        let key = SymmetricKey(size: .bits256)
        let bytes = key.withUnsafeBytes { Data($0) }
        try FileManager.default.createDirectory(at: URL(fileURLWithPath: path).deletingLastPathComponent(), withIntermediateDirectories: true)
        guard FileManager.default.createFile(atPath: path, contents: bytes, attributes: [.posixPermissions: 0o600]) else {
            throw ValidationError("cannot write \(path)")
        }
        return key
    }
}

/// Where the console listens: its server's options, and where `health` and `ready` ask.
struct Listening: ParsableArguments {
    @Option(help: "Address to listen on (env CONCORD_CONSOLE_HOST).")
    var host: String = ProcessInfo.processInfo.environment["CONCORD_CONSOLE_HOST"] ?? "127.0.0.1"
    @Option(name: .customLong("port"), help: "Port to listen on; 0 picks a free one (env CONCORD_CONSOLE_PORT; default 7443).")
    var portOption: Int?

    /// The port `--port` or `CONCORD_CONSOLE_PORT` gives (checked by `validate()`), else 7443.
    var port: Int { (try? Self.port(self.portOption, environment: ProcessInfo.processInfo.environment)) ?? Self.defaultPort }

    static let defaultPort = 7443

    func validate() throws {
        _ = try Self.port(self.portOption, environment: ProcessInfo.processInfo.environment)
    }

    /// A flag is held to the rule its variable is, and the message names which was wrong.
    static func port(_ option: Int?, environment: [String: String]) throws -> Int {
        try OptionRules.port(option, variable: "CONCORD_CONSOLE_PORT", environment: environment) ?? Self.defaultPort
    }
}
