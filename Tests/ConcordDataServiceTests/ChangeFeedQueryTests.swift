import ConcordProtocol
import Testing

@testable import ConcordDataService

/// The body of `SERVICE.changes`, read without a server: each mistake names its field.
@Suite struct ChangeFeedQueryTests {
    @Test func aCursorOfThisFeedGivesItsPosition() throws {
        #expect(try ChangeFeedQuery.after(in: [:], service: "agreements") == 0)
        #expect(try ChangeFeedQuery.after(in: ["after": .string("agreements:42")], service: "agreements") == 42)
    }

    @Test func aCursorOfAnotherFeedOrNoneAtAllIsRefused() {
        for (text, says) in [("participants:3", "participants.changes"), ("agreements", "agreements:POSITION"), ("agreements:-1", "agreements:POSITION")] {
            #expect {
                try ChangeFeedQuery.after(in: ["after": .string(text)], service: "agreements")
            } throws: { error in
                // A rule too, so other languages say it: the form this feed's cursor takes.
                (error as? ConcordError)?.field == "after" && (error as? ConcordError)?.message.contains(says) == true
                    && (error as? ConcordError)?.rule == .form(.cursor, got: text)
            }
        }
    }

    @Test func kindsAreThisServicesOrRefusedByIndex() throws {
        let known = ["instruments", "actions"]
        #expect(try ChangeFeedQuery.kinds(in: [:], known: known) == nil)
        #expect(try ChangeFeedQuery.kinds(in: ["kinds": .array([.string("actions")])], known: known) == ["actions"])
        #expect {
            try ChangeFeedQuery.kinds(in: ["kinds": .array([.string("actions"), .string("treaties")])], known: known)
        } throws: { error in
            (error as? ConcordError)?.field == "kinds[1]" && (error as? ConcordError)?.message.contains("instruments, actions") == true
        }
        #expect(throws: ConcordError.self) { try ChangeFeedQuery.kinds(in: ["kinds": .string("actions")], known: known) }
    }

}
