import ConcordBriefs
import ConcordFields
import ConcordProtocol
import ConcordWire
import ConcordWords
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Hummingbird

/// The agreements: the instruments with filters, and an instrument's page (parties, their
/// events, its status history and relations, its actions as a tree, its indicators) where a
/// person who may write moves its status along the graph and adds actions.
extension Console {
    func registerAgreements(on router: Router<ConsoleContext>) {
        router.get("/agreements") { request, _ in try await self.instruments(request) }
        router.get("/agreements/:id") { request, context in try await self.instrument(request, context) }
        router.post("/agreements/:id/transition") { request, context in try await self.transition(request, context) }
        router.post("/agreements/:id/actions") { request, context in try await self.addAction(request, context) }
    }

    static let instrumentFilters = ["status", "kind", "sector", "party"]

    func instruments(_ request: Request) async throws -> Response {
        try await self.personal(request) { person, pages in
            var filters: [String: String] = [:]
            for name in Self.instrumentFilters {
                if let value = request.uri.queryParameters.get(name), !value.isEmpty { filters[name] = String(value) }
            }
            var body: [String: JSONValue] = filters.mapValues { .string($0) }
            body["limit"] = .integer(500)
            let answer = await self.gateway.json("agreements.instruments.list", body, person: person)
            return pages.instruments(session: person, answer, filters: filters)
        }
    }

    func instrument(_ request: Request, _ context: ConsoleContext, problem: String? = nil, status: HTTPResponse.Status = .ok) async throws -> Response {
        let id = context.parameters.get("id") ?? ""
        var found = true
        return try await self.personal(request, status: found ? status : .notFound) { person, pages in
            let gateway = self.gateway
            async let instrument = gateway.json("agreements.instruments.get", ["id": .string(id)], person: person)
            async let actions = gateway.json("agreements.actions.list", ["instrument": .string(id), "limit": .integer(500)], person: person)
            async let overdue = gateway.json("agreements.actions.overdue", ["instrument": .string(id), "limit": .integer(500)], person: person)
            async let relations = gateway.json("agreements.relations.list", ["instrument": .string(id), "limit": .integer(500)], person: person)
            async let indicators = gateway.json("agreements.indicators.list", ["instrument": .string(id), "limit": .integer(500)], person: person)
            let late = Set(((try? await overdue.get())?.rows ?? []).compactMap { $0[path: "id"]?.string })
            let answer = await instrument
            found = !answer.isNotFound
            // Officials among the parties are shown by name, as participants has them.
            let officials = await self.lookUp(Self.officialParties(of: (try? answer.get()) ?? .null), person: person).known
            return pages.instrument(
                session: person, answer, actions: await actions, overdue: late, relations: await relations,
                indicators: await indicators, officials: officials, path: request.uri.path, problem: problem
            )
        }
    }

    /// Moves the instrument's status; `force` (an admin's) moves outside the graph, and the
    /// history keeps that it was forced.
    func transition(_ request: Request, _ context: ConsoleContext) async throws -> Response {
        let id = context.parameters.get("id") ?? ""
        return try await self.submit(request, verb: "agreements.instruments.transition") { form throws(FormProblem) in
            var body: [String: JSONValue] = ["id": .string(id), "to": .string(form["to"] ?? ""), "date": .string(form["date"] ?? "")]
            body["version"] = try Self.version(form)
            if let note = form["note"], !note.isEmpty { body["note"] = .string(note) }
            if form["force"] == "on" { body["force"] = .bool(true) }
            return body
        } next: { _ in
            Pages.href("agreements", id)
        } again: { problem, status in
            try await self.instrument(request, context, problem: problem, status: status)
        }
    }

    /// Adds an action to the instrument: its title, owner, due date, and the action it is part of.
    func addAction(_ request: Request, _ context: ConsoleContext) async throws -> Response {
        let id = context.parameters.get("id") ?? ""
        return try await self.submit(request, verb: "agreements.actions.create") { form throws(FormProblem) in
            var body: [String: JSONValue] = ["instrument": .string(id), "title": .string(form["title"] ?? ""), "status": .string("planned"), "progress": .integer(0)]
            body["owner"] = try Self.party(form, "owner")
            if let due = form["due"], !due.isEmpty { body["due"] = .string(due) }
            if let parent = form["parent"], !parent.isEmpty { body["parent"] = .string(parent) }
            if let note = form["note"], !note.isEmpty { body["note"] = .string(note) }
            return body
        } next: { answer in
            answer[path: "id"]?.string.map { Pages.href("actions", $0) } ?? Pages.href("agreements", id)
        } again: { problem, status in
            try await self.instrument(request, context, problem: problem, status: status)
        }
    }

