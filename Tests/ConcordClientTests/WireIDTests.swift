@testable import ConcordClient
import Testing

@Suite("Client wire ids")
struct WireIDTests {
    @Test func theIDsTheClientWritesReadBack() {
        for number: UInt64 in [1, 9, 10, 35, 36, 1_295, 46_655, 1 << 40, 4_738_381_338_321_616_895] {
            #expect(ClientConnectionState<Void>.wireID(String(number, radix: 36)) == number)
        }
    }

    @Test func anythingElseAnswersNoCall() {
        for text in ["", "0", "01", "+1", "-1", "A", "1A", "a b", "é", "1234567890abc", "\u{0}"] {
            #expect(ClientConnectionState<Void>.wireID(text) == nil, "\(text.debugDescription)")
        }
    }
}
