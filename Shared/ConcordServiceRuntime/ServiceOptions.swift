import ArgumentParser
import ConcordMetrics
import ConcordOptions
import ConcordProtocol
import ConcordServer
import ConcordTLS
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Logging
import NIOCore
import NIOPosix
import ServiceLifecycle

/// The options every Concord service executable shares. Each can also come from the environment
/// (`CONCORD_HOST`, `CONCORD_PORT`, `CONCORD_CERTS`, `CONCORD_CA`, `CONCORD_CERT`, `CONCORD_KEY`,
/// `CONCORD_PEER_AUTH`, `CONCORD_MAX_LINE`, `CONCORD_LOG_LEVEL`), so containers need no flags.
public struct ServiceOptions: ParsableArguments, Sendable {
    @Option(help: "Address to listen on (env CONCORD_HOST).")
    public var host: String = ProcessInfo.processInfo.environment["CONCORD_HOST"] ?? "127.0.0.1"

    @Option(help: "Port to listen on; 0 picks a free one (env CONCORD_PORT).")
    public var port: Int?

    @Option(help: "Directory written by `concord certs init` (env CONCORD_CERTS).")
    public var certs: String?

    @Option(help: "CA certificate, PEM (env CONCORD_CA); overrides --certs.")
    public var ca: String?

    @Option(help: "This service's certificate, PEM (env CONCORD_CERT); overrides --certs.")
    public var cert: String?

    @Option(help: "This service's private key, PEM (env CONCORD_KEY); overrides --certs.")
    public var key: String?

    @Option(help: "Client certificates: required or optional (env CONCORD_PEER_AUTH).")
    public var peerAuth: String?

    @Option(
        name: .customLong("peer-allow"),
        help: "Widen the peer policy: URI=builtins|read|all for one certificate identity, e.g. spiffe://concord/client/diagnostics=read; repeatable (env CONCORD_PEER_ALLOW, separated by ';')."
    )
    public var peerAllow: [String] = []

    @Option(help: "Longest accepted line in bytes (env CONCORD_MAX_LINE).")
    public var maxLine: Int?

    @Option(help: "Event-loop threads; default: one per core (env CONCORD_THREADS).")
    public var threads: Int?

    /// The event-loop threads `--threads` or `CONCORD_THREADS` asks for; nil when neither does.
    public func threads(environment: [String: String] = ProcessInfo.processInfo.environment) throws -> Int? {
        guard let text = self.threads.map(String.init) ?? environment["CONCORD_THREADS"] else { return nil }
        guard let threads = Int(text), (1...256).contains(threads) else {
            throw ValidationError("threads must be a whole number from 1 to 256, got '\(text)'")
        }
        return threads
    }

    /// The event loops this process serves on.
    public func makeEventLoopGroup() throws -> any EventLoopGroup {
        guard let threads = try self.threads() else { return MultiThreadedEventLoopGroup.singleton }
        return MultiThreadedEventLoopGroup(numberOfThreads: threads)
    }

    @Option(help: "Serve Prometheus metrics over plain HTTP at HOST:PORT/metrics; off unless given (env CONCORD_METRICS).")
    public var metrics: String?

    /// Starts recording metrics and binds their scrape endpoint, when `--metrics` or
    /// `CONCORD_METRICS` says where; call it before anything that records is made. The endpoint
    /// is a `Service` to run beside the process's others.
    public func metricsEndpoint(logger: Logger) async throws -> [any Service] {
        guard let text = self.metrics ?? ProcessInfo.processInfo.environment["CONCORD_METRICS"], !text.isEmpty else { return [] }
        let address: MetricsAddress
        do {
            address = try MetricsAddress(parsing: text)
        } catch {
            throw ValidationError(error.description)
        }
        return [try await MetricsEndpoint.bind(host: address.host, port: address.port, logger: logger)]
    }

    @Option(help: "trace, debug, info, notice, warning, error or critical (env CONCORD_LOG_LEVEL).")
    public var logLevel: String = ProcessInfo.processInfo.environment["CONCORD_LOG_LEVEL"] ?? "info"

    public init() {}

    /// The TLS files for `identity` (the certificate name in the certs directory).
    public func tlsIdentity(name: String, environment: [String: String] = ProcessInfo.processInfo.environment) -> TLSIdentity {
        let directory = self.certs ?? environment["CONCORD_CERTS"] ?? ".concord/certs"
        var identity = TLSIdentity.standard(directory: directory, name: name)
        if let ca = self.ca ?? environment["CONCORD_CA"] { identity.caPath = ca }
        if let cert = self.cert ?? environment["CONCORD_CERT"] { identity.certificatePath = cert }
        if let key = self.key ?? environment["CONCORD_KEY"] { identity.keyPath = key }
        return identity
    }

    /// The port `--port` or `CONCORD_PORT` gives, checked alike; nil when neither does.
    public func port(environment: [String: String] = ProcessInfo.processInfo.environment) throws -> Int? {
        try OptionRules.port(self.port, variable: "CONCORD_PORT", environment: environment)
    }

    /// - Parameter peerPolicy: what each certificate identity may call, before `--peer-allow`.
    public func serverConfiguration(
        serviceName: String, certificateName: String? = nil, defaultPort: Int, defaultPeerAuthentication: PeerAuthentication,
        peerPolicy: PeerPolicy, environment: [String: String] = ProcessInfo.processInfo.environment
    ) throws -> ServerConfiguration {
        let port = try self.port(environment: environment) ?? defaultPort
        let peerAuthText = self.peerAuth ?? environment["CONCORD_PEER_AUTH"]
        let peerAuthentication = try peerAuthText.map { text in
            guard let value = PeerAuthentication(rawValue: text) else {
                throw ValidationError("peer auth must be 'required' or 'optional', got '\(text)'")
            }
            return value
        } ?? defaultPeerAuthentication
        var limits = ProtocolLimits()
        if let text = self.maxLine.map(String.init) ?? environment["CONCORD_MAX_LINE"] {
            guard let value = Int(text), value >= 256 else { throw ValidationError("max line must be at least 256 bytes, got '\(text)'") }
            limits.maxLineLength = value
        }
        var policy = peerPolicy
        let grants = self.peerAllow.isEmpty
            ? (environment["CONCORD_PEER_ALLOW"] ?? "").split(separator: ";").map { String($0) }.filter { !$0.isEmpty }
            : self.peerAllow
        do {
            policy.grants.merge(try PeerPolicy.grants(parsing: grants)) { _, new in new }
        } catch {
            throw ValidationError(error.message)
        }
        return ServerConfiguration(
            host: self.host,
            port: port,
            tls: self.tlsIdentity(name: certificateName ?? serviceName, environment: environment),
            peerAuthentication: peerAuthentication,
            peerPolicy: policy,
            limits: limits,
            serviceName: serviceName
        )
    }

    public func makeLogger(label: String) throws -> Logger {
        var logger = Logger(label: label)
        logger.logLevel = try OptionRules.logLevel(self.logLevel)
        return logger
    }
}
