import ConcordProtocol
import Testing

/// Metadata keeps its rarer keys behind one shared reference, copied on write: it must still
/// behave as a plain value.
@Suite struct MetadataTests {
    @Test func aCopyChangesAloneAndEqualsWhatHoldsTheSame() {
        let original = Metadata(deadlineMilliseconds: 50, trace: "t", auth: "token", extensions: [.init(key: "x-a", value: "1")])
        var copy = original
        copy.auth = nil
        copy.actor = "Mehdi%20Dousti"
        copy.extensions.append(.init(key: "x-b", value: "2"))
        #expect(original.auth == "token" && original.actor == nil && original.extensions.count == 1)
        #expect(copy.auth == nil && copy.actor == "Mehdi%20Dousti" && copy.extensions.count == 2 && copy.trace == "t")
        #expect(copy != original)

        var cleared = copy
        cleared.deadlineMilliseconds = nil
        cleared.trace = nil
        cleared.actor = nil
        cleared.extensions = []
        #expect(cleared.isEmpty)
        #expect(cleared == Metadata())
        #expect(cleared.hashValue == Metadata().hashValue)

        var rebuilt = Metadata(deadlineMilliseconds: 50)
        rebuilt.trace = "t"
        rebuilt.auth = "token"
        rebuilt.extensions = [.init(key: "x-a", value: "1")]
        #expect(rebuilt == original)
        #expect(rebuilt.hashValue == original.hashValue)
        #expect(Set([rebuilt, original]).count == 1)
    }

    @Test func settingAKeyToNothingOnEmptyMetadataKeepsItEmpty() {
        var metadata = Metadata()
        metadata.auth = nil
        metadata.extensions = []
        #expect(metadata.isEmpty)
        #expect(metadata == Metadata())
    }
}
