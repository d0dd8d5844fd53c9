import ConcordTLS
import Testing

/// The revocation file as operators write it: one serial a line, comments and blanks allowed.
@Suite struct RevocationListTests {
    @Test func serialsAreReadWhateverTheirCaseCommentsAndSpaces() throws {
        let list = try RevocationList.parse("# revoked after the laptop was lost\n  0A1B2c  \n\n\tff00 # the old gateway\r\n", path: "revoked")
        #expect(list.count == 2)
        #expect(list.contains("0a1b2c") && list.contains("ff00"))
        #expect(!list.contains("0A1B2C"))
    }

    @Test func aLineThatIsNoSerialIsRefusedWithItsNumber() {
        #expect {
            try RevocationList.parse("0a1b\nnot-a-serial\n", path: "certs/revoked")
        } throws: { error in
            "\(error)".contains("certs/revoked line 2") && "\(error)".contains("'not-a-serial'")
        }
    }

    @Test func aTokenHashIsHexAndStable() {
        let hash = TokenHash.of("secret-token")
        #expect(hash.count == 64 && hash.allSatisfy(\.isHexDigit))
        #expect(hash == TokenHash.of("secret-token") && hash != TokenHash.of("secret-token2"))
    }
}
