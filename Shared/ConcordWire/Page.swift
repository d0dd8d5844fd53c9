/// One page of a list (every `SERVICE.KIND.list` and `search` answers one): the items and, when
/// more follow, the cursor that fetches the next page. The service encodes its records; a reader
/// decodes the fields it shows.
public struct Page<Item: Sendable>: Sendable {
    public var items: [Item]
    public var nextCursor: String?

    public init(items: [Item], nextCursor: String?) {
        (self.items, self.nextCursor) = (items, nextCursor)
    }

    enum CodingKeys: String, CodingKey {
        case items, nextCursor
    }
}

extension Page: Encodable where Item: Encodable {
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(self.items, forKey: .items)
        // Always present, null on the last page, so clients can loop on it.
        try container.encode(self.nextCursor, forKey: .nextCursor)
    }
}

extension Page: Decodable where Item: Decodable {
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.items = try container.decode([Item].self, forKey: .items)
        self.nextCursor = try container.decodeIfPresent(String.self, forKey: .nextCursor)
    }
}

/// `agreements.actions.overdue`: the actions past their due date on `asOf`, oldest first.
public struct OverdueActions<Action: Sendable>: Sendable {
    public var asOf: String
    public var items: [Action]

    public init(asOf: String, items: [Action]) {
        (self.asOf, self.items) = (asOf, items)
    }
}

extension OverdueActions: Encodable where Action: Encodable {}
extension OverdueActions: Decodable where Action: Decodable {}
