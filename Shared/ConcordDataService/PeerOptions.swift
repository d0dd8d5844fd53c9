import ArgumentParser
import ConcordPool
import ConcordServiceRuntime
import ConcordTLS
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Logging
import NIOCore

/// Where the services a data service calls are: `--peer participants=HOST:PORT[,HOST:PORT...]`
/// (a HOST that is a name stands for every address it resolves to, as the gateway's routes do).
public struct PeerOptions: ParsableArguments, Sendable {
    @Option(
        name: .customLong("peer"),
        help: "NAME=HOST:PORT[,HOST:PORT...] of a service this one calls, repeatable (env CONCORD_PEERS, separated by ';')."
    )
    public var peers: [String] = []

    public init() {}

    /// One pool per service given (`--peer`, else CONCORD_PEERS), calling with this service's
    /// identity `identity`; each service in `needed` must be among them. A service asked only
    /// before deletes (a holder) is not needed to start: its deletes are refused until it is given.
    func pools(
        needed: [String], identity: TLSIdentity, eventLoopGroup: any EventLoopGroup, logger: Logger
    ) throws -> [String: ServicePool] {
        let specs = self.peers.isEmpty
            ? (ProcessInfo.processInfo.environment["CONCORD_PEERS"] ?? "").split(separator: ";").map { String($0) }.filter { !$0.isEmpty }
            : self.peers
        var pools: [String: ServicePool] = [:]
        for spec in specs {
            let parts = spec.split(separator: "=", maxSplits: 1).map(String.init)
            guard parts.count == 2, !parts[0].isEmpty else {
                throw ValidationError("peer '\(spec)' must look like participants=127.0.0.1:7401[,127.0.0.2:7401]")
            }
            let endpoints: [Endpoint]
            do {
                endpoints = try parts[1].split(separator: ",").map { text throws(EndpointError) in try Endpoint(parsing: text, in: "peer \(spec)") }
            } catch {
                throw ValidationError(error.message)
            }
            pools[parts[0]] = ServicePool(
                service: parts[0], endpoints: endpoints, settings: PoolSettings(), identity: identity,
                resolver: SystemResolver(), eventLoopGroup: eventLoopGroup, logger: logger
            )
        }
        for name in needed where pools[name] == nil {
            throw ValidationError("this service checks records kept by \(name): give --peer \(name)=HOST:PORT (env CONCORD_PEERS)")
        }
        return pools
    }
}
