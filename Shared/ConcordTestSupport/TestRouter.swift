import ConcordProtocol
import ConcordServer

/// What `test.echo` and `test.slow` take and answer.
public struct Echo: Codable, Sendable, Equatable {
    public var text: String
    public var delayMs: Int?

    public init(text: String, delayMs: Int? = nil) {
        self.text = text
        self.delayMs = delayMs
    }
}

/// A router with the verbs the tests need: echo (with an optional delay), a slow echo and a verb
/// that hangs (both open `started` once running), and a verb that fails.
public func testRouter(started: Gate? = nil) -> Router {
    var router = Router()
    router.register("test.slow", kind: .write) { (input: Echo, _) in
        await started?.open()
        try await Task.sleep(for: .milliseconds(400))
        return input
    }
    router.register("test.echo", kind: .write) { (input: Echo, _) in
        if let delay = input.delayMs { try await Task.sleep(for: .milliseconds(delay)) }
        return input
    }
    router.register("test.hang", kind: .write) { (_: Empty, _) -> Empty in
        await started?.open()
        try await Task.sleep(for: .seconds(3600))
        return Empty()
    }
    router.register("test.fail", kind: .write) { (_: Empty, _) -> Empty in
        throw ConcordError(.conflict, "version 3 is stale; current is 4", field: "body.version")
    }
    return router
}

/// Lets a test wait until a handler has started.
public actor Gate {
    private var isOpen = false
    private var waiters: [CheckedContinuation<Void, Never>] = []
    public init() {}

    public func open() {
        self.isOpen = true
        for waiter in self.waiters { waiter.resume() }
        self.waiters.removeAll()
    }
    public func wait() async {
        if self.isOpen { return }
        await withCheckedContinuation { self.waiters.append($0) }
    }
}
