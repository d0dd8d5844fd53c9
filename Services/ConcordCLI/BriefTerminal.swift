import ConcordBriefs
import ConcordWords

extension SessionBrief {
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
}
