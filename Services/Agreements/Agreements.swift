import ConcordDataService
import CoreMetrics
import ConcordFields
import ConcordProtocol
import ConcordRecords
import ConcordServer
import ConcordStorage
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// What was agreed and whether it is followed up: instruments and their status, follow-up
/// actions, obstacles, relations between instruments, indicators.
enum Agreements: DataServiceDefinition {
    static let name = "agreements"
    static let abstract = "Concord's agreements service: instruments, their status, follow-up actions, obstacles, relations, indicators."
    static let defaultPort = 7402
    static let peers = ["participants"]
    static let kinds: [any StoredRecord.Type] = [Instrument.self, Relation.self, Obstacle.self, Action.self, Indicator.self]

    static func router(store: RecordStore) -> Router {
        self.router(store: store, today: { Self.today() })
    }

    /// `today` gives the date overdue is counted on when a request names none (tests pin it).
    static func router(store: RecordStore, today: @escaping @Sendable () -> String) -> Router {
        var router = Router()
        for kind in Self.kinds {
            router.registerRecordVerbs(kind, service: Self.name, store: store)
        }
        router.registerAuditVerbs(service: Self.name, store: store, kinds: Self.kinds)
        router.registerReferenceVerbs(service: Self.name, store: store, kinds: Self.kinds)
        let followUp = FollowUp(store: store, today: today)
        router.registerRecordVerb("agreements.instruments.transition", kind: .write) { body, context in
            try await followUp.transition(body, context: context)
        }
        router.registerRecordVerb("agreements.actions.progress", kind: .write) { body, context in
            try await followUp.progress(body, context: context)
        }
        router.registerRecordVerb("agreements.actions.overdue", kind: .read) { body, _ in
            try await followUp.overdue(body)
        }
        router.registerRecordVerb("agreements.followup", kind: .read) { body, _ in
            try await followUp.followUp(body)
        }
        router.registerRecordVerb("agreements.followup.all", kind: .read) { body, _ in
            try await followUp.overdueByOwner(body)
        }
        let digesting = Digesting(store: store, today: today)
        router.registerRecordVerb("agreements.digest", kind: .read) { body, _ in
            try await digesting.digest(body)
        }
        return router
    }

    /// The actions a secretariat watches, as gauges: open (neither done nor cancelled) and, of
    /// those, overdue today, counted as `agreements.actions.overdue` counts them.
    static func refreshGauges(store: RecordStore) async throws {
        let open = try await store.count(Action.self, filters: [(Action.isOpen, .null)])
        let overdue = try await store.count(Action.self, filters: [(Action.overdueOn, .text(Self.today()))])
        Gauge(label: "concord_actions", dimensions: [("state", "open")]).record(open)
        Gauge(label: "concord_actions", dimensions: [("state", "overdue")]).record(overdue)
    }

    /// Today in UTC, as YYYY-MM-DD.
    static func today() -> String {
        String(Date().ISO8601Format().prefix(10))
    }

    static let migrations: [Migration] = [
        Migration(version: 1, name: "agreements", statements: [
            """
            CREATE TABLE instruments (id TEXT PRIMARY KEY, kind TEXT NOT NULL, status TEXT NOT NULL, session BIGINT,
                sectors TEXT NOT NULL, parties TEXT NOT NULL, \(RecordSchema.common))
            """,
            "CREATE INDEX instruments_by_session ON instruments (session, id)",
            """
            CREATE TABLE relations (id TEXT PRIMARY KEY, source_instrument TEXT NOT NULL REFERENCES instruments(id),
                target_instrument TEXT NOT NULL REFERENCES instruments(id), kind TEXT NOT NULL, \(RecordSchema.common))
            """,
            "CREATE INDEX relations_by_source ON relations (source_instrument, id)",
            "CREATE INDEX relations_by_target ON relations (target_instrument, id)",
            """
            CREATE TABLE obstacles (id TEXT PRIMARY KEY, category TEXT NOT NULL, status TEXT NOT NULL, session BIGINT,
                affected_instruments TEXT NOT NULL, affected_actions TEXT NOT NULL, \(RecordSchema.common))
            """,
            """
            CREATE TABLE actions (id TEXT PRIMARY KEY, instrument TEXT REFERENCES instruments(id), session BIGINT,
                owner TEXT NOT NULL, owner_label TEXT NOT NULL, status TEXT NOT NULL, parent TEXT REFERENCES actions(id),
                due_by TEXT, obstacles TEXT NOT NULL, \(RecordSchema.common))
            """,
            "CREATE INDEX actions_by_instrument ON actions (instrument, id)",
            "CREATE INDEX actions_by_session ON actions (session, id)",
            "CREATE INDEX actions_by_parent ON actions (parent, id)",
            "CREATE INDEX actions_by_owner ON actions (owner, id)",
            // Overdue, oldest first: only open actions with a due date are in it.
            "CREATE INDEX actions_open_by_due ON actions (due_by, id) WHERE due_by IS NOT NULL AND status NOT IN ('done', 'cancelled')",
            """
            CREATE TABLE indicators (id TEXT PRIMARY KEY, instrument TEXT REFERENCES instruments(id),
                action TEXT REFERENCES actions(id), \(RecordSchema.common))
            """,
        ] + RecordSchema.kitTables),
        Migration(version: 2, name: "references between services", statements: RecordSchema.referenceTables),
        Migration(version: 3, name: "change feed", statements: RecordSchema.changeFeed),
    ]
}
