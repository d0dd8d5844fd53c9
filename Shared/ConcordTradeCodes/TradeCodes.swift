import ConcordFields
import ConcordProtocol

/// The codes an observation uses, checked against ISO 3166 (CountryTable, from Debian's
/// iso-codes) and UN Comtrade's vocabularies.
public enum TradeCodes {
    public static let alpha2 = Set(CountryTable.entries.map(\.alpha2))
    public static let byAlpha3 = Dictionary(uniqueKeysWithValues: CountryTable.entries.map { ($0.alpha3, $0.alpha2) })
    public static let byNumeric = Dictionary(uniqueKeysWithValues: CountryTable.entries.map { ($0.numeric, $0.alpha2) })
    /// Comtrade's partner "World" (code 0).
    public static let world = "W0"

    /// Comtrade's flows: imports, exports, re-imports, re-exports (re-flows are within M and X).
    public enum Flow: String, CaseIterable, Sendable {
        case imports = "M", exports = "X", reImports = "RM", reExports = "RX"
    }

    /// A reporter or partner: an ISO 3166-1 alpha-2 country, an ISO 3166-2 region (where a
    /// source reports by region), or, for a partner, `W0` (the world).
    public static func area(_ value: String, field: String, worldAllowed: Bool) throws(ConcordError) -> String {
        // The common case: two upper-case letters, a known country.
        if value.utf8.count == 2, value.utf8.allSatisfy({ (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains($0) }), Self.alpha2.contains(value) {
            return value
        }
        let code = value.trimmingSpaces().uppercasedIfNeeded()
        if worldAllowed, code == Self.world { return code }
        if code.count == 2 {
            guard Self.alpha2.contains(code) else {
                throw ConcordError(.badRequest, "\(field) '\(value)' is not an ISO 3166-1 country code", field: field, rule: .form(.countryCode, got: value))
            }
            return code
        }
        let region = try FieldRules.regionCode(code, field: field)
        guard Self.alpha2.contains(String(region.prefix(2))) else {
            throw ConcordError(.badRequest, "\(field) '\(value)' is not in an ISO 3166-1 country", field: field, rule: .form(.regionCode, got: value))
        }
        guard RegionTable.codes.contains(region) else {
            throw ConcordError(
                .badRequest, "\(field) '\(value)' is not an ISO 3166-2 subdivision of \(region.prefix(2)) (such as \(Self.example(in: region.prefix(2))))",
                field: field, rule: .form(.regionCode, got: value)
            )
        }
        return region
    }

    /// A subdivision of `country`, for an error message.
    static func example(in country: Substring) -> String {
        RegionTable.codes.filter { $0.hasPrefix(country + "-") }.min() ?? "IR-01"
    }

    /// `TOTAL`, or an HS code of 2, 4 or 6 digits.
    public static func commodity(_ value: String?, field: String) throws(ConcordError) -> String {
        let code = (value ?? "TOTAL").trimmingSpaces().uppercasedIfNeeded()
        if code == "TOTAL" { return code }
        guard [2, 4, 6].contains(code.count), code.unicodeScalars.allSatisfy({ ("0"..."9").contains($0) }) else {
            throw ConcordError(
                .badRequest, "\(field) must be TOTAL or an HS code of 2, 4 or 6 digits; got '\(value ?? "")'", field: field,
                rule: .form(.commodity, got: value ?? "")
            )
        }
        return code
    }

    /// A period as Comtrade writes it: YYYY (annual) or YYYYMM (monthly); returns it with its
    /// frequency.
    public static func period(_ value: String, field: String) throws(ConcordError) -> (period: String, frequency: String) {
        // The common case, read as bytes: YYYYMM, a month of a year in range.
        if value.utf8.count == 6, value.utf8.allSatisfy({ (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) }) {
            let digits = value.utf8.map { Int($0 - UInt8(ascii: "0")) }
            let year = digits[0] * 1000 + digits[1] * 100 + digits[2] * 10 + digits[3]
            let month = digits[4] * 10 + digits[5]
            if PartialDate.years.contains(year), (1...12).contains(month) { return (value, "M") }
        }
        let text = value.trimmingSpaces()
        let digits = text.unicodeScalars.allSatisfy { ("0"..."9").contains($0) }
        if digits, text.count == 4, let year = Int(text), PartialDate.years.contains(year) { return (text, "A") }
        if digits, text.count == 6, let year = Int(text.prefix(4)), let month = Int(text.suffix(2)),
           PartialDate.years.contains(year), (1...12).contains(month) {
            return (text, "M")
        }
        throw ConcordError(
            .badRequest, "\(field) must be YYYY or YYYYMM, as Comtrade writes periods; got '\(value)'", field: field, rule: .form(.period, got: value)
        )
    }

    /// Every month (YYYYMM) from `from` to `to` (both YYYYMM); nil when there are more than
    /// `limit` of them.
    public static func months(from: String, to: String, limit: Int) -> [String]? {
        guard var year = Int(from.prefix(4)), var month = Int(from.suffix(2)) else { return [] }
        var months: [String] = []
        while true {
            let text = String(year) + (month < 10 ? "0" : "") + String(month)
            guard text <= to else { return months }
            guard months.count < limit else { return nil }
            months.append(text)
            month += 1
            if month > 12 { month = 1; year += 1 }
        }
    }

    /// `YYYY-MM` (a span's month, as people write it) to `YYYYMM`.
    public static func month(_ value: String, field: String) throws(ConcordError) -> String {
        let date = try PartialDate(parsing: value, field: field)
        guard let month = date.month, date.day == nil else {
            throw ConcordError(.badRequest, "\(field) must be a month, YYYY-MM; got '\(value)'", field: field, rule: .form(.month, got: value))
        }
        return String(date.year) + (month < 10 ? "0" : "") + String(month)
    }
}

/// Money and measures as exact integers of thousandths: "3300000000.5" is 3300000000500.
/// No binary floating point touches a stored value or a sum.
public enum Milli {
    public static func parse(_ decimal: String) -> Int64? {
        // Read from the string's storage: iterating the UTF-8 view of a short string costs more
        // than the arithmetic (an import parses millions).
        var text = decimal
        return text.withUTF8 { Self.parse(bytes: $0[...]) }
    }

