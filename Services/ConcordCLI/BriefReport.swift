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
struct SessionBrief: Decodable {
    struct Session: Decodable {
        var number: Int
        var startDate: String?
        var city: String?
        var hostCountry: String?
        var coChairs: [String]?
    }

    struct Attendee: Decodable {
        struct Attendance: Decodable { var role: String }
        struct Official: Decodable {
            var id: String?
            var name: String
            var localNames: [String: String]?
            var title: String?

            /// The name in the reader's language where the record has it.
            func name(in language: Language) -> String { self.localNames?[language.rawValue] ?? self.name }
        }
        var attendance: Attendance
        var official: Official
    }

    struct Action: Decodable {
        var id: String
        var title: String
        var due: String?
        var status: String
        var progress: Int?
        var owner: [String: String]
    }

    struct Instrument: Decodable {
        var id: String
        var kind: String
        var title: String
        var localTitles: [String: String]?
        var status: String

        /// The title in the reader's language where the record has it.
        func title(in language: Language) -> String { self.localTitles?[language.rawValue] ?? self.title }
    }

    struct Obstacle: Decodable {
        var id: String
        var title: String
        var category: String
        var status: String
    }

    struct Item: Decodable {
        var instrument: Instrument
        var openActions: [Action]
        var overdueActions: [Action]
        var blockingObstacles: [Obstacle]
    }

    struct FollowUp: Decodable {
        var asOf: String
        var items: [Item]
        var sessionActions: [Action]
        var obstacles: [Obstacle]
    }

    struct Stated: Decodable {
        var flow: String
        var measure: String
        var value: String
        var unit: String
        var reporter: String
        var partner: String
        var from: String
        var to: String
        var baseFrom: String?
        var baseTo: String?
        var statedBy: String?
        var source: String
    }

    struct Growth: Decodable {
        var computed: [GrowthFigure]
        var note: String?
    }

    struct Headline: Decodable {
        var stated: Stated
        var computed: Growth?
    }

    struct Indicator: Decodable {
        struct Value: Decodable { var value: String; var date: String }
        struct Inner: Decodable { var title: String; var measure: String; var baseline: Value?; var target: Value? }
        var indicator: Inner
        var actual: Growth?
    }

    var number: Int
    var indicators: [Indicator]?
    var session: Session?
    var attendees: [Attendee]?
    var followup: FollowUp?
    var trade: [Headline]?
    var missing: [MissingPart]
    /// Officials the brief names by id (owners, speakers), looked up in participants by the
    /// command; not part of the answer.
    var lookedUp = OfficialLookup()

    struct OfficialLookup {
        var known: [String: Attendee.Official] = [:]
        var unknown: Set<String> = []
    }

    enum CodingKeys: String, CodingKey {
        case number, indicators, session, attendees, followup, trade, missing
    }

