import ConcordProtocol

/// Reading a JSON answer as a person reads it: by dotted path, as a cell, as rows.
extension JSONValue {
    /// The value at a dotted path (`official.name`), or nil.
    package subscript(path path: String) -> JSONValue? {
        var value: JSONValue? = self
        for key in path.split(separator: ".") {
            guard case .object(let object)? = value else { return nil }
            value = object[String(key)]
        }
        return value
    }

    /// The value as a person reads it in a cell: text as is, numbers grouped, lists joined.
    package var cell: String {
        switch self {
        case .null: ""
        case .bool(let flag): flag ? "yes" : "no"
        case .integer(let value): value >= 10_000 || value <= -10_000 ? SessionBrief.grouped(String(value)) : String(value)
        case .number(let value): String(value)
        case .string(let text): text
        case .array(let items): items.map(\.cell).joined(separator: ", ")
        case .object(let object): object.sorted { $0.key < $1.key }.map { "\($0.key): \($0.value.cell)" }.joined(separator: ", ")
        }
    }

    /// `items` of a page, or the array itself.
    package var rows: [JSONValue] {
        switch self {
        case .array(let items): items
        case .object(let object): if case .array(let items)? = object["items"] { items } else { [] }
        default: []
        }
    }
}