    private static func parse(bytes: Slice<UnsafeBufferPointer<UInt8>>) -> Int64? {
        var utf8 = bytes
        let negative = utf8.first == UInt8(ascii: "-")
        if negative { utf8 = utf8.dropFirst() }
        var whole: Int64 = 0
        var fraction: Int64 = 0
        var wholeDigits = 0
        var fractionDigits = 0
        var point = false
        for byte in utf8 {
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"):
                let digit = Int64(byte - UInt8(ascii: "0"))
                if point {
                    fractionDigits += 1
                    guard fractionDigits <= 3 else { return nil }
                    fraction = fraction * 10 + digit
                } else {
                    wholeDigits += 1
                    let (times, overflow) = whole.multipliedReportingOverflow(by: 10)
                    guard !overflow, case let (sum, carry) = times.addingReportingOverflow(digit), !carry else { return nil }
                    whole = sum
                }
            case UInt8(ascii: ".") where !point:
                point = true
            default:
                return nil
            }
        }
        guard wholeDigits > 0 else { return nil }
        while fractionDigits < 3 {
            fraction *= 10
            fractionDigits += 1
        }
        let (scaled, overflow) = whole.multipliedReportingOverflow(by: 1000)
        guard !overflow, case let (value, carry) = scaled.addingReportingOverflow(fraction), !carry else { return nil }
        return negative ? -value : value
    }

    /// Thousandths back to a decimal with no trailing zeros: 3300000000500 is "3300000000.5".
    public static func format(_ milli: Int64) -> String {
        let magnitude = milli.magnitude
        var text = milli < 0 ? "-" + String(magnitude / 1000) : String(magnitude / 1000)
        var fraction = Int(magnitude % 1000)
        guard fraction != 0 else { return text }
        var digits = 3
        while fraction % 10 == 0 {
            fraction /= 10
            digits -= 1
        }
        text += "."
        let written = String(fraction)
        if written.utf8.count < digits { text += String(repeating: "0", count: digits - written.utf8.count) }
        return text + written
    }

    /// The change from `base` to `current` in percent, rounded half away from zero to one
    /// decimal: exact integer arithmetic.
    public static func percentChange(from base: Int64, to current: Int64) -> String? {
        guard base != 0 else { return nil }
        let tenths = (Int128(current) - Int128(base)) * 1000
        var quotient = tenths / Int128(base)
        let remainder = tenths % Int128(base)
        if (remainder * 2).magnitude >= Int128(base).magnitude { quotient += (tenths < 0) != (base < 0) ? -1 : 1 }
        let negative = quotient < 0
        let magnitude = quotient.magnitude
        return (negative ? "-" : "") + String(magnitude / 10) + "." + String(magnitude % 10)
    }

    /// `part` of `whole` in percent to one decimal, rounded half up (both non-negative).
    public static func share(_ part: Int64, of whole: Int64) -> String? {
        guard whole > 0, part >= 0 else { return nil }
        let tenths = (Int128(part) * 1000 + Int128(whole) / 2) / Int128(whole)
        return String(tenths / 10) + "." + String(tenths % 10)
    }

    /// `a / b` to three decimals, rounded half up (both positive).
    public static func ratio(_ a: Int64, _ b: Int64) -> String? {
        guard b > 0, a >= 0 else { return nil }
        let scaled = (Int128(a) * 1000 + Int128(b) / 2) / Int128(b)
        var fraction = String(scaled % 1000)
        while fraction.count < 3 { fraction = "0" + fraction }
        return String(scaled / 1000) + "." + fraction
    }
}
