import ConcordDataService
import ConcordFields
import ConcordProtocol
import ConcordRecords
import ConcordServer
import ConcordStorage
import ConcordWire

/// Who takes part: countries, regions, officials, sessions, attendance and region partnerships.
enum Participants: DataServiceDefinition {
    static let name = "participants"
    static let abstract = "Concord's participants service: countries, regions, officials, sessions, attendance, partnerships."
    static let defaultPort = 7401
    /// The services whose records name participants' (owners, parties, sessions, speakers).
    static let holders = ["agreements", "trade"]
    static let kinds: [any StoredRecord.Type] = [
        Country.self, Region.self, Official.self, CommitteeSession.self, Attendance.self, Partnership.self,
    ]

    static func router(store: RecordStore) -> Router {
        var router = Router()
        for kind in Self.kinds {
            router.registerRecordVerbs(kind, service: Self.name, store: store)
        }
        router.registerAuditVerbs(service: Self.name, store: store, kinds: Self.kinds)
        router.registerReferenceVerbs(service: Self.name, store: store, kinds: Self.kinds)
        router.registerRecordVerb("participants.sessions.attendees", kind: .read) { body, _ in
            try RecordBody.checkFields(body, allowed: ["number"])
            return try await Self.attendees(of: try RecordBody.key(CommitteeSession.self, in: body), in: store)
        }
        // What a brief needs of a session in one answer rather than two.
        router.registerRecordVerb("participants.sessions.overview", kind: .read) { body, _ in
            try RecordBody.checkFields(body, allowed: ["number"])
            let key = try RecordBody.key(CommitteeSession.self, in: body)
            async let attendees = Self.attendees(of: key, in: store)
            var session = try await store.get(CommitteeSession.self, key: key)
            let everyone = try await attendees
            // The co-chairs from the attendance just read, rather than reading it again.
            session.coChairs = CommitteeSession.coChairs(among: everyone.map(\.attendance))
            return SessionOverview(session: session, attendees: everyone)
        }
        return router
    }

    /// Everyone who attended a session, each with the official's record, by role then official.
    static func attendees(of session: SQLValue, in store: RecordStore) async throws -> [Attendee] {
        guard try await store.exists(CommitteeSession.self, key: session) else {
            throw ConcordError(.notFound, "no session \(RecordStore.show(session))", field: "number", rule: .noRecord)
        }
        let attendance = try await store.all(Attendance.self, where: ["session": session])
            .sorted(by: { ($0.role, $0.official) < ($1.role, $1.official) })
        // Every attendee's official in one read.
        let officials = try await store.get(Official.self, keys: attendance.map { .text($0.official) })
        return try attendance.map { record in
            guard let official = officials[.text(record.official)] else {
                throw ConcordError(.internal, "attendance \(record.id ?? "") names official \(record.official), which is not there")
            }
            return Attendee(attendance: record, official: official)
        }
    }

    /// Each kind's table, keyed and indexed for its filters and references; foreign keys back
    /// up the reference checks the store makes itself. The SQL is the common ground of SQLite
    /// and PostgreSQL.
    static let migrations: [Migration] = [
        Migration(version: 1, name: "participants", statements: [
            "CREATE TABLE countries (code TEXT PRIMARY KEY, \(RecordSchema.common))",
            """
            CREATE TABLE regions (code TEXT PRIMARY KEY, country TEXT NOT NULL REFERENCES countries(code),
                kind TEXT NOT NULL, sectors TEXT NOT NULL, \(RecordSchema.common))
            """,
            "CREATE INDEX regions_by_country ON regions (country, code)",
            """
            CREATE TABLE officials (id TEXT PRIMARY KEY, country TEXT NOT NULL REFERENCES countries(code),
                organisation TEXT NOT NULL, \(RecordSchema.common))
            """,
            "CREATE INDEX officials_by_country ON officials (country, id)",
            """
            CREATE TABLE sessions (number BIGINT PRIMARY KEY, host_country TEXT NOT NULL REFERENCES countries(code),
                year BIGINT NOT NULL, \(RecordSchema.common))
            """,
            """
            CREATE TABLE attendance (id TEXT PRIMARY KEY, session BIGINT NOT NULL REFERENCES sessions(number),
                official TEXT NOT NULL REFERENCES officials(id), role TEXT NOT NULL,
                region TEXT REFERENCES regions(code), \(RecordSchema.common), UNIQUE (session, official))
            """,
            "CREATE INDEX attendance_by_official ON attendance (official, id)",
            """
            CREATE TABLE partnerships (id TEXT PRIMARY KEY, region_a TEXT NOT NULL REFERENCES regions(code),
                region_b TEXT NOT NULL REFERENCES regions(code), \(RecordSchema.common))
            """,
            "CREATE INDEX partnerships_by_region_a ON partnerships (region_a, id)",
            "CREATE INDEX partnerships_by_region_b ON partnerships (region_b, id)",
            RecordSchema.idempotencyTable,
        ]),
        Migration(version: 2, name: "audit trail", statements: RecordSchema.auditTables),
        Migration(version: 3, name: "references between services", statements: RecordSchema.referenceTables),
        Migration(version: 4, name: "change feed", statements: RecordSchema.changeFeed),
    ]
}

/// An attendance record with the official it names.
/// `participants.sessions.overview`: a session (with its co-chairs) and everyone who attended.
typealias SessionOverview = ConcordWire.SessionOverview<CommitteeSession, Attendance, Official>
typealias Attendee = ConcordWire.Attendee<Attendance, Official>
