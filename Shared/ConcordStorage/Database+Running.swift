/// Runs `work` while `database` runs (its pool is live), then stops the database (cancelling its run closes its connections). For one-shot
/// commands and tests; long-running processes put the database in their service group instead.
public func withDatabaseRunning<Result: Sendable>(
    _ database: any Database,
    _ work: () async throws -> Result
) async throws -> Result {
    try await withThrowingTaskGroup(of: Void.self) { group in
        group.addTask { try await database.run() }
        do {
            let result = try await work()
            group.cancelAll()
            try? await group.waitForAll()
            return result
        } catch {
            group.cancelAll()
            try? await group.waitForAll()
            throw error
        }
    }
}
