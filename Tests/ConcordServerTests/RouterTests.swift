import ConcordProtocol
import NIOCore
import Testing

@testable import ConcordServer

@Suite("Router")
struct RouterTests {
    func isFallback(_ route: Router.Route?) -> Bool {
        if case .answering = route { return true }
        return false
    }

    @Test func registeredVerbsAreFoundAndEveryOtherVerbFallsBack() {
        var router = Router()
        let long = "test." + String(repeating: "x", count: 70)  // over 64 bytes
        router.registerRaw("test.echo", kind: .write) { _, _ in ByteBuffer() }
        router.registerRaw(long, kind: .write) { _, _ in ByteBuffer() }
        router.setFallback(answering: { _, _, answer in answer(.success(ByteBuffer())) })

        #expect(!self.isFallback(router.route(for: "test.echo")))
        #expect(!self.isFallback(router.route(for: long)))
        // The same lengths as registered verbs, and other lengths.
        #expect(self.isFallback(router.route(for: "test.echx")))
        #expect(self.isFallback(router.route(for: "test." + String(repeating: "y", count: 70))))
        #expect(self.isFallback(router.route(for: "participants.officials.get")))
        #expect(self.isFallback(router.route(for: "test." + String(repeating: "z", count: 123))))
    }

    @Test func withoutAFallbackAnUnknownVerbHasNoRoute() {
        var router = Router()
        router.registerRaw("test.echo", kind: .write) { _, _ in ByteBuffer() }
        #expect(router.route(for: "test.echx") == nil)
        #expect(router.route(for: "other") == nil)
    }
}
