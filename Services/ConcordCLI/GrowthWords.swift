import ConcordTradeCodes

/// How a computed growth figure reads wherever it is shown (the trade report, the brief on a
/// terminal, the HTML brief), so that a like-for-like figure never reads as a whole-span one.
enum GrowthWords {
    /// "+6.7%", "-0.3%", or nil when there is no figure.
    static func change(_ figure: GrowthFigure) -> String? {
        figure.changePercent.map { ($0.hasPrefix("-") ? "" : "+") + $0 + "%" }
    }

    /// The figure and what it covers: "+5.0% like for like over 8 of 9 months", "+6.7%", or why
    /// there is none.
    static func headline(_ figure: GrowthFigure) -> String {
        switch figure.basis {
        case .wholeSpan: return Self.change(figure) ?? "no figure"
        case .likeForLike: return (Self.change(figure) ?? "") + " like for like over \(figure.monthsCompared) of \(figure.monthsAsked) months"
        case .none: return "no figure: " + Self.reason(figure.reason)
        }
    }

    /// The sums the figure compares: "840 against 800 USD".
    static func sums(_ figure: GrowthFigure) -> String? {
        guard figure.basis != .none else { return nil }
        return "\(Table.grouped(figure.comparedCurrent ?? "-")) against \(Table.grouped(figure.comparedBase ?? "-")) USD"
    }

    /// Each month left out of the comparison: "2025-09 (no data; against 2024-09)".
    static func leftOut(_ figure: GrowthFigure) -> String? {
        guard !figure.leftOut.isEmpty else {
            let missing = figure.current.monthsMissing + figure.base.monthsMissing
            return missing.isEmpty ? nil : "months missing: " + missing.joined(separator: ", ")
        }
        return "left out: " + figure.leftOut.map { gap in
            switch gap.missingIn {
            case .current: "\(gap.current) missing (and \(gap.base) with it)"
            case .base: "\(gap.base) missing (and \(gap.current) with it)"
            case .both: "\(gap.current) and \(gap.base) both missing"
            }
        }.joined(separator: "; ")
    }

    static func reason(_ reason: NoFigureReason?) -> String {
        switch reason {
        case .noCommonMonth?: "no month has data in both spans"
        case .spansDifferInLength?: "the spans differ in length and a month is missing"
        case .zeroBase?: "the base is zero"
        case nil: "no data"
        }
    }

    /// Beside a stated figure: said only when the computed one covers fewer months.
    static func besideStated(_ figure: GrowthFigure) -> String? {
        guard figure.basis == .likeForLike else { return nil }
        return "the computed figure covers \(figure.monthsCompared) of the \(figure.monthsAsked) months the statement covers"
    }
}
