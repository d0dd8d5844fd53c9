#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import ConcordProtocol

/// A date known to the year, the month or the day (`2025`, `2025-12`, `2025-12-10`), as public
/// reporting gives them. Years run 1900 to 2100.
public struct PartialDate: Sendable, Hashable, Comparable, CustomStringConvertible {
    public var year: Int
    public var month: Int?
    public var day: Int?

    public static let years = 1900...2100

    public init(parsing text: String, field: String) throws(ConcordError) {
        let parts = text.split(separator: "-", omittingEmptySubsequences: false)
        let wellFormed = (1...3).contains(parts.count)
            && parts[0].count == 4
            && parts.dropFirst().allSatisfy { $0.count == 2 }
            && parts.allSatisfy { $0.allSatisfy(\.isASCII) && $0.allSatisfy(\.isNumber) }
        guard wellFormed else {
            throw ConcordError(
                .badRequest, "\(field) must be a date as YYYY, YYYY-MM or YYYY-MM-DD; got '\(text)'", field: field, rule: .form(.date, got: text)
            )
        }
        let year = Int(parts[0])!
        guard Self.years.contains(year) else {
            throw ConcordError(
                .badRequest, "\(field) year \(year) is out of range (\(Self.years.lowerBound)-\(Self.years.upperBound))", field: field,
                rule: .range(low: String(Self.years.lowerBound), high: String(Self.years.upperBound), got: String(parts[0]), part: .year)
            )
        }
        self.year = year
        if parts.count > 1 {
            let month = Int(parts[1])!
            guard (1...12).contains(month) else {
                throw ConcordError(
                    .badRequest, "\(field) month \(month) is out of range (01-12)", field: field, rule: .range(low: "01", high: "12", got: String(parts[1]), part: .month)
                )
            }
            self.month = month
        }
        if parts.count > 2, let month = self.month {
            let day = Int(parts[2])!
            let length = Self.daysIn(month: month, year: year)
            guard (1...length).contains(day) else {
                throw ConcordError(
                    .badRequest, "\(field) day \(day) is out of range for \(text.prefix(7)) (01-\(length))", field: field,
                    rule: .range(low: "01", high: String(length), got: String(parts[2]), part: .day)
                )
            }
            self.day = day
        }
    }

    public static func daysIn(month: Int, year: Int) -> Int {
        switch month {
        case 2: (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }

    public var description: String {
        var text = Self.zeroPadded(self.year, width: 4)
        if let month { text += "-" + Self.zeroPadded(month, width: 2) }
        if let day { text += "-" + Self.zeroPadded(day, width: 2) }
        return text
    }

    /// `n` in decimal with leading zeros up to `width` digits; years are 1900-2100, so never negative.
    private static func zeroPadded(_ n: Int, width: Int) -> String {
        let digits = String(n)
        return String(repeating: "0", count: max(0, width - digits.count)) + digits
    }

    public static func < (lhs: PartialDate, rhs: PartialDate) -> Bool {
        (lhs.year, lhs.month ?? 0, lhs.day ?? 0) < (rhs.year, rhs.month ?? 0, rhs.day ?? 0)
    }

    /// The last day the date covers: a year ends on 31 December, a month on its last day. A
    /// partial due date is due at the end of its month or year.
    public var lastDay: (year: Int, month: Int, day: Int) {
        let month = self.month ?? 12
        return (self.year, month, self.day ?? Self.daysIn(month: month, year: self.year))
    }

    /// `lastDay` as YYYY-MM-DD, which sorts and compares as text.
    public var lastDayText: String {
        let (year, month, day) = self.lastDay
        return Self.zeroPadded(year, width: 4) + "-" + Self.zeroPadded(month, width: 2) + "-" + Self.zeroPadded(day, width: 2)
    }

    /// Normalises an optional date field.
    public static func optional(_ text: String?, field: String) throws(ConcordError) -> String? {
        guard let text, !text.isEmpty else { return nil }
        return try PartialDate(parsing: text, field: field).description
    }
}
