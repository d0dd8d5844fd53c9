import NIOCore
import Testing

@testable import ConcordLoad

/// The load tool writes each request's id itself, digit by digit, instead of formatting a string.
@Suite("Load generator")
struct LoadGeneratorTests {
    @Test("an id is written as its decimal digits", arguments: [0, 7, 9, 10, 16, 99, 100, 12_345, 1 << 32, UInt64.max] as [UInt64])
    func anIDIsWrittenAsItsDecimalDigits(_ value: UInt64) {
        var buffer = ByteBuffer(string: "x")
        LoadHandler.writeDecimal(value, into: &buffer)
        #expect(String(buffer: buffer) == "x\(value)")
    }
}
