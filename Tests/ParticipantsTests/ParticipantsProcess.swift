import ConcordTestSupport

/// The real `participants` executable on a free loopback port.
enum ParticipantsProcess {
    static func start(database: String, seeds: String? = nil, host: String = "127.0.0.1", port: Int? = nil) async throws -> ServiceProcess {
        try await ServiceProcess.start(
            "participants",
            arguments: ["serve", "--database", database, "--log-level", "info"] + (seeds.map { ["--seeds", $0] } ?? []),
            host: host,
            port: port
        )
    }
}
