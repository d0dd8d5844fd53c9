import ConcordFields
import ConcordProtocol
import ConcordStorage

/// One kind of record a data service keeps: a Codable struct stored whole as a JSON document,
/// beside the columns it is filtered, joined and referenced by (or, where its table is a view
/// over `<table>_rows`, made from those columns on read: `TableLayout`). A kind reads like its spec: key,
/// columns, search text, references, and one rule per field in `normalised`. What is special
/// about a kind is a hook here, never a branch in generic code.
public protocol StoredRecord: Codable, Sendable {
    associatedtype CodingKeys: CodingKey & CaseIterable & RawRepresentable<String>

    /// Table name, also the verb segment: `participants.<table>.get`.
    static var table: String { get }
    /// What one record is called in messages: "region".
    static var noun: String { get }
    /// The key's field in JSON and its column: `id` unless the kind says otherwise.
    static var keyField: String { get }
    /// Whether the key is an integer (a session's number); text unless the kind says so.
    static var keyIsInteger: Bool { get }
    /// The filters `list` and `search` accept, by body field.
    static var filters: [RecordFilter] { get }
    /// Who points at this kind, so a delete can refuse while references remain.
    static var referencedBy: [IncomingReference] { get }
    /// Fields the service keeps (derived on read, or changed only by a verb of their own): a
    /// create or update that sets one is refused. `version`, `createdAt` and `updatedAt` always are.
    static var serviceFields: Set<String> { get }
    /// Fields a create sets and only a kind's own verb changes afterwards (an instrument's
    /// `status`, moved by `transition`): an update that sets one is refused.
    static var fixedAfterCreate: Set<String> { get }

    var version: Int64? { get set }
    var createdAt: String? { get set }
    var updatedAt: String? { get set }

    /// The key, once the record is normalised.
    var key: SQLValue { get }
    /// The indexed columns besides key, document, version and timestamps.
    var columns: [(String, SQLValue)] { get }
    /// Lower-cased text that `search` matches.
    var searchText: String { get }
    /// The document's other fields as columns, for a kind whose table is, on some engine, a
    /// view that makes the document and search text from its rows' columns (`TableLayout`):
    /// there the store writes these instead of the two. Empty for every other kind.
    var documentColumns: [(String, SQLValue)] { get }
    /// Records this one points at in the same store, which must exist.
    var references: [OutgoingReference] { get }
    /// Records of another service this one points at, which must exist when the write commits
    /// (checked over the protocol by the store's `RemoteReferenceChecker`). Each must be of a
    /// kind `remoteKinds` declares.
    var remoteReferences: [RemoteReference] { get }
    /// The other services' kinds this kind's fields name, declared: what `SERVICE.references`
    /// answers for, and what every `remoteReferences` must keep to.
    static var remoteKinds: [RemoteKind] { get }
    /// Whether other services' records may name this kind's: then a delete asks them first
    /// (the store's `RemoteHoldersChecker`) and is refused while any does.
    static var namedByOtherServices: Bool { get }

    /// The stored document: the record without version and timestamps, as canonical JSON
    /// (sorted keys, absent fields left out). A kind written in bulk may write it by hand; it
    /// must equal `RecordStore.canonicalJSON(withoutMeta())` byte for byte.
    func document() throws -> String

    /// Checks every field and returns the record in stored form (trimmed, upper-cased codes...).
    /// `isNew` is true on create, when a missing generated key may be filled in.
    func normalised(isNew: Bool) throws(ConcordError) -> Self

    /// A key as a caller wrote it, in stored form (codes are upper-case, say).
    static func normaliseKey(_ text: String) -> String

    /// Whether `get` must decode and `decorate` the record; else the stored document is the answer.
    static var decoratesOnRead: Bool { get }
    /// Adds what is derived on read (a session's co-chairs, from attendance).
    static func decorate(_ record: Self, using store: RecordStore) async throws -> Self

    /// Runs inside the transaction of every write of this kind, after the record is written
    /// (`new` nil: deleted; `old` nil: created): what other records follow from it (a parent
    /// action's progress rolled up from its children). A throw rolls the whole write back.
    static func afterWrite(old: Self?, new: Self?, in transaction: RecordTransaction) async throws
}