    /// The officials the brief names by id who are not among its attendees.
    var officialsToLookUp: Set<String> {
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
    func official(_ id: String, _ words: Words) -> String {
        self.owner(["official": id], words)
    }

    /// The report, lines for a terminal `width` wide, in the language of `words`.
    func render(width: Int, words: Words = Words(.en)) -> String {
        var out: [String] = []
        let rule = String(repeating: "─", count: max(20, min(width, 100)))
        let growth = GrowthWords(words: words)
        let comma = words.language == .fa ? "، " : ", "
        if let session {
            let place = [session.city, session.hostCountry.map { "(\($0))" }].compactMap { $0 }.joined(separator: " ")
            out.append(words(.session, words.integer(session.number)) + (session.startDate.map { comma + words.date($0, withGregorian: true) } ?? "")
                + (place.isEmpty ? "" : comma + place))
        } else {
            out.append(words(.session, words.integer(self.number)))
        }
        out.append(rule)
        if let attendees {
            let chairs = attendees.filter { $0.attendance.role == "co-chair" }
            out.append(Self.pad(words(.coChairs), 12) + chairs.map { $0.official.name(in: words.language) }.joined(separator: " · "))
            for attendee in attendees where attendee.attendance.role != "co-chair" {
                let role = words.language == .en ? attendee.attendance.role.capitalized : words.label(.attendanceRole, attendee.attendance.role).capitalizedFirst
                out.append(Self.pad(role, 12) + attendee.official.name(in: words.language) + (attendee.official.title.map { comma + $0 } ?? ""))
            }
        }
        if let followup {
            out.append("")
            out.append(words(.itemsAgreed) + " (" + words(.asOf, words.date(followup.asOf)) + ")")
            for item in followup.items {
                out.append("  [\(words.label(.instrumentStatus, item.instrument.status))] \(item.instrument.title(in: words.language)) (\(words.label(.instrumentKind, item.instrument.kind)))")
                for action in item.overdueActions {
                    out.append("      \(words(.overdueUpper))  \(action.title)\(comma)\(words(.dueOn, action.due.map { words.date($0) } ?? "-"))\(comma)"
                        + "\(words.percent(String(action.progress ?? 0), signed: false))\(comma)\(self.owner(action.owner, words))")
                }
                for action in item.openActions where !item.overdueActions.contains(where: { $0.id == action.id }) {
                    out.append("      \(Self.pad(words(.openLabel), 8)) \(action.title)" + (action.due.map { comma + words(.dueOn, words.date($0)) } ?? "")
                        + "\(comma)\(words.percent(String(action.progress ?? 0), signed: false))\(comma)\(self.owner(action.owner, words))")
                }
                for obstacle in item.blockingObstacles {
                    out.append("      " + words(.blockedByLower, obstacle.title))
                }
            }
            for action in followup.sessionActions {
                out.append("  [\(words(.actionWithStatus, words.label(.actionStatus, action.status)))] \(action.title)\(comma)\(self.owner(action.owner, words))"
                    + comma + (action.due.map { words(.dueOn, words.date($0)) } ?? words(.noDueDate)))
            }
            out.append("")
            out.append(words(.obstaclesRaised))
            for obstacle in followup.obstacles {
                out.append("  [\(words.label(.obstacleStatus, obstacle.status))] \(obstacle.title) (\(words.label(.obstacleCategory, obstacle.category)))")
            }
        }
        if let trade {
            out.append("")
            out.append(words(.trade))
            if trade.isEmpty { out.append("  " + words(.noFigureStated)) }
            for headline in trade {
                let stated = headline.stated
                out.append("  " + words(.statedLine, stated.figure(words), "\(stated.reporter)–\(stated.partner)", stated.spans(words))
                    + (stated.statedBy.map { comma + words(.byWhom, self.official($0, words)) } ?? ""))
                guard let answer = headline.computed else { continue }
                if answer.computed.isEmpty {
                    out.append("  \(words(.computedLabel)): \(words(.noObservations))")
                }
                for computed in answer.computed {
                    out.append("  \(words(.computedLabel)): \(growth.headline(computed)) (\(computed.source))" + (growth.sums(computed).map { ": " + $0 } ?? "")
                        + (computed.synthetic ? words(.syntheticMark) : ""))
                    if let beside = growth.besideStated(computed) { out.append("            " + beside) }
                    if let gaps = growth.leftOut(computed) { out.append("            " + gaps) }
                }
            }
        }
        if let indicators, !indicators.isEmpty {
            out.append("")
            out.append(words(.indicatorsBound))
            for line in self.indicatorLines(words) { out.append("  " + line) }
        }
        if !self.missing.isEmpty {
            out.append("")
            out.append(words(.missingFromBrief))
            for missing in self.missing { out.append("  \(missing.part) (\(missing.service)): \(missing.code): \(missing.message)") }
        }
        return Table.wrapLines(out, width: width)
    }

    /// Each bound indicator: its target beside the actual trade-metrics computes.
    func indicatorLines(_ words: Words = Words(.en)) -> [String] {
        let growth = GrowthWords(words: words)
        return (self.indicators ?? []).map { bound in
            let indicator = bound.indicator
            var line = "\(indicator.title): " + words(.indicatorTarget, indicator.target.map { words(.indicatorTargetBy, words.number($0.value), indicator.measure, words.date($0.date)) } ?? "-")
                + (indicator.baseline.map { " (" + words(.indicatorBaseline, words.number($0.value), words.date($0.date)) + ")" } ?? "")
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

    static func owner(_ owner: [String: String]) -> String {
        owner.sorted { $0.key < $1.key }.map { $0.value }.joined()
    }

    /// An action's owner as a person reads it: an official by name in the reader's language,
    /// or "unknown official `id`" when participants has none (a dangling reference); an
    /// organisation, a region or a country as recorded.
    func owner(_ owner: [String: String], _ words: Words) -> String {
        guard let id = owner["official"] else { return Self.owner(owner) }
        if self.lookedUp.unknown.contains(id) { return words(.unknownOfficial, id) }
        if let official = self.lookedUp.known[id] ?? self.attendees?.first(where: { $0.official.id == id })?.official {
            return official.name(in: words.language)
        }
        return id
    }

    static func pad(_ text: String, _ width: Int) -> String {
        text.count >= width ? text + " " : text + String(repeating: " ", count: width - text.count)
    }

    /// 3509020800.72 as 3,509,020,800.72.
    static func grouped(_ decimal: String) -> String { Words(.en).number(decimal) }
}

extension String {
    /// The first letter in capitals, the rest as it is: "посол" as "Посол".
    var capitalizedFirst: String { self.prefix(1).uppercased() + self.dropFirst() }
}
