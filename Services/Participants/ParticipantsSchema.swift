import ConcordStorage

/// The participants service's tables. Each record is kept whole in `doc` (JSON) beside the
/// columns it is looked up, filtered and referenced by; foreign keys back up the reference checks
/// the store makes itself. The SQL is the common ground of SQLite and PostgreSQL.
enum ParticipantsSchema {
    static let common = """
        version BIGINT NOT NULL,
        doc TEXT NOT NULL,
        search TEXT NOT NULL,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL
        """

    static let migrations: [Migration] = [
        Migration(version: 1, name: "participants", statements: [
            "CREATE TABLE countries (code TEXT PRIMARY KEY, \(common))",
            """
            CREATE TABLE regions (code TEXT PRIMARY KEY, country TEXT NOT NULL REFERENCES countries(code),
                kind TEXT NOT NULL, sectors TEXT NOT NULL, \(common))
            """,
            "CREATE INDEX regions_by_country ON regions (country, code)",
            """
            CREATE TABLE officials (id TEXT PRIMARY KEY, country TEXT NOT NULL REFERENCES countries(code),
                organisation TEXT NOT NULL, \(common))
            """,
            "CREATE INDEX officials_by_country ON officials (country, id)",
            """
            CREATE TABLE sessions (number BIGINT PRIMARY KEY, host_country TEXT NOT NULL REFERENCES countries(code),
                year BIGINT NOT NULL, \(common))
            """,
            """
            CREATE TABLE attendance (id TEXT PRIMARY KEY, session BIGINT NOT NULL REFERENCES sessions(number),
                official TEXT NOT NULL REFERENCES officials(id), role TEXT NOT NULL,
                region TEXT REFERENCES regions(code), \(common), UNIQUE (session, official))
            """,
            "CREATE INDEX attendance_by_official ON attendance (official, id)",
            """
            CREATE TABLE partnerships (id TEXT PRIMARY KEY, region_a TEXT NOT NULL REFERENCES regions(code),
                region_b TEXT NOT NULL REFERENCES regions(code), \(common))
            """,
            "CREATE INDEX partnerships_by_region_a ON partnerships (region_a, id)",
            "CREATE INDEX partnerships_by_region_b ON partnerships (region_b, id)",
            // A create retried with the same idempotency key returns the first answer.
            """
            CREATE TABLE idempotency_keys (key TEXT PRIMARY KEY, verb TEXT NOT NULL, request TEXT NOT NULL,
                response TEXT NOT NULL, created_at TEXT NOT NULL)
            """,
        ]),
    ]
}
