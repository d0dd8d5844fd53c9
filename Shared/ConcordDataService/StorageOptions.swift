import ArgumentParser
import ConcordStorage
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Where a data service's records live and where its seeds are; shared by `serve` and `seed`.
public struct StorageOptions: ParsableArguments, Sendable {
    @Option(help: "sqlite:PATH or postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE[?schema=NAME] (env CONCORD_DATABASE); default sqlite:.concord/data/SERVICE.sqlite.")
    public var database: String?

    @Option(help: "Directory of seed files (seeds/SERVICE); loaded when the store is empty (env CONCORD_SEEDS).")
    public var seeds: String?

    public init() {}

    public var seedsDirectory: String? { self.seeds ?? ProcessInfo.processInfo.environment["CONCORD_SEEDS"] }

    public func location(service: String) throws -> DatabaseLocation {
        let text = self.database ?? ProcessInfo.processInfo.environment["CONCORD_DATABASE"] ?? "sqlite:.concord/data/\(service).sqlite"
        do {
            return try DatabaseLocation(parsing: text)
        } catch {
            throw ValidationError(error.message)
        }
    }
}
