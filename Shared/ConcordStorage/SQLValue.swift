/// A value bound into or read out of a statement. Both engines store exactly these four kinds, so
/// records look the same whichever engine holds them.
public enum SQLValue: Sendable, Hashable, CustomStringConvertible {
    case text(String)
    case integer(Int64)
    case real(Double)
    case null

    public var description: String {
        switch self {
        case .text(let text): "'\(text)'"
        case .integer(let value): String(value)
        case .real(let value): String(value)
        case .null: "NULL"
        }
    }

    public static func optional(_ text: String?) -> SQLValue {
        text.map(SQLValue.text) ?? .null
    }
}

extension SQLValue: ExpressibleByStringLiteral, ExpressibleByIntegerLiteral {
    public init(stringLiteral value: String) { self = .text(value) }
    public init(integerLiteral value: Int64) { self = .integer(value) }
}

/// One result row, by column name.
public struct SQLRow: Sendable, Hashable {
    public var values: [String: SQLValue]

    public init(_ values: [String: SQLValue]) {
        self.values = values
    }

    public subscript(column: String) -> SQLValue {
        self.values[column] ?? .null
    }

    public func text(_ column: String) throws(StorageError) -> String {
        switch self[column] {
        case .text(let text): return text
        case .integer(let value): return String(value)
        default: throw StorageError(.corrupt, "column '\(column)' is \(self[column]), expected text")
        }
    }

    public func integer(_ column: String) throws(StorageError) -> Int64 {
        switch self[column] {
        case .integer(let value): return value
        case .text(let text) where Int64(text) != nil: return Int64(text)!
        default: throw StorageError(.corrupt, "column '\(column)' is \(self[column]), expected an integer")
        }
    }
}
