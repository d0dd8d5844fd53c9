@testable import ConcordClient
import Testing

@Suite("Client wire ids")
struct WireIDTests {
    /// Written as base 36 in lower case, as `String(_:radix:)` writes it, and read back.
    @Test func theIDsTheClientWritesReadBack() {
        for number: UInt64 in [1, 9, 10, 35, 36, 1_295, 1_296, 46_655, 1 << 40, 4_738_381_338_321_616_895, .max] {
            let text = ClientConnectionState<Void>.wireIDText(number)
            #expect(text == String(number, radix: 36))
            #expect(ClientConnectionState<Void>.wireID(text) == number || text.utf8.count > 12)
        }
    }

    @Test func anythingElseAnswersNoCall() {
        for text in ["", "0", "01", "+1", "-1", "A", "1A", "a b", "é", "1234567890abc", "\u{0}"] {
            #expect(ClientConnectionState<Void>.wireID(text) == nil, "\(text.debugDescription)")
        }
    }
}
