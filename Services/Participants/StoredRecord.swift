import ConcordProtocol
import ConcordStorage

/// What the generic store needs to know about one kind of record. Each kind is a Codable struct
/// kept whole as a JSON document, beside the columns it is filtered, joined and referenced by.
protocol StoredRecord: Codable, Sendable {
    associatedtype CodingKeys: CodingKey & CaseIterable & RawRepresentable<String>

    /// Table name, also the verb segment: `participants.<table>.get`.
    static var table: String { get }
    /// What one record is called in messages: "region".
    static var noun: String { get }
    /// The key's field in JSON and its column.
    static var keyField: String { get }
    static var keyIsInteger: Bool { get }
    /// The filters `list` and `search` accept, by body field.
    static var filters: [RecordFilter] { get }
    /// Who points at this kind, so a delete can refuse while references remain.
    static var referencedBy: [IncomingReference] { get }

    var version: Int64? { get set }
    var createdAt: String? { get set }
    var updatedAt: String? { get set }

    /// The key, once the record is normalised.
    var key: SQLValue { get }
    /// The indexed columns besides key, document, version and timestamps.
    var columns: [(String, SQLValue)] { get }
    /// Lower-cased text that `search` matches.
    var searchText: String { get }
    /// Records this one points at, which must exist.
    var references: [OutgoingReference] { get }

    /// Checks every field and returns the record in stored form (trimmed, upper-cased codes...).
    /// `isNew` is true on create, when a missing generated key may be filled in.
    func normalised(isNew: Bool) throws(ConcordError) -> Self
}

extension StoredRecord {
    static var fieldNames: Set<String> { Set(CodingKeys.allCases.map(\.rawValue)) }
    static var referencedBy: [IncomingReference] { [] }
    var references: [OutgoingReference] { [] }
}

/// A body field that narrows `list` and `search` to rows whose column equals it.
struct RecordFilter: Sendable {
    var field: String
    /// SQL with `?` where the value goes, e.g. `country = ?` or `(region_a = ? OR region_b = ?)`.
    var condition: String
    var isInteger = false

    static func column(_ field: String, _ column: String? = nil, isInteger: Bool = false) -> RecordFilter {
        RecordFilter(field: field, condition: "\(column ?? field) = ?", isInteger: isInteger)
    }
}

struct OutgoingReference: Sendable {
    var field: String
    var table: String
    var keyColumn: String
    var noun: String
    var value: SQLValue
}

struct IncomingReference: Sendable {
    var table: String
    var column: String
    /// Plural, for "country IR is still referenced by 3 regions".
    var nouns: String
}
