/// Metadata keys for logs: one vocabulary across every Concord process and layer (client,
/// server, gateway, storage, records). Dynamic values go in metadata under these keys, never
/// into the message. No `"concord.…"` string is written anywhere else.
public enum LogKey {
    // A request and the connection it came on.
    public static let requestID = "concord.request_id"
    public static let verb = "concord.verb"
    public static let trace = "concord.trace"
    public static let peer = "concord.peer"
    /// The certificate identity of the peer (`spiffe://concord/...`).
    public static let identity = "concord.identity"
    public static let error = "concord.error"
    public static let code = "concord.code"
    public static let address = "concord.address"
    public static let service = "concord.service"
    public static let reason = "concord.reason"
    public static let connections = "concord.connections"

    // The gateway: tokens, roles, replicas.
    public static let needs = "concord.needs"
    public static let role = "concord.role"
    public static let tokenName = "concord.token_name"
    public static let tokenHash = "concord.token_hash"
    public static let tokens = "concord.tokens"
    public static let file = "concord.file"
    public static let replica = "concord.replica"
    public static let ejections = "concord.ejections"
    public static let verbs = "concord.verbs"

    // Storage and records.
    public static let database = "concord.database"
    public static let migration = "concord.migration"
    public static let seeds = "concord.seeds"
    public static let seedFile = "concord.seed_file"
    /// The index of a record in its seed file.
    public static let seedRecord = "concord.seed_record"
    public static let count = "concord.count"
    public static let outcome = "concord.outcome"
}
