import ConcordWire
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Testing

/// `Change.sortedJSON()` writes by hand what the encoder writes: a watcher reads the same line
/// whichever wrote it.
struct ChangeJSONTests {
    private static func encoded(_ change: Change) throws -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return Array(try encoder.encode(change))
    }

    private static let changes = [
        Change(
            cursor: "participants:12", service: "participants", kind: "officials", key: "ir-tabriz-governor", operation: "create",
            versionBefore: nil, versionAfter: 1, verb: "participants.officials.create", actor: "clerk1", actorRole: "secretariat",
            at: "2026-12-03T12:00:00.000Z", traceID: "3f2a9c"
        ),
        Change(
            cursor: "agreements:40", service: "agreements", kind: "actions", key: "17", operation: "change",
            versionBefore: 3, versionAfter: 4, verb: "agreements.actions.progress", actor: "Мария \"М\" Иванова\\ф/1",
            actorRole: nil, at: "2026-12-03T12:00:00.000Z", traceID: nil
        ),
        Change(
            cursor: "trade:9007199254740993", service: "trade", kind: "observations", key: "IR-01~RU~X~TOTAL~202501~منبع~2026-01-01",
            operation: "delete", versionBefore: -1, versionAfter: nil, verb: "trade.observations.delete", actor: "گزارشگر 😀",
            actorRole: "admin", at: "", traceID: ""
        ),
    ]

    @Test(arguments: Self.changes)
    func theHandWrittenLineIsTheEncodersLine(_ change: Change) throws {
        #expect(change.sortedJSON() == (try Self.encoded(change)))
    }

    @Test func textWithAControlCharacterIsLeftToTheEncoder() {
        var change = Self.changes[0]
        change.key = "line\nbreak"
        #expect(change.sortedJSON() == nil)
    }
}
