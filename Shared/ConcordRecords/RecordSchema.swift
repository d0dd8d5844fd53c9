/// The tables the record kit needs in every data service, and the columns every record table
/// has. A service's migrations create its kinds' tables with `RecordSchema.common` and include
/// `RecordSchema.kitTables` (or, for a store made before the audit trail, `auditTables`).
public enum RecordSchema {
    /// Columns of every record table besides its key and own columns.
    public static let common = """
        version BIGINT NOT NULL,
        doc TEXT NOT NULL,
        search TEXT NOT NULL,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL
        """

    /// A create retried with the same idempotency key returns the first answer.
    public static let idempotencyTable = """
        CREATE TABLE idempotency_keys (key TEXT PRIMARY KEY, verb TEXT NOT NULL, request TEXT NOT NULL,
            response TEXT NOT NULL, created_at TEXT NOT NULL)
        """

    /// Every committed write; ids sort by time (`at` then a random suffix), so pages follow time.
    public static let auditTables = [
        """
        CREATE TABLE audit (id TEXT PRIMARY KEY, at TEXT NOT NULL, verb TEXT NOT NULL, operation TEXT NOT NULL,
            kind TEXT NOT NULL, record_key TEXT NOT NULL, version_before BIGINT, version_after BIGINT,
            change TEXT NOT NULL, trace_id TEXT, actor TEXT NOT NULL, actor_role TEXT, via TEXT)
        """,
        "CREATE INDEX audit_by_record ON audit (kind, record_key, id)",
        "CREATE INDEX audit_by_actor ON audit (actor, id)",
    ]

    public static let kitTables = [Self.idempotencyTable] + Self.auditTables

    /// Who names another service's records, and which of this service's records are being
    /// deleted (docs/records.md, "Deletes and other services' references"): one row per record
    /// and remote record it names, written in the record's own transaction; and a mark on a record
    /// whose delete is asking the other services, so that no new reference to it is checked in
    /// meanwhile.
    public static let referenceTables = [
        """
        CREATE TABLE remote_references (holder_kind TEXT NOT NULL, holder_key TEXT NOT NULL, field TEXT NOT NULL,
            service TEXT NOT NULL, kind TEXT NOT NULL, ref_key TEXT NOT NULL,
            PRIMARY KEY (holder_kind, holder_key, field, service, kind, ref_key))
        """,
        "CREATE INDEX remote_references_by_target ON remote_references (service, kind, ref_key)",
        "CREATE TABLE retiring (kind TEXT NOT NULL, record_key TEXT NOT NULL, since_ms BIGINT NOT NULL, PRIMARY KEY (kind, record_key))",
    ]
}
