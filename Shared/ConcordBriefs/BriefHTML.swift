import ConcordProtocol
import ConcordWords

/// `brief session N --html FILE`: one self-contained HTML page (no network, no external
/// assets): the session, co-chairs and attendees, items with status chips, actions with
/// progress bars and overdue marks, obstacles, and an inline SVG chart of monthly trade over the
/// two spans with the stated figure beside the computed one. It prints well, reads on a phone,
/// and lays Persian and Russian out in their own direction (`dir="auto"`).
///
/// Written by hand rather than with JohnSundell/Plot (the listed HTML library): Plot needs
/// Foundation, and the CLI links FoundationEssentials only (docker/README.md says why); the page
/// is small and every text goes through `escape`.
/// Text made safe to write into HTML.
private func escape(_ text: String) -> String { BriefHTML.escapeHTML(text) }

package struct BriefHTML {
    /// The language the page is written in.
    package let words: Words
    /// The session brief being written, for its looked-up officials.
    package var brief: SessionBrief?

    package init(words: Words, brief: SessionBrief? = nil) {
        self.words = words
        self.brief = brief
    }

    /// One month of the chart: the current span's value and the base span's, in USD.
    package struct Month {
        package var label: String
        package var current: Double?
        package var base: Double?

        package init(label: String, current: Double?, base: Double?) {
            self.label = label
            self.current = current
            self.base = base
        }
    }

    package static func escapeHTML(_ text: String) -> String {
        HTMLEscaping.escape(text)
    }

    package func render(_ brief: SessionBrief, months: [Month]) -> String {
        let (title, body) = self.body(brief, months: months)
        return self.page(title: title, body: body)
    }

    /// A progress bar, 0 to 100: drawn in SVG, not with an inline style, so a page under a
    /// strict content security policy (the console's) shows it too.
    package static func bar(_ progress: Int) -> String {
        "<svg class=\"bar\" viewBox=\"0 0 100 10\" preserveAspectRatio=\"none\" role=\"progressbar\" aria-valuenow=\"\(progress)\" aria-valuemin=\"0\" aria-valuemax=\"100\">"
            + "<rect class=\"track\" width=\"100\" height=\"10\"/><rect class=\"done\" width=\"\(progress)\" height=\"10\"/></svg>"
    }

    /// The session brief's title and the markup of its body, for a page of one's own.
    package func body(_ brief: SessionBrief, months: [Month]) -> (title: String, body: String) {
        let words = self.words
        let growth = GrowthWords(words: words)
        let comma = words.language == .fa ? "، " : ", "
        var body = ""
        let session = brief.session
        let title = words(.session, words.integer(session?.number ?? brief.number)) + (session?.startDate.map { comma + words.date($0, withGregorian: true) } ?? "")
            + (session?.city.map { comma + $0 } ?? "")
        body += "<header><h1>\(escape(title))</h1>"
        if let attendees = brief.attendees {
            let chairs = attendees.filter { $0.attendance.role == "co-chair" }
            body += "<p class=\"chairs\">\(escape(words(.coChairs))): " + chairs.map { "<bdi class=\"person\">\(escape($0.official.name(in: words.language)))</bdi>" }.joined(separator: " · ") + "</p>"
            let others = attendees.filter { $0.attendance.role != "co-chair" }
            if !others.isEmpty {
                body += "<ul class=\"attendees\">" + others.map {
                    "<li><span class=\"role\">\(escape(words.label(.attendanceRole, $0.attendance.role)))</span> <bdi>\(escape($0.official.name(in: words.language)))</bdi>"
                        + ($0.official.title.map { comma + "<bdi>" + escape($0) + "</bdi>" } ?? "") + "</li>"
                }.joined() + "</ul>"
            }
        }
        body += "</header>"
        if let followup = brief.followup {
            body += "<section><h2>\(escape(words(.itemsAgreed))) <small>\(escape(words(.asOf, words.date(followup.asOf))))</small></h2>"
            for item in followup.items {
                body += "<article class=\"item\"><h3><span class=\"chip status-\(escape(item.instrument.status))\">\(escape(words.label(.instrumentStatus, item.instrument.status)))</span> "
                    + "<bdi>\(escape(item.instrument.title(in: words.language)))</bdi> <small>\(escape(words.label(.instrumentKind, item.instrument.kind)))</small></h3>"
                let overdue = Set(item.overdueActions.map(\.id))
                let actions = item.overdueActions + item.openActions.filter { !overdue.contains($0.id) }
                if !actions.isEmpty { body += "<ul class=\"actions\">" + actions.map { self.action(of: $0, overdue: overdue.contains($0.id)) }.joined() + "</ul>" }
                for obstacle in item.blockingObstacles {
                    body += "<p class=\"blocked\">\(escape(words(.blockedBy, obstacle.title)))</p>"
                }
                body += "</article>"
            }
            if !followup.sessionActions.isEmpty {
                body += "<h3>\(escape(words(.actionsOfSession)))</h3><ul class=\"actions\">" + followup.sessionActions.map { self.action(of: $0, overdue: false) }.joined() + "</ul>"
            }
            body += "</section><section><h2>\(escape(words(.obstaclesRaised)))</h2><ul class=\"obstacles\">"
            body += followup.obstacles.map {
                "<li><span class=\"chip obstacle-\(escape($0.status))\">\(escape(words.label(.obstacleStatus, $0.status)))</span> <bdi>\(escape($0.title))</bdi> "
                    + "<small>\(escape(words.label(.obstacleCategory, $0.category)))</small></li>"
            }.joined()
            body += "</ul></section>"
        }
        if let trade = brief.trade {
            body += "<section><h2>\(escape(words(.trade)))</h2>"
            if trade.isEmpty { body += "<p>\(escape(words(.noFigureStated)))</p>" }
            for headline in trade {
                let stated = headline.stated
                body += "<p class=\"stated\">" + escape(words(.statedLabel)) + ": <strong><bdi class=\"figure\">\(escape(stated.figure(words)))</bdi></strong>\(comma)"
                    + "<bdi>\(escape(stated.reporter))–\(escape(stated.partner))</bdi>\(comma)\(escape(stated.spans(words)))"
                    + (stated.statedBy.map { comma + "<bdi>" + escape(words(.byWhom, brief.official($0, words))) + "</bdi>" } ?? "") + "</p>"
                if let answer = headline.computed {
                    if answer.computed.isEmpty { body += "<p class=\"computed\">\(escape(words(.computedLabel))): \(escape(words(.noObservations)))</p>" }
                    for computed in answer.computed {
                        body += "<p class=\"computed\">\(escape(words(.computedLabel))): <strong class=\"figure\">\(escape(growth.headline(computed)))</strong> (<bdi>\(escape(computed.source))</bdi>)"
                            + (growth.sums(computed).map { ": " + escape($0) } ?? "")
                            + (computed.synthetic ? " <span class=\"chip synthetic\">\(escape(words(.synthetic)))</span>" : "") + "</p>"
                        if let beside = growth.besideStated(computed) { body += "<p class=\"missing\">\(escape(beside))</p>" }
                        if let gaps = growth.leftOut(computed) { body += "<p class=\"missing\">\(escape(gaps))</p>" }
                    }
                    body += self.chart(
                        months, spans: (words.span(stated.from, stated.to), words.span(stated.baseFrom ?? "", stated.baseTo ?? "")),
                        stated: words(.statedLegend, stated.figure(words)), computed: answer.computed.first.map(growth.headline)
                    )
                }
            }
            body += "</section>"
        }
        if let indicators = brief.indicators, !indicators.isEmpty {
            body += "<section><h2>\(escape(words(.indicatorsBound)))</h2><ul class=\"indicators\">"
                + brief.indicatorLines(words).map { "<li>\(escape($0))</li>" }.joined() + "</ul></section>"
        }
        if !brief.missing.isEmpty {
            body += "<section class=\"missing-parts\"><h2>\(escape(words(.missingFromBrief)))</h2><ul>"
                + brief.missing.map { "<li>\(escape($0.part)) (\(escape($0.service))): \(escape($0.code)): <bdi>\(escape($0.message))</bdi></li>" }.joined() + "</ul></section>"
        }
        return (title, body)
    }

    /// `brief region CODE --html FILE`: the region, its partnerships, instruments and actions
    /// (overdue first) and how much trade a source reports for it, from the brief's JSON.
    package func render(region brief: JSONValue) -> String {
        let words = self.words
        let region = brief[path: "region"]
        let code = brief[path: "code"]?.cell ?? ""
        let title = (region?[path: "name"]?.cell).map { "\($0) (\(code))" } ?? code
        var body = "<header><h1 dir=\"auto\">\(escape(title))</h1>"
        let names = (region?[path: "localNames"]?.object ?? [:]).sorted { $0.key < $1.key }
        if !names.isEmpty {
            body += "<p>" + names.map { "<span lang=\"\(escape($0.key))\" dir=\"auto\">\(escape($0.value.cell))</span>" }.joined(separator: " · ") + "</p>"
        }
        if let capital = region?[path: "capital"]?.cell, !capital.isEmpty { body += "<p>\(escape(words(.capital, capital)))</p>" }
        body += "</header><section><h2>\(escape(words(.partnerships)))</h2><ul>"
        if (brief[path: "partnerships"]?.rows ?? []).isEmpty { body += "<li>\(escape(words(.noneRecorded)))</li>" }
        for row in brief[path: "partnerships"]?.rows ?? [] {
            let other = row[path: "regionA"]?.cell == code ? row[path: "regionB"]?.cell : row[path: "regionA"]?.cell
            body += "<li>\(escape(other ?? "")) — \(escape(row[path: "instrument"]?.cell ?? ""))" + (row[path: "since"].map { ", " + escape(words(.since, words.date($0.cell))) } ?? "") + "</li>"
        }
        body += "</ul></section><section><h2>\(escape(words(.instrumentsParty)))</h2><ul>"
        if (brief[path: "instruments"]?.rows ?? []).isEmpty { body += "<li>\(escape(words(.noneRecorded)))</li>" }
        for row in brief[path: "instruments"]?.rows ?? [] {
            let status = escape(row[path: "status"]?.cell ?? "")
            body += "<li><span class=\"chip status-\(status)\">\(escape(words.label(.instrumentStatus, row[path: "status"]?.cell ?? "")))</span> <span dir=\"auto\">\(escape(row[path: "title"]?.cell ?? ""))</span></li>"
        }
        body += "</ul></section><section><h2>\(escape(words(.actionsOwned)))</h2><ul class=\"actions\">"
        let overdue = brief[path: "overdueActions"]?.rows ?? []
        let overdueIDs = Set(overdue.compactMap { $0[path: "id"]?.cell })
        let others = (brief[path: "actions"]?.rows ?? []).filter { !overdueIDs.contains($0[path: "id"]?.cell ?? "") }
        if overdue.isEmpty, others.isEmpty { body += "<li>\(escape(words(.noneRecorded)))</li>" }
        for (row, late) in overdue.map({ ($0, true) }) + others.map({ ($0, false) }) {
            let progress = max(0, min(100, Int(row[path: "progress"]?.cell ?? "0") ?? 0))
            body += "<li class=\"action\(late ? " overdue" : "")\">" + (late ? "<span class=\"chip late\">\(escape(words(.overdueChip)))</span> " : "")
                + "<span dir=\"auto\">\(escape(row[path: "title"]?.cell ?? ""))</span> <small>"
                + escape(row[path: "due"].map { words(.dueOn, words.date($0.cell)) } ?? words(.noDueDate)) + "</small>"
                + BriefHTML.bar(progress) + "<small>\(escape(words.percent(String(progress), signed: false)))</small></li>"
        }
        let trade = brief[path: "trade"]?.rows ?? []
        body += "</ul></section><section><h2>\(escape(words(.trade)))</h2><p>"
            + escape(trade.isEmpty ? words(.noRegionTrade) : words.plural(.regionObservations, trade.count)) + "</p></section>"
        let missing = brief[path: "missing"]?.rows ?? []
        if !missing.isEmpty {
            body += "<section class=\"missing-parts\"><h2>\(escape(words(.missingFromBrief)))</h2><ul>"
                + missing.map { "<li>\(escape($0[path: "part"]?.cell ?? "")) (\(escape($0[path: "service"]?.cell ?? ""))): \(escape($0[path: "message"]?.cell ?? ""))</li>" }.joined()
                + "</ul></section>"
        }
        return self.page(title: title, body: body)
    }

    /// The page around a brief's body: one file, its style inline, nothing fetched.
    package func page(title: String, body: String) -> String {
        "<!DOCTYPE html>\n<html lang=\"\(self.words.language.rawValue)\" dir=\"\(self.words.language.direction)\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
            + "<title>\(escape(title)) — \(escape(self.words(.briefSuffix)))</title><style>\(Self.style)</style></head><body><main>\(body)"
            + "<footer>\(escape(self.words(.footer)))</footer></main></body></html>\n"
    }

    package func action(of action: SessionBrief.Action, overdue: Bool) -> String {
        let words = self.words
        let progress = max(0, min(100, action.progress ?? 0))
        return "<li class=\"action\(overdue ? " overdue" : "")\">" + (overdue ? "<span class=\"chip late\">\(escape(words(.overdueChip)))</span> " : "")
            + "<bdi>\(escape(action.title))</bdi>"
            + " <small><bdi>\(escape(self.brief?.owner(action.owner, words) ?? SessionBrief.owner(action.owner)))</bdi>" + (words.language == .fa ? "، " : ", ") + escape(action.due.map { words(.dueOn, words.date($0)) } ?? words(.noDueDate)) + "</small>"
            + Self.bar(progress)
            + "<small>\(escape(words.percent(String(progress), signed: false)))</small></li>"
    }

    /// Two lines: the current span's months and the base span's, month by month; `computed` is
    /// the computed figure as it reads (like for like, when it is).
    package func chart(_ months: [Month], spans: (current: String, base: String), stated: String, computed: String?) -> String {
        let words = self.words
        guard !months.isEmpty else { return "" }
        let values = months.flatMap { [$0.current, $0.base] }.compactMap { $0 }
        guard let top = values.max(), top > 0 else { return "<p class=\"computed\">\(escape(words(.noMonthlyData)))</p>" }
        // The legend has its own band above the plot, two rows (the spans; the figures), so no
        // line runs under it and a long like-for-like figure does not run into the spans.
        let width = 640.0, height = 292.0, left = 64.0, bottom = 28.0, plotTop = 72.0
        let plotWidth = width - left - 12, plotHeight = height - bottom - plotTop
        func x(_ index: Int) -> Double { left + (months.count == 1 ? plotWidth / 2 : plotWidth * Double(index) / Double(months.count - 1)) }
        func y(_ value: Double) -> Double { plotTop + plotHeight * (1 - value / top) }
        // A month without data breaks the line: the gap shows, rather than a zero or a slope
        // drawn across it.
        func line(_ pick: (Month) -> Double?, cls: String) -> String {
            var runs: [[String]] = [[]]
            for (index, month) in months.enumerated() {
                if let value = pick(month) { runs[runs.count - 1].append("\(x(index)),\(y(value))") } else if !runs[runs.count - 1].isEmpty { runs.append([]) }
            }
            return runs.filter { $0.count > 1 }.map { "<polyline class=\"\(cls)\" fill=\"none\" points=\"\($0.joined(separator: " "))\"/>" }.joined()
                + months.enumerated().compactMap { index, month in pick(month).map { "<circle class=\"\(cls)\" cx=\"\(x(index))\" cy=\"\(y($0))\" r=\"3\"/>" } }.joined()
        }
        var svg = "<figure><svg class=\"chart\" viewBox=\"0 0 \(Int(width)) \(Int(height))\" role=\"img\" aria-label=\"\(escape(words(.chartLabel)))\">"
        svg += "<line class=\"axis\" x1=\"\(left)\" y1=\"\(plotTop + plotHeight)\" x2=\"\(width - 12)\" y2=\"\(plotTop + plotHeight)\"/>"
        svg += "<text class=\"tick\" x=\"\(left - 6)\" y=\"\(plotTop + 4)\" text-anchor=\"end\">\(escape(words.compact(top)))</text>"
        svg += "<text class=\"tick\" x=\"\(left - 6)\" y=\"\(plotTop + plotHeight)\" text-anchor=\"end\">\(escape(words.integer(0)))</text>"
        for (index, month) in months.enumerated() {
            svg += "<text class=\"tick\" x=\"\(x(index))\" y=\"\(height - 8)\" text-anchor=\"middle\">\(escape(words.digits(month.label)))</text>"
        }
        svg += line({ $0.base }, cls: "base") + line({ $0.current }, cls: "current")
        svg += "<text class=\"legend current\" x=\"\(left)\" y=\"18\">● \(escape(spans.current))</text>"
        svg += "<text class=\"legend base\" x=\"\(left)\" y=\"36\">● \(escape(spans.base))</text>"
        svg += "<text class=\"legend stated\" x=\"\(left)\" y=\"54\">\(escape(stated))"
            + (computed.map { " · " + escape(words(.computedLegend, $0)) } ?? "") + "</text>"
        svg += "</svg><figcaption>\(escape(words(.chartCaption)))</figcaption></figure>"
        return svg
    }

    /// The brief's whole style: the page's own rules, then its parts'.
    package static let style = pageStyle + "\n" + partsStyle

    /// The page around the brief: type, width, headings.
    package static let pageStyle = """
        :root{--ink:#1d2733;--muted:#5b6776;--line:#d6dde6;--accent:#1f6feb;--late:#b42318;--ok:#1a7f37}
        *{box-sizing:border-box}body{margin:0;font:16px/1.5 system-ui,"Noto Sans","DejaVu Sans",sans-serif;color:var(--ink);background:#fff}
        main{max-width:60rem;margin:0 auto;padding:1rem}h1{font-size:1.6rem;margin:.2rem 0}h2{font-size:1.2rem;border-bottom:1px solid var(--line);padding-bottom:.2rem;margin-top:1.6rem}
        h3{font-size:1rem;margin:.8rem 0 .3rem}small{color:var(--muted)}ul{padding-left:1.1rem}
        footer{margin-top:2rem;font-size:.8rem;color:var(--muted)}
        @media (max-width:40rem){body{font-size:15px}}
        @media print{main{max-width:none;padding:0}a{color:inherit}section{break-inside:avoid}}
        """

    /// The brief's parts: status chips, progress bars, the chart. Another page that shows a
    /// brief (the console's session page) takes these.
    package static let partsStyle = """
        .chairs{font-size:1.1rem}.person{font-weight:600}
        .role{color:var(--muted);text-transform:capitalize}.chip{display:inline-block;border-radius:1rem;padding:0 .55rem;font-size:.8rem;border:1px solid var(--line);background:#f3f6f9}
        .status-in-force,.status-signed,.status-completed{background:#e6f4ea;border-color:#a8d5b5}.status-proposed,.status-under-negotiation,.status-recorded{background:#eef4ff;border-color:#b6cdf5}
        .status-withdrawn,.status-rejected,.status-terminated,.status-suspended,.status-expired{background:#f6f6f6}.late,.obstacle-open{background:#fdecea;border-color:#f2b8b5;color:var(--late)}
        .synthetic{background:#fff4e5;border-color:#f5c98a}.action{margin:.35rem 0}.overdue{color:var(--late)}
        svg.bar{display:inline-block;vertical-align:middle;width:6rem;height:.55rem;margin:0 .4rem;border-radius:.3rem;overflow:hidden}.bar .track{fill:#e8edf2}.bar .done{fill:var(--accent)}
        .overdue .bar .done{fill:var(--late)}.blocked{color:var(--late);margin:.2rem 0 .2rem 1.1rem}.missing{color:var(--late)}
        figure{margin:1rem 0}svg.chart{direction:ltr}svg.chart text{unicode-bidi:plaintext}svg.chart{width:100%;height:auto;border:1px solid var(--line);border-radius:.4rem}polyline{stroke-width:2.5}polyline.current{stroke:var(--accent)}polyline.base{stroke:#9aa5b1}
        circle.current{fill:var(--accent)}circle.base{fill:#9aa5b1}.axis{stroke:var(--line)}.tick{font-size:11px;fill:var(--muted)}.legend{font-size:12px}.legend.current{fill:var(--accent)}.legend.base{fill:#6b7785}.legend.stated{fill:var(--ink);font-weight:600}
        figcaption{font-size:.85rem;color:var(--muted)}
        @media (max-width:40rem){svg.bar{width:4rem}}
        @media print{.chip{border-color:#999}svg.chart{border:none}}
        """
}
