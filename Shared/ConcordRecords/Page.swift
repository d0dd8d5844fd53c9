import ConcordProtocol
import ConcordStorage
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// One page of a list: the items and, when more follow, the cursor that fetches the next page.
public struct Page<Item: Encodable & Sendable>: Encodable, Sendable {
    public var items: [Item]
    public var nextCursor: String?

    public init(items: [Item], nextCursor: String?) {
        self.items = items
        self.nextCursor = nextCursor
    }

    enum CodingKeys: String, CodingKey {
        case items, nextCursor
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(self.items, forKey: .items)
        // Always present, null on the last page, so clients can loop on it.
        try container.encode(self.nextCursor, forKey: .nextCursor)
    }
}

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
