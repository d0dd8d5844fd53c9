import ConcordTestSupport

@testable import Agreements
@testable import Participants

/// An agreements server over its (seeded) store, checking references in participants replicas.
enum AgreementsHarness {
    /// The day tests count overdue on unless they say otherwise.
    static let today = "2026-06-30"

    static let participants = ServiceHarness.Service(
        name: "participants", migrations: Participants.migrations, kinds: Participants.kinds,
        seeds: repositoryRoot().appendingPathComponent("seeds/participants").path, router: { Participants.router(store: $0) }
    )
    static let agreements = ServiceHarness.Service(
        name: "agreements", migrations: Agreements.migrations, kinds: Agreements.kinds,
        seeds: repositoryRoot().appendingPathComponent("seeds/agreements").path,
        router: { Agreements.router(store: $0, today: { Self.today }) }
    )

    static func with(_ engine: Engine, replicas: Int = 1, _ body: (ServiceHarness) async throws -> Void) async throws {
        try await ServiceHarness.with(engine, service: Self.agreements, peer: Self.participants, replicas: replicas, body)
    }
}