    /// The version a form was made from: a write to a record that changed since is refused.
    static func version(_ form: [String: String]) throws(FormProblem) -> JSONValue {
        guard let version = form["version"].flatMap({ Int64($0) }) else { throw FormProblem { $0(.formLacksVersion) } }
        return .integer(version)
    }

    /// The ids of the officials an instrument names as parties, or in its parties' events.
    static func officialParties(of instrument: JSONValue) -> Set<String> {
        let rows = (instrument[path: "parties"]?.rows ?? []) + (instrument[path: "partyEvents"]?.rows ?? [])
        return Set(rows.compactMap { $0[path: "party"]?[path: "official"]?.string })
    }

    /// A party from a form's `NAME-kind` (official, region, country, organisation) and `NAME`.
    static func party(_ form: [String: String], _ name: String) throws(FormProblem) -> JSONValue {
        let kind = form[name + "-kind"] ?? ""
        let value = (form[name] ?? "").trimmingSpaces()
        guard Pages.partyKinds.contains(kind) else { throw FormProblem { $0(.partyKindMissing, Pages(words: $0).fieldLabel(name) ?? name) } }
        guard !value.isEmpty else {
            throw FormProblem { $0(.partyNameMissing, Pages(words: $0).fieldLabel(name) ?? name, $0.label(.partyKind, kind)) }
        }
        return .object([kind: .string(value)])
    }
}

extension Pages {
    static let partyKinds = ["official", "region", "country", "organisation"]
    static let instrumentKinds = ["treaty", "agreement", "memorandum", "protocol", "programme", "decision", "proposal"]
    static let sectors = [
        "transport", "agriculture", "banking-and-finance", "trade", "energy", "industry", "standards", "customs", "tourism", "education", "culture", "health", "other",
    ]

    /// A path of the console with each segment percent-encoded.
    static func href(_ segments: String...) -> String {
        "/" + segments.map(Self.percentEncoded).joined(separator: "/")
    }

