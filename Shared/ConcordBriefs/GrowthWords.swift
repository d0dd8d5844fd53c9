import ConcordTradeCodes
import ConcordWords

/// How a computed growth figure reads wherever it is shown (the trade report, the brief on a
/// terminal, the HTML brief), in the reader's language, so that a like-for-like figure never
/// reads as a whole-span one.
package struct GrowthWords {
    package let words: Words

    package init(words: Words) {
        self.words = words
    }

    /// "+6.7%", "-0.3%" (as the language writes it), or nil when there is no figure.
    package func change(_ figure: GrowthFigure) -> String? {
        figure.changePercent.map { self.words.percent($0) }
    }

    /// The figure and what it covers: "+5.0% like for like over 8 of 9 months", "+6.7%", or why
    /// there is none.
    package func headline(_ figure: GrowthFigure) -> String {
        switch figure.basis {
        case .wholeSpan:
            return self.change(figure) ?? self.words(.noFigure, self.reason(figure.reason))
        case .likeForLike:
            return self.words(.likeForLike, self.change(figure) ?? "", self.words.integer(figure.monthsCompared), self.words.integer(figure.monthsAsked))
        case .none:
            return self.words(.noFigure, self.reason(figure.reason))
        }
    }

    /// The sums the figure compares: "840 against 800 USD".
    package func sums(_ figure: GrowthFigure) -> String? {
        guard figure.basis != .none else { return nil }
        return self.words(.sumsAgainst, self.words.number(figure.comparedCurrent ?? "-"), self.words.number(figure.comparedBase ?? "-"))
    }

    /// Each month left out of the comparison, and the side that lacks it.
    package func leftOut(_ figure: GrowthFigure) -> String? {
        guard !figure.leftOut.isEmpty else {
            let missing = figure.current.monthsMissing + figure.base.monthsMissing
            return missing.isEmpty ? nil : self.words(.monthsMissingList, missing.map { self.words.date($0) }.joined(separator: ", "))
        }
        return self.words(.leftOut, figure.leftOut.map { gap in
            let current = self.words.date(gap.current)
            let base = self.words.date(gap.base)
            return switch gap.missingIn {
            case .current: self.words(.leftOutCurrent, current, base)
            case .base: self.words(.leftOutBase, base, current)
            case .both: self.words(.leftOutBoth, current, base)
            }
        }.joined(separator: "; "))
    }

    package func reason(_ reason: NoFigureReason?) -> String {
        switch reason {
        case .noCommonMonth?: self.words(.reasonNoCommonMonth)
        case .spansDifferInLength?: self.words(.reasonSpansDiffer)
        case .zeroBase?: self.words(.reasonZeroBase)
        case nil: self.words(.reasonNoData)
        }
    }

    /// Beside a stated figure: said only when the computed one covers fewer months.
    package func besideStated(_ figure: GrowthFigure) -> String? {
        guard figure.basis == .likeForLike else { return nil }
        return self.words(.besideStated, self.words.integer(figure.monthsCompared), self.words.integer(figure.monthsAsked))
    }
}
