#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import ConcordTradeCodes
import NIOCore

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
        struct Official: Decodable { var id: String?; var name: String; var title: String? }
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
        var status: String
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

    struct Missing: Decodable {
        var part: String
        var service: String
        var code: String
        var message: String
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
    var missing: [Missing]

    /// The report, lines for a terminal `width` wide.
    func render(width: Int) -> String {
        var out: [String] = []
        let rule = String(repeating: "─", count: max(20, min(width, 100)))
        if let session {
            let place = [session.city, session.hostCountry.map { "(\($0))" }].compactMap { $0 }.joined(separator: " ")
            out.append("Session \(session.number)" + (session.startDate.map { ", \($0)" } ?? "") + (place.isEmpty ? "" : ", \(place)"))
        } else {
            out.append("Session \(self.number)")
        }
        out.append(rule)
        if let attendees {
            let chairs = attendees.filter { $0.attendance.role == "co-chair" }
            out.append("Co-chairs   " + chairs.map { $0.official.name }.joined(separator: " · "))
            for attendee in attendees where attendee.attendance.role != "co-chair" {
                out.append(Self.pad(attendee.attendance.role.capitalized, 12) + attendee.official.name + (attendee.official.title.map { ", \($0)" } ?? ""))
            }
        }
        if let followup {
            out.append("")
            out.append("Items proposed or agreed (as of \(followup.asOf))")
            for item in followup.items {
                out.append("  [\(item.instrument.status)] \(item.instrument.title) (\(item.instrument.kind))")
                for action in item.overdueActions {
                    out.append("      OVERDUE  \(action.title), due \(action.due ?? "-"), \(action.progress ?? 0)%, \(Self.owner(action.owner))")
                }
                for action in item.openActions where !item.overdueActions.contains(where: { $0.id == action.id }) {
                    out.append("      open     \(action.title)" + (action.due.map { ", due \($0)" } ?? "") + ", \(action.progress ?? 0)%, \(Self.owner(action.owner))")
                }
                for obstacle in item.blockingObstacles {
                    out.append("      blocked by \(obstacle.title)")
                }
            }
            for action in followup.sessionActions {
                out.append("  [action: \(action.status)] \(action.title), \(Self.owner(action.owner))" + (action.due.map { ", due \($0)" } ?? ", no due date"))
            }
            out.append("")
            out.append("Obstacles raised")
            for obstacle in followup.obstacles {
                out.append("  [\(obstacle.status)] \(obstacle.title) (\(obstacle.category))")
            }
        }
        if let trade {
            out.append("")
            out.append("Trade")
            if trade.isEmpty { out.append("  no figure was stated at this session") }
            for headline in trade {
                let stated = headline.stated
                let unit = stated.unit == "percent" ? "%" : " USD"
                let sign = stated.measure == "growth" && !stated.value.hasPrefix("-") ? "+" : ""
                out.append("  Stated:   \(sign)\(stated.value)\(unit), \(stated.reporter)–\(stated.partner), \(stated.from)..\(stated.to)"
                    + (stated.baseFrom.map { " against \($0)..\(stated.baseTo ?? "")" } ?? "") + (stated.statedBy.map { ", by \($0)" } ?? ""))
                guard let growth = headline.computed else { continue }
                if growth.computed.isEmpty {
                    out.append("  Computed: no observations for these months")
                }
                for computed in growth.computed {
                    out.append("  Computed: \(GrowthWords.headline(computed)) (\(computed.source))" + (GrowthWords.sums(computed).map { ": " + $0 } ?? "")
                        + (computed.synthetic ? " — SYNTHETIC data" : ""))
                    if let beside = GrowthWords.besideStated(computed) { out.append("            " + beside) }
                    if let gaps = GrowthWords.leftOut(computed) { out.append("            " + gaps) }
                }
            }
        }
        if let indicators, !indicators.isEmpty {
            out.append("")
            out.append("Indicators bound to trade data")
            for line in self.indicatorLines() { out.append("  " + line) }
        }
        if !self.missing.isEmpty {
            out.append("")
            out.append("Missing from this brief")
            for missing in self.missing { out.append("  \(missing.part) (\(missing.service)): \(missing.code): \(missing.message)") }
        }
        return Table.wrapLines(out, width: width)
    }

    /// Each bound indicator: its target beside the actual trade-metrics computes.
    func indicatorLines() -> [String] {
        (self.indicators ?? []).map { bound in
            let indicator = bound.indicator
            var line = "\(indicator.title): target \(indicator.target.map { "\(Self.grouped($0.value)) \(indicator.measure) by \($0.date)" } ?? "-")"
                + (indicator.baseline.map { " (baseline \(Self.grouped($0.value)) in \($0.date))" } ?? "")
            guard let computed = bound.actual?.computed.first else { return line + "; actual: no observations" }
            line += "; actual: \(Self.grouped(computed.current.value ?? "-")) USD"
            switch computed.basis {
            case .wholeSpan: line += GrowthWords.change(computed).map { " (\($0) on the baseline period)" } ?? ""
            case .likeForLike: line += " (\(GrowthWords.headline(computed)), on the baseline period)"
            case .none: line += " (\(GrowthWords.headline(computed)))"
            }
            if !computed.current.monthsMissing.isEmpty { line += ", \(computed.current.monthsMissing.count) months missing" }
            return line + (computed.synthetic ? ", SYNTHETIC data" : "")
        }
    }

    static func owner(_ owner: [String: String]) -> String {
        owner.sorted { $0.key < $1.key }.map { $0.value }.joined()
    }

    static func pad(_ text: String, _ width: Int) -> String {
        text.count >= width ? text + " " : text + String(repeating: " ", count: width - text.count)
    }

    /// 3509020800.72 as 3,509,020,800.72.
    static func grouped(_ decimal: String) -> String {
        let parts = decimal.split(separator: ".", maxSplits: 1)
        var whole = String(parts.first ?? "")
        let negative = whole.hasPrefix("-")
        if negative { whole.removeFirst() }
        var groups: [Substring] = []
        var end = whole.endIndex
        while end > whole.startIndex {
            let start = whole.index(end, offsetBy: -3, limitedBy: whole.startIndex) ?? whole.startIndex
            groups.insert(whole[start..<end], at: 0)
            end = start
        }
        return (negative ? "-" : "") + groups.joined(separator: ",") + (parts.count > 1 ? "." + parts[1] : "")
    }
}