extension StoredRecord {
    public static var fieldNames: Set<String> { Set(CodingKeys.allCases.map(\.rawValue)) }
    public static var keyField: String { "id" }
    public static var keyIsInteger: Bool { false }
    public static var referencedBy: [IncomingReference] { [] }
    public static var serviceFields: Set<String> { [] }
    public static var fixedAfterCreate: Set<String> { [] }
    public var references: [OutgoingReference] { [] }
    public var documentColumns: [(String, SQLValue)] { [] }
    public var remoteReferences: [RemoteReference] { [] }
    public static var remoteKinds: [RemoteKind] { [] }
    public static var namedByOtherServices: Bool { false }
    public static func afterWrite(old: Self?, new: Self?, in transaction: RecordTransaction) async throws {}
    public func document() throws -> String { try RecordStore.canonicalJSON(self.withoutMeta()) }
    public static func normaliseKey(_ text: String) -> String { text }
    public static var decoratesOnRead: Bool { false }
    public static func decorate(_ record: Self, using store: RecordStore) async throws -> Self { record }

    /// Fields no caller may set: the store's own and the kind's.
    public static var keptFields: Set<String> { Self.serviceFields.union(["version", "createdAt", "updatedAt"]) }
}

/// A body field that narrows `list` and `search` to rows whose column matches it. What it means
/// is a `Condition`, a value the store turns into SQL: no kind writes SQL.
public struct RecordFilter: Sendable {
    public var field: String
    public var condition: Condition
    public var isInteger: Bool
    /// The value as stored (codes upper-case), or the error that refuses it (a status that is
    /// none of the statuses); nil keeps the caller's text.
    public var normalise: (@Sendable (String) throws(ConcordError) -> String)?

    public init(
        field: String, _ condition: Condition, isInteger: Bool = false, normalise: (@Sendable (String) throws(ConcordError) -> String)? = nil
    ) {
        self.field = field
        self.condition = condition
        self.isInteger = isInteger
        self.normalise = normalise
    }

    /// What a row must be for the filter's value (the one value a filter is given).
    public indirect enum Condition: Sendable {
        /// The column equals the value.
        case equals(String)
        /// One of the columns equals the value (a partnership's two regions).
        case equalsAny([String])
        /// The column is at least, at most, or below the value (text compares as stored).
        case atLeast(String)
        case atMost(String)
        case below(String)
        case above(String)
        /// The column, a pipe list (`|a|b|`, as `StoredRecord` stores lists), holds the value.
        case listHolds(String)
        /// The column, an ISO 3166-2 code, is a subdivision of the value, a country (`IR` holds `IR-01`).
        case subdivisionOf(String)
        /// The column holds the value as a substring, case as stored (the search text).
        case containsText(String)
        /// Every condition, each on the same value.
        case all([Condition])
        /// The column is none of these fixed values (the value is not used).
        case noneOf(String, [String])
        /// The column names a record of `table` (by its `key`) whose `column` equals the value.
        case namesRecordOf(String, table: String, key: String, where: String)
        /// The column, a pipe list, names a record of `table` (by its `key`) whose `column` equals
        /// the value.
        case listNamesRecordOf(String, table: String, key: String, where: String)
    }

    /// Equality on a column (the field's name unless given).
    public static func column(
        _ field: String, _ column: String? = nil, isInteger: Bool = false, normalise: (@Sendable (String) throws(ConcordError) -> String)? = nil
    ) -> RecordFilter {
        RecordFilter(field: field, .equals(column ?? field), isInteger: isInteger, normalise: normalise)
    }

    /// A filter whose value is one of `values`: a value outside them is refused as a write
    /// refuses it, rather than matching nothing. Equality on the field's column unless
    /// `condition` says otherwise (a list that holds it).
    public static func oneOf(_ field: String, _ values: [String], _ condition: Condition? = nil) -> RecordFilter {
        RecordFilter(field: field, condition ?? .equals(field), normalise: { text throws(ConcordError) in
            try FieldRules.oneOf(text, values, field: field)
        })
    }

    public static func oneOf<Vocabulary: RawRepresentable & CaseIterable>(
        _ field: String, _ vocabulary: Vocabulary.Type, _ condition: Condition? = nil
    ) -> RecordFilter where Vocabulary.RawValue == String {
        .oneOf(field, vocabulary.allCases.map(\.rawValue), condition)
    }

    /// Equality on an upper-cased code column (country, region).
    public static func code(_ field: String, _ column: String? = nil) -> RecordFilter {
        .column(field, column, normalise: { $0.uppercased() })
    }

