import ConcordProtocol
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// The field rules every record shares. Each returns the normalised value or throws a
/// `bad_request` that names the field and the rule it broke.
public enum FieldRules {
    /// Trims surrounding whitespace; rejects empty and over-long text.
    public static func text(_ value: String, field: String, max: Int = 200) throws(ConcordError) -> String {
        let trimmed = value.trimmingWhitespace()
        guard !trimmed.isEmpty else { throw ConcordError(.badRequest, "\(field) must not be empty", field: field, rule: .empty) }
        // Printable ASCII, the common case, needs neither a grapheme count nor a look at categories.
        if trimmed.utf8.count <= max, trimmed.utf8.allSatisfy({ (0x20...0x7E).contains($0) }) { return trimmed }
        guard trimmed.count <= max else {
            throw ConcordError(.badRequest, "\(field) is \(trimmed.count) characters long; the most allowed is \(max)", field: field, rule: .tooLong(max: max))
        }
        guard !trimmed.unicodeScalars.contains(where: { $0.properties.generalCategory == .control && $0 != "\n" }) else {
            throw ConcordError(.badRequest, "\(field) must not contain control characters", field: field, rule: .controlCharacters)
        }
        return trimmed
    }

    /// Like `text`, but absent or blank becomes nil.
    public static func optionalText(_ value: String?, field: String, max: Int = 200) throws(ConcordError) -> String? {
        guard let value, !value.trimmingWhitespace().isEmpty else { return nil }
        return try Self.text(value, field: field, max: max)
    }

    /// ISO 3166-1 alpha-2: two letters, stored upper-case.
    public static func countryCode(_ value: String, field: String) throws(ConcordError) -> String {
        let code = value.trimmingSpaces().uppercased()
        guard code.count == 2, code.unicodeScalars.allSatisfy({ ("A"..."Z").contains($0) }) else {
            throw ConcordError(
                .badRequest, "\(field) must be an ISO 3166-1 alpha-2 code such as IR or RU, got '\(value)'", field: field, rule: .form(.countryCode, got: value)
            )
        }
        return code
    }

    /// ISO 3166-2: a country code, a hyphen and one to three letters or digits (`IR-01`,
    /// `RU-AST`), stored upper-case.
    public static func regionCode(_ value: String, field: String) throws(ConcordError) -> String {
        let code = value.trimmingSpaces().uppercased()
        let parts = code.split(separator: "-", omittingEmptySubsequences: false)
        let wellFormed = parts.count == 2 && parts[0].count == 2 && (1...3).contains(parts[1].count)
            && parts[0].unicodeScalars.allSatisfy { ("A"..."Z").contains($0) }
            && parts[1].unicodeScalars.allSatisfy { ("A"..."Z").contains($0) || ("0"..."9").contains($0) }
        guard wellFormed else {
            throw ConcordError(
                .badRequest, "\(field) must be an ISO 3166-2 code such as IR-01 or RU-AST; got '\(value)'", field: field, rule: .form(.regionCode, got: value)
            )
        }
        return code
    }

    /// A lower-case identifier: letters, digits and hyphens, as in `mehdi-dousti`.
    public static func slug(_ value: String, field: String, max: Int = 64) throws(ConcordError) -> String {
        let slug = value.trimmingSpaces()
        let allowed = slug.unicodeScalars.allSatisfy { ("a"..."z").contains($0) || ("0"..."9").contains($0) || $0 == "-" }
        guard !slug.isEmpty, slug.count <= max, allowed, !slug.hasPrefix("-"), !slug.hasSuffix("-") else {
            throw ConcordError(
                .badRequest,
                "\(field) must be 1 to \(max) lower-case letters, digits and inner hyphens, such as mehdi-dousti; got '\(value)'",
                field: field,
                rule: .form(.slug, got: value)
            )
        }
        return slug
    }

    /// One of a fixed set of values.
    public static func oneOf(_ value: String, _ allowed: [String], field: String) throws(ConcordError) -> String {
        let normalised = value.trimmingSpaces().lowercased()
        guard allowed.contains(normalised) else {
            throw ConcordError(
                .badRequest, "\(field) must be one of \(allowed.joined(separator: ", ")); got '\(value)'", field: field,
                rule: .oneOf(allowed: allowed, got: value)
            )
        }
        return normalised
    }

    /// A short list of distinct slugs, e.g. sectors.
    public static func slugList(_ values: [String], field: String, maxCount: Int = 20) throws(ConcordError) -> [String] {
        guard values.count <= maxCount else {
            throw ConcordError(.badRequest, "\(field) has \(values.count) entries; the most allowed is \(maxCount)", field: field, rule: .tooMany(max: maxCount))
        }
        var seen: [String] = []
        for (index, value) in values.enumerated() {
            let slug = try Self.slug(value.lowercased(), field: "\(field)[\(index)]", max: 40)
            if !seen.contains(slug) { seen.append(slug) }
        }
        return seen
    }

    /// The slug key of a record that may have its key generated: the caller's, checked, or on
    /// create a new one; an update must name its record.
    public static func slugKey(_ id: String?, isNew: Bool, prefix: String) throws(ConcordError) -> String {
        if let id { return try Self.slug(id, field: "id") }
        guard isNew else { throw ConcordError(.badRequest, "id is required", field: "id", rule: .required) }
        return Self.generatedID(prefix: prefix)
    }

    /// A new identifier for records whose caller gave none: a prefix and 12 random base-32 characters.
    public static func generatedID(prefix: String) -> String {
        prefix + "-" + Self.randomCharacters(12)
    }

