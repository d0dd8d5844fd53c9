import ConcordRecords
import ConcordServer
import ConcordStorage

/// What makes one data service: its name and port, its schema, its kinds in seed order, and its
/// verbs. The runtime does the rest (options, storage, migrate, seed, serve, shutdown).
public protocol DataServiceDefinition: Sendable {
    /// The verb prefix and the name in `hello`: `participants`.
    static var name: String { get }
    /// The name of its certificate files and its identity (`service/NAME`), and of its default
    /// database file; by default `name`.
    static var certificateName: String { get }
    static var abstract: String { get }
    static var defaultPort: Int { get }
    static var migrations: [Migration] { get }
    /// Every kind, referenced before referring: the seed order, and the tables that must all
    /// be empty for seeds to load at start-up.
    static var kinds: [any StoredRecord.Type] { get }
    /// Services whose records this one's kinds name (their remote references): each is reached
    /// through a replica pool given by `--peer NAME=HOST:PORT`.
    static var peers: [String] { get }
    /// Services whose records may name this one's (the kinds marked `namedByOtherServices`):
    /// each is asked before such a record is deleted, through a pool given by `--peer`.
    static var holders: [String] { get }
    /// The verbs: usually `registerRecordVerbs` for each kind, `registerAuditVerbs`, and the
    /// service's own.
    static func router(store: RecordStore) -> Router
    /// Sets the service's domain gauges (open and overdue actions, say) from the store; called
    /// every `gaugeInterval` while the service runs and records metrics.
    static func refreshGauges(store: RecordStore) async throws
}

extension DataServiceDefinition {
    public static var peers: [String] { [] }
    public static var holders: [String] { [] }
    public static var certificateName: String { Self.name }
    public static func refreshGauges(store: RecordStore) async throws {}
}