    /// Equality on a country code column: a value that is no ISO 3166-1 alpha-2 code (`IRN`) is
    /// refused as a write refuses it, rather than matching nothing.
    public static func country(_ field: String, _ column: String? = nil) -> RecordFilter {
        .column(field, column, normalise: { text throws(ConcordError) in try FieldRules.countryCode(text, field: field) })
    }

    /// Equality on a region code column, held to ISO 3166-2 as `country` is to ISO 3166-1.
    public static func region(_ field: String, _ column: String? = nil) -> RecordFilter {
        .column(field, column, normalise: { text throws(ConcordError) in try FieldRules.regionCode(text, field: field) })
    }
}

/// A field that names another record of the same store, which must exist when the write commits.
public struct OutgoingReference: Sendable {
    public var field: String
    public var table: String
    public var keyColumn: String
    public var noun: String
    public var value: SQLValue

    public init(field: String, table: String, keyColumn: String, noun: String, value: SQLValue) {
        self.field = field
        self.table = table
        self.keyColumn = keyColumn
        self.noun = noun
        self.value = value
    }

    /// A reference to `Record` by its key.
    public static func to<Record: StoredRecord>(_ type: Record.Type, field: String, _ value: SQLValue) -> OutgoingReference {
        OutgoingReference(field: field, table: Record.table, keyColumn: Record.keyField, noun: Record.noun, value: value)
    }
}

public struct IncomingReference: Sendable {
    public var table: String
    public var column: String
    /// Plural, for "country IR is still referenced by 3 regions".
    public var nouns: String

    public init(table: String, column: String, nouns: String) {
        self.table = table
        self.column = column
        self.nouns = nouns
    }
}

/// A reference to a record another service keeps: `participants.officials` `mehdi-dousti`.
public struct RemoteReference: Sendable, Hashable {
    /// The body field that names it, for the error.
    public var field: String
    public var service: String
    /// The kind's verb segment there (`officials`) and its key field (`id`).
    public var kind: String
    public var keyField: String
    public var key: SQLValue
    public var noun: String

    public init(field: String, service: String, kind: String, keyField: String, key: SQLValue, noun: String) {
        self.field = field
        self.service = service
        self.kind = kind
        self.keyField = keyField
        self.key = key
        self.noun = noun
    }
}

/// A kind of another service that a kind's fields name: `participants.officials` by
/// `owner.official` and `parties[].party.official`.
public struct RemoteKind: Sendable, Hashable {
    public var service: String
    public var kind: String
    /// The kind's key field there, and whether the key is a number (a session's `number`).
    public var keyField: String
    public var integerKey: Bool
    public var fields: [String]

    public init(service: String, kind: String, keyField: String, integerKey: Bool = false, fields: [String]) {
        self.service = service
        self.kind = kind
        self.keyField = keyField
        self.integerKey = integerKey
        self.fields = fields
    }
}

/// Who names a record of this service, as another service answers `SERVICE.references`.
public struct RemoteHolding: Sendable, Codable, Equatable {
    public struct Example: Sendable, Codable, Equatable {
        public var kind: String
        public var key: String
        public var field: String

        public init(kind: String, key: String, field: String) {
            self.kind = kind
            self.key = key
            self.field = field
        }
    }

    public var service: String
    public var count: Int64
    public var examples: [Example]

    public init(service: String, count: Int64, examples: [Example]) {
        self.service = service
        self.count = count
        self.examples = examples
    }
}

/// Asks the services that may name this service's records whether they do, before a delete.
public protocol RemoteHoldersChecker: Sendable {
    /// Every service that names `kind` `key` (of this service), with counts and a few
    /// examples; throws `unavailable` naming a service that cannot be asked in time.
    func holders(of kind: String, key: SQLValue) async throws(ConcordError) -> [RemoteHolding]
}

/// Checks that remote references exist, by asking the service that keeps them.
public protocol RemoteReferenceChecker: Sendable {
    /// Whether the record exists there now (a record being deleted still does): for the check
    /// of dangling references, not before a write.
    func exists(_ reference: RemoteReference) async throws(ConcordError) -> Bool

    /// Throws `bad_request` naming the field of the first reference that does not exist, or
    /// `unavailable` naming the service when it cannot be asked in time.
    func check(_ references: [RemoteReference]) async throws(ConcordError)
}

/// An order for `RecordStore.select`: columns of the kind's table, declared by the kind.
public struct RecordOrder: Sendable {
    /// The columns to sort by, ascending, in order; the store names them in SQL.
    public let columns: [String]

    public init(_ columns: String...) {
        self.columns = columns
    }
}
