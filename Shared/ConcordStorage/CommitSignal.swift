import NIOConcurrencyHelpers

/// Tells waiters that a write committed: a generation that moves on at each commit, and the
/// tasks waiting for it to move. What `SERVICE.changes {wait}` sleeps on instead of asking the
/// store again and again.
///
/// A waiter reads `generation` before it reads the store, and waits only while the generation
/// is still the one it read: a commit between its read and its wait moves the generation, and
/// the wait returns at once. No commit is missed.
public final class CommitSignal: Sendable {
    private let state = NIOLockedValueBox(State())

    private struct State {
        var generation: UInt64 = 0
        var waiters: [Int: CheckedContinuation<Void, Never>] = [:]
        var nextWaiter = 0
        /// Whether commits of other processes sharing the store move the generation too
        /// (PostgreSQL's LISTEN connection is up). When not, waits are cut into `recheck` slices.
        var hearsOtherProcesses = false
    }

    /// How long a waiter waits, at most, before asking the store again when commits of other
    /// processes may go unheard.
    public let recheck: Duration

    public init(recheck: Duration = .milliseconds(100)) {
        self.recheck = recheck
    }

    public var generation: UInt64 {
        self.state.withLockedValue { $0.generation }
    }

    /// How many wait now: what a test waits for before it writes, so the write is heard by a
    /// waiter rather than found by a read.
    public var waiting: Int {
        self.state.withLockedValue { $0.waiters.count }
    }

    /// A write committed (here, or in another process that shares the store): wakes every waiter.
    public func committed() {
        let waiters = self.state.withLockedValue { state in
            state.generation &+= 1
            defer { state.waiters = [:] }
            return state.waiters
        }
        for waiter in waiters.values { waiter.resume() }
    }

    /// Whether other processes' commits are heard now.
    public func hearing(_ hears: Bool) {
        self.state.withLockedValue { $0.hearsOtherProcesses = hears }
    }

    /// Returns when the generation is no longer `seen`, after `timeout`, or when the task is
    /// cancelled; and after `recheck` when other processes' commits may go unheard.
    public func wait(since seen: UInt64, timeout: Duration) async {
        let limit = self.state.withLockedValue { $0.hearsOtherProcesses } ? timeout : min(timeout, self.recheck)
        guard limit > .zero else { return }
        let id = self.state.withLockedValue { state in
            state.nextWaiter += 1
            return state.nextWaiter
        }
        // The commit that wakes a waiter resumes it directly: nothing else to wait for.
        let timer = Task {
            guard (try? await Task.sleep(for: limit)) != nil else { return }
            self.release(id)
        }
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let now = self.state.withLockedValue { state -> Bool in
                    // Cancelled before this ran: its handler found no waiter to resume.
                    if state.generation != seen || Task.isCancelled { return true }
                    state.waiters[id] = continuation
                    return false
                }
                if now { continuation.resume() }
            }
        } onCancel: {
            self.release(id)
        }
        timer.cancel()
    }

    /// Resumes waiter `id` if it still waits (its time ran out, or its task was cancelled).
    private func release(_ id: Int) {
        self.state.withLockedValue { $0.waiters.removeValue(forKey: id) }?.resume()
    }
}