    /// A path segment: letters, digits and `-._~` as they are, every other byte as `%XX`.
    static func percentEncoded(_ segment: String) -> String {
        var out = ""
        for byte in segment.utf8 {
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
                 UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~"):
                out.unicodeScalars.append(UnicodeScalar(byte))
            default:
                out += "%" + (byte < 16 ? "0" : "") + String(byte, radix: 16, uppercase: true)
            }
        }
        return out
    }

    /// A party (`{"official": "mehdi-dousti"}`) as a person reads it, its kind in small type: an
    /// official by name (in the reader's language where the record has it) when `officials` has
    /// them, anyone else by what the record says.
    func party(_ value: JSONValue?, officials: [String: SessionBrief.OfficialView] = [:]) -> HTML {
        guard let (kind, id) = value?.object?.first else { return "" }
        return "<bdi>\(self.named(kind, id.cell, officials: officials))</bdi> <small>\(self.words.label(.partyKind, kind))</small>"
    }

    func instruments(session: SessionCookie, _ answer: Result<JSONValue, ConcordError>, filters: [String: String]) -> HTML {
        let words = self.words
        func select(_ name: String, _ label: Key, _ codes: [String], _ vocabulary: Vocabulary) -> HTML {
            let options: [HTML] = codes.map { code in
                "<option value=\"\(code)\"\(HTML(trusted: filters[name] == code ? " selected" : ""))>\(words.label(vocabulary, code))</option>"
            }
            return "<label>\(words(label)) <select name=\"\(name)\"><option value=\"\">\(words(.anyChoice))</option>\(options)</select></label>"
        }
        var body: HTML = """
            <h1>\(words(.navAgreements))</h1>
            <form class="filters" method="get" action="/agreements">\
            \(select("status", .colStatus, InstrumentStatus.allCases.map(\.rawValue), .instrumentStatus))\
            \(select("kind", .colKind, Self.instrumentKinds, .instrumentKind))\
            \(select("sector", .colSector, Self.sectors, .sector))\
            <label>\(words(.colParty)) <input name="party" value="\(filters["party"] ?? "")" placeholder="country:IR" dir="ltr"></label>\
            <button type="submit">\(words(.filterButton))</button></form>
            """
        switch answer {
        case .success(let page):
            let rows: [HTML] = page.rows.map { row in
                let id = row[path: "id"]?.string ?? ""
                let status = row[path: "status"]?.string ?? ""
                let sectors = (row[path: "sectors"]?.rows ?? []).compactMap(\.string).map { words.label(.sector, $0) }.joined(separator: self.comma)
                return """
                    <tr><td><a href="\(Self.href("agreements", id))"><bdi>\(self.title(row))</bdi></a></td>\
                    <td>\(words.label(.instrumentKind, row[path: "kind"]?.string ?? ""))</td>\
                    <td><span class="chip status-\(status)">\(words.label(.instrumentStatus, status))</span></td><td>\(sectors)</td></tr>
                    """
            }
            body = body + "<section id=\"live-instruments\" data-live>" + (rows.isEmpty ? self.nothing(.noneRecorded) : """
                <table><thead><tr><th>\(words(.colTitle))</th><th>\(words(.colKind))</th><th>\(words(.colStatus))</th><th>\(words(.colSector))</th></tr></thead>
                <tbody>\(rows)</tbody></table>
                """) + "</section>"
        case .failure(let error):
            body = body + self.failed("agreements", error)
        }
        return self.layout(title: words(.navAgreements), session: session, path: "/agreements", body: body)
    }

    /// A record's title in the reader's language where it has one (`localTitles`).
    func title(_ record: JSONValue) -> String {
        record[path: "localTitles.\(self.words.language.rawValue)"]?.string ?? record[path: "title"]?.string ?? record[path: "id"]?.cell ?? ""
    }

    func instrument(
        session: SessionCookie, _ answer: Result<JSONValue, ConcordError>, actions: Result<JSONValue, ConcordError>, overdue: Set<String>,
        relations: Result<JSONValue, ConcordError>, indicators: Result<JSONValue, ConcordError>,
        officials: [String: SessionBrief.OfficialView] = [:], path: String, problem: String?
    ) -> HTML {
        let words = self.words
        let alert: HTML = problem.map { "<p class=\"problem\" role=\"alert\">\($0)</p>" } ?? ""
        guard case .success(let instrument) = answer else {
            return self.layout(title: words(.navAgreements), session: session, path: path, body: alert + self.problem(answer, service: "agreements"))
        }
        let id = instrument[path: "id"]?.string ?? ""
        let status = instrument[path: "status"]?.string ?? ""
        let dates: [HTML] = [("proposed", Key.dateProposed), ("signed", .colSigned), ("inForce", .colInForce), ("expires", .dateExpires)].compactMap { field, label in
            instrument[path: field]?.string.map { "<dt>\(words(label))</dt><dd>\(words.date($0))</dd>" }
        }
        let sectors = (instrument[path: "sectors"]?.rows ?? []).compactMap(\.string).map { words.label(.sector, $0) }.joined(separator: self.comma)
        var body: HTML = """
            <div id="live-instrument" data-live><h1><bdi>\(self.title(instrument))</bdi></h1>\(alert)
            <p><span class="chip status-\(status)">\(words.label(.instrumentStatus, status))</span> \
            \(words.label(.instrumentKind, instrument[path: "kind"]?.string ?? ""))\(sectors.isEmpty ? "" : " · " + sectors)\
            \(instrument[path: "session"]?.integer.map { HTML(" · <a href=\"/sessions/\(Int($0))\">\(words(.session, words.integer(Int($0))))</a>") } ?? "")</p>
            \(instrument[path: "summary"]?.string.map { HTML("<p><bdi>\($0)</bdi></p>") } ?? "")\
            \(dates.isEmpty ? "" : HTML("<dl class=\"dates\">\(dates)</dl>"))\
            \(instrument[path: "source"]?.string.map { HTML("<p class=\"source\"><small>\(words(.sourceLabel, $0))</small></p>") } ?? "")
            <p><a href="\(Self.href("history", "agreements", "instruments", id))">\(words(.historyLink))</a></p>
            """

        let parties: [HTML] = (instrument[path: "parties"]?.rows ?? []).map { row in
            "<tr><td>\(self.party(row[path: "party"], officials: officials))</td><td>\(words.label(.partyRole, row[path: "role"]?.string ?? ""))</td></tr>"
        }
        body = body + "<section><h2>\(words(.partiesTitle))</h2>" + (parties.isEmpty ? self.nothing(.noneRecorded) : """
            <table><thead><tr><th>\(words(.colParty))</th><th>\(words(.colRole))</th></tr></thead><tbody>\(parties)</tbody></table>
            """)
        let events: [HTML] = (instrument[path: "partyEvents"]?.rows ?? []).map { row in
            """
            <tr><td>\(self.party(row[path: "party"], officials: officials))</td><td>\(words.label(.partyEvent, row[path: "event"]?.cell ?? ""))</td>\
            <td>\(row[path: "date"]?.string.map { words.date($0) } ?? "")</td><td><small><bdi>\(row[path: "source"]?.cell ?? "")</bdi></small></td></tr>
            """
        }
        if !events.isEmpty {
            body = body + """
                <h3>\(words(.partyEventsTitle))</h3><table><thead><tr><th>\(words(.colParty))</th><th>\(words(.colEvent))</th><th>\(words(.colDate))</th><th>\(words(.colSource))</th></tr></thead>
                <tbody>\(events)</tbody></table>
                """
        }
        body = body + "</section>"

        let moves: [HTML] = (instrument[path: "history"]?.rows ?? []).reversed().map { move in
            let forced = move[path: "forced"] == .bool(true)
            return """
                <li><time>\(move[path: "date"]?.string.map { words.date($0) } ?? "")</time> \
                \(words.label(.instrumentStatus, move[path: "from"]?.string ?? "")) → <strong>\(words.label(.instrumentStatus, move[path: "to"]?.string ?? ""))</strong>\
                \(forced ? HTML(" <span class=\"chip late\">\(words(.forcedMark))</span>") : "") · <bdi>\(move[path: "by"]?.cell ?? "")</bdi>\
                \(move[path: "note"]?.string.map { HTML("<p class=\"note\"><bdi>\($0)</bdi></p>") } ?? "")</li>
                """
        }
        body = body + "<section><h2>\(words(.statusHistoryTitle))</h2>" + (moves.isEmpty ? self.nothing(.noneRecorded) : "<ol class=\"timeline\">\(moves)</ol>")
        if session.role != "reader", let current = InstrumentStatus(rawValue: status) {
            body = body + self.transitionForm(session: session, id: id, current: current, version: instrument[path: "version"]?.integer ?? 0)
        }
        body = body + "</section></div>"

        body = body + self.live("relations", words(.relationsTitle), relations, from: "agreements") { page in
            guard !page.rows.isEmpty else { return self.nothing(.noneRecorded) }
            let items: [HTML] = page.rows.map { row in
                let from = row[path: "from"]?.string ?? "", to = row[path: "to"]?.string ?? ""
                let other = from == id ? to : from
                let kind = words.label(.relationKind, row[path: "kind"]?.string ?? "")
                return "<li>\(from == id ? words(.relationFrom, kind) : words(.relationTo, kind)) <a href=\"\(Self.href("agreements", other))\"><bdi>\(other)</bdi></a></li>"
            }
            return "<ul>\(items)</ul>"
        }

        var parents: [(String, String)] = []
        body = body + self.live("actions", words(.actionsTitle), actions, from: "agreements") { page in
            let all = page.rows
            parents = all.compactMap { row in row[path: "id"]?.string.map { ($0, row[path: "title"]?.string ?? $0) } }
            guard !all.isEmpty else { return self.nothing(.noneRecorded) }
            let ids = Set(parents.map(\.0))
            let children = Dictionary(grouping: all) { row in row[path: "parent"]?.string.flatMap { ids.contains($0) ? $0 : nil } ?? "" }
            func tree(_ parent: String) -> HTML {
                let items: [HTML] = (children[parent] ?? []).sorted { ($0[path: "due"]?.string ?? "9999") < ($1[path: "due"]?.string ?? "9999") }.map { row in
                    let actionID = row[path: "id"]?.string ?? ""
                    let progress = Int(row[path: "progress"]?.integer ?? 0)
                    let late = overdue.contains(actionID)
                    return """
                        <li class="action\(HTML(trusted: late ? " overdue" : ""))">\(late ? HTML("<span class=\"chip late\">\(words(.overdueChip))</span> ") : "")\
                        <a href="\(Self.href("actions", actionID))"><bdi>\(row[path: "title"]?.cell ?? "")</bdi></a> \
                        <span class="chip">\(words.label(.actionStatus, row[path: "status"]?.string ?? ""))</span> \
                        \(HTML(trusted: BriefHTML.bar(progress)))<small>\(words.percent(String(progress), signed: false))\
                        \(row[path: "due"]?.string.map { " · " + words(.dueOn, words.date($0)) } ?? "")</small>\(tree(actionID))</li>
                        """
                }
                return items.isEmpty ? "" : "<ul class=\"tree\">\(items)</ul>"
            }
            return tree("")
        }
        if session.role != "reader" { body = body + self.actionForm(session: session, instrument: id, parents: parents) }

        body = body + self.live("indicators", words(.indicatorsTitle), indicators, from: "agreements") { page in
            guard !page.rows.isEmpty else { return self.nothing(.noneRecorded) }
            let rows: [HTML] = page.rows.map { row in
                let actual = row[path: "actuals"]?.rows.last
                func value(_ v: JSONValue?) -> String {
                    guard let v, let number = v[path: "value"]?.string else { return "–" }
                    return words.number(number) + (v[path: "date"]?.string.map { " (" + words.date($0) + ")" } ?? "")
                }
                return """
                    <tr><td><bdi>\(row[path: "title"]?.cell ?? "")</bdi> <small><bdi>\(row[path: "measure"]?.cell ?? "")</bdi></small></td>\
                    <td>\(value(row[path: "baseline"]))</td><td>\(value(row[path: "target"]))</td><td>\(value(actual))</td></tr>
                    """
            }
            return """
                <table><thead><tr><th>\(words(.colIndicator))</th><th>\(words(.colBaseline))</th><th>\(words(.colTarget))</th><th>\(words(.colActual))</th></tr></thead>
                <tbody>\(rows)</tbody></table>
                """
        }
        return self.layout(title: self.title(instrument), session: session, path: path, body: body)
    }

    /// The moves the status graph allows from `current`; an admin also sees every other status,
    /// to force, and a box that says so.
    func transitionForm(session: SessionCookie, id: String, current: InstrumentStatus, version: Int64) -> HTML {
        let words = self.words
        let allowed = current.next
        let others = session.role == "admin" ? InstrumentStatus.allCases.filter { $0 != current && !allowed.contains($0) } : []
        guard !allowed.isEmpty || !others.isEmpty else { return "<p>\(words(.statusFinal))</p>" }
        let options: [HTML] = allowed.map { "<option value=\"\($0.rawValue)\">\(words.label(.instrumentStatus, $0.rawValue))</option>" }
        let forced: [HTML] = others.map { "<option value=\"\($0.rawValue)\">\(words.label(.instrumentStatus, $0.rawValue)) (\(words(.forcedMark)))</option>" }
        let today = String(Date().ISO8601Format().prefix(10))
        return """
            <form class="write" method="post" action="\(Self.href("agreements", id, "transition"))">
            <h3>\(words(.moveStatusTitle))</h3>
            <input type="hidden" name="csrf" value="\(session.csrf)"><input type="hidden" name="version" value="\(String(version))">
            <label>\(words(.moveTo)) <select name="to" required>\(options)\(forced)</select></label>
            <label>\(words(.dateLabel)) <input name="date" type="date" required value="\(today)" dir="ltr"></label>
            <label>\(words(.noteLabel)) <textarea name="note" maxlength="2000" rows="2"></textarea></label>
            \(others.isEmpty ? "" : HTML("<label class=\"check\"><input type=\"checkbox\" name=\"force\"> \(words(.forceLabel))</label>"))
            <button type="submit">\(words(.moveButton))</button></form>
            """
    }

    func actionForm(session: SessionCookie, instrument: String, parents: [(String, String)]) -> HTML {
        let words = self.words
        let kinds: [HTML] = Self.partyKinds.map { "<option value=\"\($0)\">\(words.label(.partyKind, $0))</option>" }
        let parentOptions: [HTML] = parents.map { "<option value=\"\($0.0)\">\($0.1)</option>" }
        return """
            <section><h2>\(words(.addActionTitle))</h2>
            <form class="write" method="post" action="\(Self.href("agreements", instrument, "actions"))">
            <input type="hidden" name="csrf" value="\(session.csrf)">
            <label>\(words(.colTitle)) <input name="title" required maxlength="500"></label>
            <fieldset><legend>\(words(.colOwner))</legend><select name="owner-kind" aria-label="\(words(.colKind))">\(kinds)</select> \
            <input name="owner" required placeholder="mehdi-dousti" dir="ltr" aria-label="\(words(.colOwner))"></fieldset>
            <label>\(words(.colDue)) <input name="due" placeholder="2026-03" pattern="[0-9]{4}(-[0-9]{2}(-[0-9]{2})?)?" dir="ltr"></label>
            <label>\(words(.partOf)) <select name="parent"><option value="">\(words(.none))</option>\(parentOptions)</select></label>
            <label>\(words(.noteLabel)) <textarea name="note" maxlength="2000" rows="2"></textarea></label>
            <button type="submit">\(words(.addButton))</button></form></section>
            """
    }
}