    /// `count` random characters of base 32 without look-alikes (no l, o, 0, 1).
    public static func randomCharacters(_ count: Int) -> String {
        let alphabet = Array("abcdefghijkmnpqrstuvwxyz23456789")
        var generator = SystemRandomNumberGenerator()
        return String((0..<count).map { _ in alphabet[Int(generator.next(upperBound: UInt32(alphabet.count)))] })
    }

    /// Names or titles by ISO 639 language code (`{"fa": "گیلان"}`), at most five; nil or empty
    /// is nil.
    public static func localNames(_ names: [String: String]?, field: String, max: Int = 200) throws(ConcordError) -> [String: String]? {
        guard let names else { return nil }
        guard names.count <= 5 else {
            throw ConcordError(.badRequest, "\(field) has \(names.count) entries; the most allowed is 5", field: field, rule: .tooMany(max: 5))
        }
        var normalised: [String: String] = [:]
        for (language, name) in names {
            let languageOK = (2...3).contains(language.count) && language.unicodeScalars.allSatisfy { ("a"..."z").contains($0) }
            guard languageOK else {
                throw ConcordError(
                    .badRequest, "\(field) keys must be ISO 639 language codes such as fa or ru; got '\(language)'", field: field,
                    rule: .form(.languageCode, got: language)
                )
            }
            normalised[language] = try Self.text(name, field: "\(field).\(language)", max: max)
        }
        return normalised.isEmpty ? nil : normalised
    }

    /// A committee session's number, from 1 to 1000: the one rule every service holds a session
    /// reference to (a session's own number, attendance, an instrument, a stated figure).
    @discardableResult
    public static func sessionNumber(_ number: Int64, field: String) throws(ConcordError) -> Int64 {
        guard (1...1000).contains(number) else {
            throw ConcordError(
                .badRequest, "\(field) must be a session number between 1 and 1000; got \(number)", field: field,
                rule: .range(low: "1", high: "1000", got: "\(number)")
            )
        }
        return number
    }

    /// An exact decimal as text: an optional minus, digits, an optional fraction (`-12.50`);
    /// at most 30 characters. Money and measures are kept as text so no binary floating point
    /// touches them.
    public static func decimal(_ value: String, field: String) throws(ConcordError) -> String {
        let text = value.trimmingSpaces()
        if Self.isPlainDecimal(text.utf8) { return text }
        let body = text.hasPrefix("-") ? text.dropFirst() : Substring(text)
        let parts = body.split(separator: ".", omittingEmptySubsequences: false)
        let wellFormed = !body.isEmpty && text.count <= 30 && (1...2).contains(parts.count)
            && parts.allSatisfy { !$0.isEmpty && $0.unicodeScalars.allSatisfy { ("0"..."9").contains($0) } }
        guard wellFormed else {
            throw ConcordError(
                .badRequest, "\(field) must be a decimal number as text, such as \"3300000000\" or \"8.2\"; got '\(value)'", field: field,
                rule: .form(.decimal, got: value)
            )
        }
        return text
    }

    /// `-?[0-9]+(\.[0-9]+)?`, at most 30 bytes: what `decimal` accepts, read as bytes.
    public static func isPlainDecimal(_ utf8: String.UTF8View) -> Bool {
        utf8.withContiguousStorageIfAvailable(Self.isPlainDecimal) ?? Self.isPlainDecimal(Array(utf8))
    }

    private static func isPlainDecimal(_ utf8: some Collection<UInt8>) -> Bool {
        guard utf8.count <= 30 else { return false }
        var digitsBefore = 0
        var digitsAfter = 0
        var point = false
        var index = -1
        for byte in utf8 {
            index += 1
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"):
                if point { digitsAfter += 1 } else { digitsBefore += 1 }
            case UInt8(ascii: "-") where index == 0:
                continue
            case UInt8(ascii: ".") where !point:
                point = true
            default:
                return false
            }
        }
        return digitsBefore > 0 && (!point || digitsAfter > 0)
    }

    /// Text made into a key part: lower-case letters and digits, other runs as one hyphen
    /// ("UN Comtrade" is `un-comtrade`).
    public static func slugish(_ text: String) -> String {
        if text.utf8.allSatisfy({ $0 < 0x80 }) {
            var bytes: [UInt8] = []
            bytes.reserveCapacity(text.utf8.count)
            for byte in text.utf8 {
                switch byte {
                case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"): bytes.append(byte)
                case UInt8(ascii: "A")...UInt8(ascii: "Z"): bytes.append(byte + 32)
                default: if let last = bytes.last, last != UInt8(ascii: "-") { bytes.append(UInt8(ascii: "-")) }
                }
            }
            while bytes.last == UInt8(ascii: "-") { bytes.removeLast() }
            return String(decoding: bytes, as: UTF8.self)
        }
        var result = ""
        for scalar in text.lowercased().unicodeScalars {
            if ("a"..."z").contains(scalar) || ("0"..."9").contains(scalar) {
                result.unicodeScalars.append(scalar)
            } else if !result.isEmpty, !result.hasSuffix("-") {
                result += "-"
            }
        }
        while result.hasSuffix("-") { result.removeLast() }
        return result
    }

    /// One value of a fixed vocabulary given as an enum, e.g. a status or a sector.
    public static func oneOf<Value: RawRepresentable & CaseIterable>(
        _ value: String, _ type: Value.Type, field: String
    ) throws(ConcordError) -> Value where Value.RawValue == String {
        let text = try Self.oneOf(value, Value.allCases.map(\.rawValue), field: field)
        return Value(rawValue: text)!
    }
}
