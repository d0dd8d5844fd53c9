/// A span set against its base span month by month, so that a figure compares like with like:
/// the first month of one against the first of the other (January against January when the base
/// is the same months a year earlier), and so on. A pair counts only when both of its months have
/// data; every other pair is named, with the side that lacks it.
///
/// Monthly trade data is routinely a month or two late. Summing 8 months against 9 reports the
/// missing month as a fall; comparing the 8 pairs both spans have does not.
public struct LikeForLike: Sendable, Equatable {
    /// One month of the span and the base month it is compared with, both YYYY-MM.
    public struct Pair: Codable, Sendable, Equatable {
        public var current: String
        public var base: String

        public init(current: String, base: String) {
            self.current = current
            self.base = base
        }
    }

    /// Which side of a pair has no data.
    public enum Side: String, Codable, Sendable {
        case current, base, both
    }

    /// A pair left out of the comparison, and why.
    public struct LeftOut: Codable, Sendable, Equatable {
        public var current: String
        public var base: String
        public var missingIn: Side

        public init(current: String, base: String, missingIn: Side) {
            (self.current, self.base, self.missingIn) = (current, base, missingIn)
        }
    }

    /// Pairs where both months have data, in span order (their indexes into the spans).
    public private(set) var compared: [Int] = []
    public private(set) var gaps: [Gap] = []
    /// The span's length: the M of "N of M months".
    public let asked: Int
    /// Spans of different lengths have no month-by-month pairing.
    public let aligned: Bool

    /// A pair left out, by its index into the spans.
    public struct Gap: Sendable, Equatable {
        public var index: Int
        public var missingIn: Side
    }

    /// `currentLength` and `baseLength` months; `present(i)` says whether the i-th month of each
    /// span has data.
    public init(currentLength: Int, baseLength: Int, present: (Int) -> (current: Bool, base: Bool)) {
        self.asked = currentLength
        self.aligned = currentLength == baseLength
        guard self.aligned else { return }
        for index in 0..<currentLength {
            switch present(index) {
            case (true, true): self.compared.append(index)
            case (false, true): self.gaps.append(Gap(index: index, missingIn: .current))
            case (true, false): self.gaps.append(Gap(index: index, missingIn: .base))
            case (false, false): self.gaps.append(Gap(index: index, missingIn: .both))
            }
        }
    }
}

/// How a growth figure was reached: over the whole span (both spans complete), like for like over
/// the months both spans have, or not at all.
public enum GrowthBasis: String, Codable, Sendable {
    case wholeSpan = "whole-span"
    case likeForLike = "like-for-like"
    case none

    /// The rule, in one place for one series and for every series at once: the whole spans
    /// when both are complete; else the months both have, when the spans pair month by month and
    /// share one at least; never over a zero base.
    public static func decide(complete: Bool, aligned: Bool, monthsCompared: Int, comparedBase: Int64) -> (basis: GrowthBasis, reason: NoFigureReason?) {
        let basis: GrowthBasis
        if complete {
            basis = .wholeSpan
        } else if !aligned {
            return (.none, .spansDifferInLength)
        } else if monthsCompared == 0 {
            return (.none, .noCommonMonth)
        } else {
            basis = .likeForLike
        }
        return comparedBase == 0 ? (.none, .zeroBase) : (basis, nil)
    }
}

/// Why no growth figure could be given.
public enum NoFigureReason: String, Codable, Sendable {
    /// No month of the span has data in both spans.
    case noCommonMonth = "no-common-month"
    /// The spans differ in length and one lacks a month: no month-by-month pairing exists.
    case spansDifferInLength = "spans-differ-in-length"
    /// The base span's sum is zero: a change in percent is undefined.
    case zeroBase = "zero-base"
}
