/// A first-come, first-served lock for async code: one holder at a time, waiters queue in order.
/// Used where one connection must be held across several awaits (an SQLite write transaction).
public actor AsyncMutex {
    private var isLocked = false
    private var waiters: [CheckedContinuation<Void, Never>] = []

    public init() {}

    public func withLock<Result: Sendable>(_ work: @Sendable () async throws -> Result) async throws -> Result {
        await self.lock()
        do {
            let result = try await work()
            self.unlock()
            return result
        } catch {
            self.unlock()
            throw error
        }
    }

    private func lock() async {
        guard self.isLocked else {
            self.isLocked = true
            return
        }
        await withCheckedContinuation { self.waiters.append($0) }
    }

    private func unlock() {
        if self.waiters.isEmpty {
            self.isLocked = false
        } else {
            // Ownership passes straight to the next waiter; the lock never looks free in between.
            self.waiters.removeFirst().resume()
        }
    }
}
