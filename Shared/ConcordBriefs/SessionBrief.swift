#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import ConcordTradeCodes
import ConcordWords
import NIOCore
import ConcordWire

/// `brief.session` as a person reads it on a terminal: the session, its co-chairs and
/// attendees, each item with its status and its open and overdue actions, the obstacles, and
/// the trade headline with the stated figure beside the computed one. Programs get the JSON
/// (`--json`, or whenever standard output is not a terminal).
package struct SessionBrief: Decodable {
    package struct Session: Decodable {
        package var number: Int
        package var startDate: String?
        package var city: String?
        package var hostCountry: String?
        package var coChairs: [String]?
    }

    /// An attendee as the brief shows them: the role, and the official's names and title.
    package typealias Attendee = ConcordWire.Attendee<AttendanceView, OfficialView>

    package struct AttendanceView: Decodable { package var role: String }

    package struct OfficialView: Decodable {
        package var id: String?
        package var name: String
        package var localNames: [String: String]?
        package var title: String?

        /// The name in the reader's language where the record has it.
        package func name(in language: Language) -> String { self.localNames?[language.rawValue] ?? self.name }
    }

    package struct Action: Decodable {
        package var id: String
        package var title: String
        package var due: String?
        package var status: String
        package var progress: Int?
        package var owner: [String: String]
    }

    package struct Instrument: Decodable {
        package var id: String
        package var kind: String
        package var title: String
        package var localTitles: [String: String]?
        package var status: String

        /// The title in the reader's language where the record has it.
        package func title(in language: Language) -> String { self.localTitles?[language.rawValue] ?? self.title }
    }

    package struct Obstacle: Decodable {
        package var id: String
        package var title: String
        package var category: String
        package var status: String
    }

    /// `agreements.followup` as the brief reads it (indicators come checked, under `indicators`).
    package typealias FollowUp = SessionFollowUp<Instrument, Action, Obstacle, Unread>

    package struct Stated: Decodable {
        package var flow: String
        package var measure: String
        package var value: String
        package var unit: String
        package var reporter: String
        package var partner: String
        package var from: String
        package var to: String
        package var baseFrom: String?
        package var baseTo: String?
        package var statedBy: String?
        package var source: String
    }

    package typealias Growth = GrowthAnswer<Stated>
    package typealias Headline = TradeHeadline<Stated>

    /// An indicator bound to a trade series, as agreements gives it, beside the growth
    /// trade-metrics computes for its question.
    package struct Indicator: Decodable {
        package var indicator: IndicatorCheck.Indicator
        package var actual: Growth?
    }

    package var number: Int
    package var indicators: [Indicator]?
    package var session: Session?
    package var attendees: [Attendee]?
    package var followup: FollowUp?
    package var trade: [Headline]?
    package var missing: [MissingPart]
    /// Officials the brief names by id (owners, speakers), looked up in participants by the
    /// command; not part of the answer.
    package var lookedUp = OfficialLookup()

    package struct OfficialLookup {
        package var known: [String: OfficialView] = [:]
        package var unknown: Set<String> = []

        package init() {}
    }

    package enum CodingKeys: String, CodingKey {
        case number, indicators, session, attendees, followup, trade, missing
    }

    /// The officials the brief names by id who are not among its attendees.
    package var officialsToLookUp: Set<String> {
        var ids: Set<String> = []
        for item in self.followup?.items ?? [] {
            for action in item.openActions + item.overdueActions { if let id = action.owner["official"] { ids.insert(id) } }
        }
        for action in self.followup?.sessionActions ?? [] { if let id = action.owner["official"] { ids.insert(id) } }
        for headline in self.trade ?? [] { if let id = headline.stated.statedBy { ids.insert(id) } }
        return ids.subtracting((self.attendees ?? []).compactMap(\.official.id))
    }

    /// An official the brief names by id (a stated figure's speaker), by name in the reader's
    /// language when the session's attendees include them; else the id.
    package func official(_ id: String, _ words: Words) -> String {
        self.owner(["official": id], words)
    }

    /// Each bound indicator: its target beside the actual trade-metrics computes.
    package func indicatorLines(_ words: Words = Words(.en)) -> [String] {
        let growth = GrowthWords(words: words)
        return (self.indicators ?? []).map { bound in
            let indicator = bound.indicator
            let (target, baseline) = (indicator.target, indicator.baseline)
            var line = "\(indicator.title): " + words(.indicatorTarget, words(.indicatorTargetBy, words.number(target.value), indicator.measure, words.date(target.date)))
                + " (" + words(.indicatorBaseline, words.number(baseline.value), words.date(baseline.date)) + ")"
            guard let computed = bound.actual?.computed.first else { return line + "; " + words(.indicatorNoActual) }
            line += "; " + words(.indicatorActual, words.number(computed.current.value ?? "-"))
            switch computed.basis {
            case .wholeSpan: line += growth.change(computed).map { " (" + words(.onBaselinePeriod, $0) + ")" } ?? ""
            case .likeForLike: line += " (" + words(.onBaselinePeriod, growth.headline(computed)) + ")"
            case .none: line += " (\(growth.headline(computed)))"
            }
            if !computed.current.monthsMissing.isEmpty { line += ", " + words.plural(.monthsMissingCount, computed.current.monthsMissing.count) }
            return line + (computed.synthetic ? ", " + words(.synthetic) : "")
        }
    }

    package static func owner(_ owner: [String: String]) -> String {
        owner.sorted { $0.key < $1.key }.map { $0.value }.joined()
    }

    /// An action's owner as a person reads it: an official by name in the reader's language,
    /// or "unknown official `id`" when participants has none (a dangling reference); an
    /// organisation, a region or a country as recorded.
    package func owner(_ owner: [String: String], _ words: Words) -> String {
        guard let id = owner["official"] else { return Self.owner(owner) }
        if self.lookedUp.unknown.contains(id) { return words(.unknownOfficial, id) }
        if let official = self.lookedUp.known[id] ?? self.attendees?.first(where: { $0.official.id == id })?.official {
            return official.name(in: words.language)
        }
        return id
    }

    package static func pad(_ text: String, _ width: Int) -> String {
        text.count >= width ? text + " " : text + String(repeating: " ", count: width - text.count)
    }

    /// 3509020800.72 as 3,509,020,800.72.
    package static func grouped(_ decimal: String) -> String { Words(.en).number(decimal) }
}

package extension String {
    /// The first letter in capitals, the rest as it is: "посол" as "Посол".
    package var capitalizedFirst: String { self.prefix(1).uppercased() + self.dropFirst() }
}
