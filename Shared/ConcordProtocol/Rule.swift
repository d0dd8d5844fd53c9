/// The rule a refused request broke, as data beside the error's English message: a client says
/// it in its reader's language, and a program can switch on it. Written on the wire as flat
/// fields of the error object: `"rule":"one_of","allowed":"signed,in-force","got":"flying"`.
///
/// Stable: a rule's name and its fields are part of the protocol (docs/protocol.md).
public enum Rule: Hashable, Sendable {
    /// A field the request must have is missing.
    case required
    /// Text that is empty or only blanks.
    case empty
    /// Text longer than `max` characters.
    case tooLong(max: Int)
    /// A list with more than `max` entries.
    case tooMany(max: Int)
    /// Text with control characters in it.
    case controlCharacters
    /// A value that is none of `allowed`.
    case oneOf(allowed: [String], got: String)
    /// A value not written as `form` says.
    case form(Form, got: String)
    /// A JSON value of another type than `expected` (null included).
    case type(expected: ValueType)
    /// A value, or its `part` (a date's year, month or day), outside `low...high`.
    case range(low: String, high: String, got: String, part: Part? = nil)
    /// The body is not JSON.
    case json
    /// No record has the key asked for.
    case noRecord
    /// A create of a key that is taken.
    case exists
    /// The record changed since the version the write was based on.
    case versionMoved
    /// A delete of a record that other records still name.
    case stillNamed
    /// The record names another that does not exist.
    case unknownReference
    /// A date or period earlier than the field `other` (an end before its start).
    case notBefore(other: String)
    /// A date or period later than the field `other` (a `since` after its `until`).
    case notAfter(other: String)
    /// A value that must differ from the field `other`'s (a partner that is its reporter).
    case differs(other: String)
    /// A parent that would make the record its own ancestor.
    case cycle
    /// A move in a workflow that its current state `from` does not allow: the states it may move
    /// to are `allowed` (none: `from` is final), and `got` was asked.
    case move(from: String, allowed: [String], got: String)
    /// A field this request does not take; it takes `allowed`.
    case unknownField(allowed: [String])

    /// How a value must be written, for `form`.
    public enum Form: String, Hashable, Sendable, CaseIterable {
        /// ISO 3166-1 alpha-2: IR, RU.
        case countryCode = "country_code"
        /// ISO 3166-2: IR-01, RU-AST.
        case regionCode = "region_code"
        /// Lower-case letters, digits and inner hyphens: mehdi-dousti.
        case slug
        /// A decimal number as text: "8.2".
        case decimal
        /// YYYY, YYYY-MM or YYYY-MM-DD.
        case date
        /// YYYY-MM-DD.
        case day
        /// YYYY-MM.
        case month
        /// Comtrade's period: YYYY or YYYYMM.
        case period
        /// TOTAL, or an HS code of 2, 4 or 6 digits.
        case commodity
        /// ISO 639: fa, ru.
        case languageCode = "language_code"
        /// A change feed's cursor, SERVICE:POSITION, of the feed asked (participants:42).
        case cursor
        /// A watch event's cursor: SERVICE:POSITION for each service, separated by commas
        /// (participants:12,agreements:40).
        case watchCursor = "watch_cursor"
    }

    /// The part of a date that is out of range, for `range`.
    public enum Part: String, Hashable, Sendable, CaseIterable {
        case year, month, day
    }

    /// The JSON types, for `type`.
    public enum ValueType: String, Hashable, Sendable, CaseIterable {
        case string, integer, number, boolean, array, object
    }

    /// The rule's name on the wire.
    public var name: String {
        switch self {
        case .required: "required"
        case .empty: "empty"
        case .tooLong: "too_long"
        case .tooMany: "too_many"
        case .controlCharacters: "control_characters"
        case .oneOf: "one_of"
        case .form: "form"
        case .type: "type"
        case .range: "range"
        case .json: "json"
        case .noRecord: "no_record"
        case .exists: "exists"
        case .versionMoved: "version_moved"
        case .stillNamed: "still_named"
        case .unknownReference: "unknown_reference"
        case .notBefore: "not_before"
        case .notAfter: "not_after"
        case .differs: "differs"
        case .cycle: "cycle"
        case .move: "move"
        case .unknownField: "unknown_field"
        }
    }

    /// The rule's fields after `rule`, in the order they are written.
    public var fields: [(key: String, value: String)] {
        switch self {
        case .required, .empty, .controlCharacters, .json, .noRecord, .exists, .versionMoved, .stillNamed, .unknownReference, .cycle: []
        case .tooLong(let max), .tooMany(let max): [("max", String(max))]
        case .oneOf(let allowed, let got): [("allowed", allowed.joined(separator: ",")), ("got", got)]
        case .form(let form, let got): [("form", form.rawValue), ("got", got)]
        case .type(let expected): [("expected", expected.rawValue)]
        case .range(let low, let high, let got, let part): [("low", low), ("high", high), ("got", got)] + (part.map { [("part", $0.rawValue)] } ?? [])
        case .notBefore(let other), .notAfter(let other), .differs(let other): [("other", other)]
        case .move(let from, let allowed, let got): [("from", from), ("allowed", allowed.joined(separator: ",")), ("got", got)]
        case .unknownField(let allowed): [("allowed", allowed.joined(separator: ","))]
        }
    }

    /// The rule an error object's fields name; nil when they name none, or one this version
    /// does not know, or leave out what it needs.
    public init?(fields: [String: String]) {
        guard let name = fields["rule"] else { return nil }
        switch name {
        case "required": self = .required
        case "empty": self = .empty
        case "too_long", "too_many":
            guard let max = fields["max"].flatMap({ Int($0) }) else { return nil }
            self = name == "too_long" ? .tooLong(max: max) : .tooMany(max: max)
        case "control_characters": self = .controlCharacters
        case "one_of":
            guard let allowed = fields["allowed"], let got = fields["got"] else { return nil }
            self = .oneOf(allowed: Self.list(allowed), got: got)
        case "form":
            guard let form = fields["form"].flatMap(Form.init(rawValue:)), let got = fields["got"] else { return nil }
            self = .form(form, got: got)
        case "type":
            guard let expected = fields["expected"].flatMap(ValueType.init(rawValue:)) else { return nil }
            self = .type(expected: expected)
        case "range":
            guard let low = fields["low"], let high = fields["high"], let got = fields["got"] else { return nil }
            self = .range(low: low, high: high, got: got, part: fields["part"].flatMap(Part.init(rawValue:)))
        case "json": self = .json
        case "no_record": self = .noRecord
        case "exists": self = .exists
        case "version_moved": self = .versionMoved
        case "still_named": self = .stillNamed
        case "unknown_reference": self = .unknownReference
        case "not_before", "not_after", "differs":
            guard let other = fields["other"] else { return nil }
            self = name == "not_before" ? .notBefore(other: other) : name == "not_after" ? .notAfter(other: other) : .differs(other: other)
        case "cycle": self = .cycle
        case "move":
            guard let from = fields["from"], let allowed = fields["allowed"], let got = fields["got"] else { return nil }
            self = .move(from: from, allowed: Self.list(allowed), got: got)
        case "unknown_field":
            guard let allowed = fields["allowed"] else { return nil }
            self = .unknownField(allowed: Self.list(allowed))
        default: return nil
        }
    }

    /// A comma-joined list as written in `fields` (an empty text is an empty list).
    private static func list(_ text: String) -> [String] {
        text.split(separator: ",").map(String.init)
    }
}
