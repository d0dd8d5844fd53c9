import ConcordProtocol
import ConcordStorage
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Opaque cursors: the last key seen, so a page starts strictly after it (keyset pagination:
/// records inserted meanwhile never shift a page or repeat an item).
public enum Cursor {
    public static func encode(_ key: SQLValue) -> String {
        let raw: String
        switch key {
        case .integer(let value): raw = "i:\(value)"
        case .text(let text): raw = "t:\(text)"
        default: raw = "n:"
        }
        return Data(raw.utf8).base64EncodedString()
    }

    public static func decode(_ cursor: String, integerKey: Bool) throws(ConcordError) -> SQLValue {
        let invalid = ConcordError(.badRequest, "cursor is not one this service issued; pass nextCursor from the previous page unchanged", field: "cursor")
        guard let data = Data(base64Encoded: cursor), let raw = String(data: data, encoding: .utf8) else { throw invalid }
        if integerKey, raw.hasPrefix("i:"), let value = Int64(raw.dropFirst(2)) { return .integer(value) }
        if !integerKey, raw.hasPrefix("t:") { return .text(String(raw.dropFirst(2))) }
        throw invalid
    }
}
