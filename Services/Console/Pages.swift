import ConcordBriefs
import ConcordProtocol
import ConcordWire
import ConcordWords
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// The console's pages: one layout (language and direction, the person and the language
/// switch), the sign-in form and the overview. Every text goes through `HTML`'s escaping.
struct Pages {
    let words: Words

    /// What separates the items of a list as the language writes it (Persian has its own comma).
    var comma: String { self.words.language == .fa ? "، " : ", " }

    /// Each language by its own name, for the switch.
    static let languages: [(Language, String)] = [(.fa, "فارسی"), (.ru, "Русский"), (.en, "English")]

    func layout(title: String, session: SessionCookie?, path: String, body: HTML) -> HTML {
        let language = self.words.language
        let switcher: [HTML] = Self.languages.map { code, name in
            code == language
                ? "<li><bdi lang=\"\(code.rawValue)\" aria-current=\"true\">\(name)</bdi></li>"
                : "<li><a href=\"\(path)?lang=\(code.rawValue)\" hreflang=\"\(code.rawValue)\"><bdi lang=\"\(code.rawValue)\">\(name)</bdi></a></li>"
        }
        var person: HTML = ""
        if let session {
            person = """
            <form class="signout" method="post" action="/sign-out">\
            <span>\(self.words(.signedInAs, Words.isolated(session.user), self.role(session.role)))</span> \
            <input type="hidden" name="csrf" value="\(session.csrf)">\
            <button type="submit">\(self.words(.signOut))</button></form>
            """
        }
        var navigation: HTML = ""
        if session != nil {
            let links: [HTML] = [
                ("/", Key.overviewTitle), ("/sessions", .navSessions), ("/agreements", .navAgreements), ("/obstacles", .navObstacles),
                ("/participants", .navParticipants), ("/trade", .navTrade),
            ].map { href, key in
                let current = href == "/" ? path == "/" : path.hasPrefix(href)
                return "<li><a href=\"\(href)\"\(HTML(trusted: current ? " aria-current=\"page\"" : ""))>\(self.words(key))</a></li>"
            }
            navigation = "<nav class=\"sections\" aria-label=\"\(self.words(.sectionsLabel))\"><ul>\(links)</ul></nav>"
        }
        return """
        <!doctype html>
        <html lang="\(language.rawValue)" dir="\(language == .fa ? "rtl" : "ltr")">
        <head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
        <title>\(title) · \(self.words(.consoleTitle))</title><link rel="stylesheet" href="/console.css">\
        <script src="/console.js" defer></script></head>
        <body data-live-lost="\(self.words(.liveLost))"><header class="top"><a class="home" href="/">\(self.words(.consoleTitle))</a>\
        <nav aria-label="\(self.words(.languageLabel))"><ul class="languages">\(switcher)</ul></nav>\(person)</header>\(navigation)
        <main>\(body)</main></body></html>
        """
    }

    func role(_ role: String) -> String {
        switch role {
        case "admin": self.words(.roleAdmin)
        case "secretariat": self.words(.roleSecretariat)
        default: self.words(.roleReader)
        }
    }

    func signIn(csrf: String, name: String = "", problem: String? = nil) -> HTML {
        let alert: HTML = problem.map { "<p class=\"problem\" role=\"alert\">\($0)</p>" } ?? ""
        return self.layout(title: self.words(.signInTitle), session: nil, path: "/sign-in", body: """
            <h1>\(self.words(.signInTitle))</h1>\(alert)
            <form class="signin" method="post" action="/sign-in">
            <input type="hidden" name="csrf" value="\(csrf)">
            <label>\(self.words(.signInName)) <input name="name" value="\(name)" autocomplete="username" required autofocus dir="ltr"></label>
            <label>\(self.words(.signInPassword)) <input name="password" type="password" autocomplete="current-password" required dir="ltr"></label>
            <button type="submit">\(self.words(.signInTitle))</button>
            </form>
            """)
    }

    func overview(
        session: SessionCookie,
        overdue: Result<Overview.Overdue, ConcordError>,
        obstacles: Result<Page<Overview.Obstacle>, ConcordError>,
        sessions: Result<Page<Overview.Session>, ConcordError>,
        actions: Result<Page<Overview.Action>, ConcordError>,
        recent: Result<[Overview.Change], ConcordError>,
        headline: Result<[SessionBrief.Headline], ConcordError>,
        officials: [String: SessionBrief.OfficialView] = [:]
    ) -> HTML {
        let words = self.words
        var body: HTML = "<h1>\(words(.overviewTitle))</h1>"

        body = body + self.live("latest", words(.overviewLatestSession), sessions, from: "participants") { page in
            guard let latest = page.items.max(by: { $0.number < $1.number }) else { return self.nothing(.none) }
            let when = latest.startDate.map { words.date($0, withGregorian: true) } ?? ""
            return "<p class=\"session\"><strong>\(words(.session, words.integer(latest.number)))</strong> \(when)\(latest.city.map { " · " + $0 } ?? "")</p>"
        }

        body = body + self.live("headline", words(.tradeHeadlineTitle), headline, from: "trade") { headlines in
            guard !headlines.isEmpty else { return self.nothing(.noFigureStated) }
            let growth = GrowthWords(words: words)
            var part: HTML = ""
            for headline in headlines {
                let stated = headline.stated
                part = part + """
                    <p class="stated">\(words(.statedLabel)): <strong><bdi>\(stated.figure(words))</bdi></strong> · <bdi>\(stated.reporter)–\(stated.partner)</bdi> · \(stated.spans(words))</p>
                    """
                if let computed = headline.computed, computed.computed.isEmpty {
                    part = part + "<p class=\"computed\">\(words(.computedLabel)): \(words(.noObservations))</p>"
                }
                for computed in headline.computed?.computed ?? [] {
                    part = part + """
                        <p class="computed">\(words(.computedLabel)): <strong><bdi>\(growth.headline(computed))</bdi></strong> (<bdi>\(computed.source)</bdi>)\
                        \(computed.synthetic ? HTML(" <span class=\"chip synthetic\">\(words(.synthetic))</span>") : "")</p>
                        """
                    if let beside = growth.besideStated(computed) { part = part + "<p class=\"missing\">\(beside)</p>" }
                }
            }
            return part + "<p><a href=\"/trade\">\(words(.navTrade)) →</a></p>"
        }

        body = body + self.live("overdue", words(.overviewOverdue), overdue, from: "agreements") { answer in
            guard !answer.items.isEmpty else { return self.nothing(.overviewNoOverdue) }
            let rows: [HTML] = answer.items.sorted { ($0.due ?? "", $0.id) < ($1.due ?? "", $1.id) }.map { action in
                let owner = self.owner(action.owner, officials: officials)
                return """
                <tr><td><bdi>\(action.title)</bdi></td><td><bdi>\(owner)</bdi></td>\
                <td>\(action.due.map { words.date($0) } ?? words(.noDueDate))</td>\
                <td><span class="chip overdue">\(words.label(.actionStatus, action.status))</span></td></tr>
                """
            }
            return """
                <p class="asof">\(words(.asOf, words.date(answer.asOf)))</p>
                <table><thead><tr><th>\(words(.colTitle))</th><th>\(words(.colOwner))</th><th>\(words(.colDue))</th><th>\(words(.colStatus))</th></tr></thead>
                <tbody>\(rows)</tbody></table>
                """
        }

        body = body + self.live("open", words(.openActionsTitle), actions, from: "agreements") { page in
            let open = page.items.filter { !["done", "cancelled"].contains($0.status) }.sorted { ($0.due ?? "9999", $0.id) < ($1.due ?? "9999", $1.id) }
            guard !open.isEmpty else { return self.nothing(.none) }
            let items: [HTML] = open.map { action in
                """
                <li><a href="/actions/\(action.id)"><bdi>\(action.title)</bdi></a> \
                <span class="chip">\(words.label(.actionStatus, action.status))</span> \
                <span class="percent">\(words.percent(String(action.progress ?? 0), signed: false))</span>\
                \(action.due.map { " <small>" + words(.dueOn, words.date($0)) + "</small>" } ?? "")</li>
                """
            }
            return "<ul class=\"actions\">\(items)</ul>"
        }

        body = body + self.live("recent", words(.recentChangesTitle), recent, from: "gateway") { changes in
            guard !changes.isEmpty else { return self.nothing(.none) }
            let rows: [HTML] = changes.map { change in
                """
                <tr><td><time datetime="\(change.at)">\(self.moment(change.at))</time></td><td><bdi>\(change.actor)</bdi></td>\
                <td><bdi>\(change.verb)</bdi></td><td><bdi>\(change.kind)/\(change.key)</bdi></td></tr>
                """
            }
            return """
                <table class="changes"><thead><tr><th>\(words(.colDate))</th><th>\(words(.colWho))</th><th>\(words(.colWhat))</th><th>\(words(.colRecord))</th></tr></thead>
                <tbody>\(rows)</tbody></table>
                """
        }

        body = body + self.live("obstacles", words(.overviewObstacles), obstacles, from: "agreements") { page in
            let open = page.items.filter { $0.status != "resolved" }
            guard !open.isEmpty else { return self.nothing(.overviewNoObstacles) }
            let items: [HTML] = open.map { obstacle in
                "<li><span class=\"chip\">\(words.label(.obstacleStatus, obstacle.status))</span> <bdi>\(obstacle.title)</bdi>"
                    + " <small>\(words.label(.obstacleCategory, obstacle.category))</small></li>"
            }
            return "<ul class=\"obstacles\">\(items)</ul>"
        }
        return self.layout(title: words(.overviewTitle), session: session, path: "/", body: body)
    }

    /// A moment of the audit trail (`2026-12-03T10:15:02.123Z`): its date as the language writes
    /// it, and the time (UTC) to the minute.
    func moment(_ at: String) -> String {
        let day = String(at.prefix(10))
        let time = at.count >= 16 ? String(at.dropFirst(11).prefix(5)) : ""
        let clock = self.words.language == .fa ? String(time.map { $0.isNumber ? Character(String(self.words.integer(Int(String($0)) ?? 0))) : $0 }) : time
        return self.words.date(day) + " " + clock
    }

    func action(
        session: SessionCookie, action: Result<Overview.ActionRecord, ConcordError>, officials: [String: SessionBrief.OfficialView] = [:],
        path: String, problem: String?
    ) -> HTML {
        let words = self.words
        let alert: HTML = problem.map { "<p class=\"problem\" role=\"alert\">\($0)</p>" } ?? ""
        guard case .success(let action) = action else {
            return self.layout(title: words(.overviewTitle), session: session, path: path, body: alert + self.problem(action, service: "agreements"))
        }
        let owner = self.owner(action.owner, officials: officials)
        let progress = action.progress ?? 0
        var body: HTML = """
            <div id="live-head" data-live><h1><bdi>\(action.title)</bdi></h1>\(alert)
            <p><span class="chip">\(words.label(.actionStatus, action.status))</span> · <bdi>\(owner)</bdi>\
            \(action.due.map { " · " + words(.dueOn, words.date($0)) } ?? "")</p>
            <p class="progress"><progress max="100" value="\(progress)"></progress> \(words.percent(String(progress), signed: false))</p>
            <p><a href="\(Self.href("history", "agreements", "actions", action.id))">\(words(.historyLink))</a>\
            \(action.instrument.map { HTML(" · <a href=\"\(Self.href("agreements", $0))\">\(words(.colInstrument))</a>") } ?? "")</p></div>
            """
        let updates: [HTML] = (action.timeline ?? []).reversed().map { update in
            """
            <li><time>\(words.date(update.date))</time> · \(words.percent(String(update.progress), signed: false))\
            \(update.status.map { " · " + words.label(.actionStatus, $0) } ?? "") · <bdi>\(update.by)</bdi>\
            \(update.note.map { HTML("<p class=\"note\"><bdi>\($0)</bdi></p>") } ?? "")</li>
            """
        }
        body = body + "<section id=\"live-timeline\" data-live><h2>\(words(.timelineTitle))</h2>" + (updates.isEmpty ? self.nothing(.none) : "<ol class=\"timeline\">\(updates)</ol>") + "</section>"
        // Only a person whose role may write sees the form; the gateway refuses a forged one all the same.
        if session.role != "reader" {
            let today = String(Date().ISO8601Format().prefix(10))
            body = body + """
                <section><h2>\(words(.actionProgressTitle))</h2>
                <form class="progress" method="post" action="/actions/\(action.id)/progress">
                <input type="hidden" name="csrf" value="\(session.csrf)"><input type="hidden" name="version" value="\(String(action.version))">
                <label>\(words(.progressLabel)) <input name="progress" type="number" min="0" max="100" required value="\(progress)" dir="ltr"></label>
                <label>\(words(.dateLabel)) <input name="date" type="date" required value="\(today)" dir="ltr"></label>
                <label>\(words(.noteLabel)) <textarea name="note" maxlength="2000" rows="3"></textarea></label>
                <button type="submit">\(words(.recordButton))</button>
                </form></section>
                <section><h2>\(words(.editActionTitle))</h2>
                <form class="write" method="post" action="\(Self.href("actions", action.id))">
                <input type="hidden" name="csrf" value="\(session.csrf)"><input type="hidden" name="version" value="\(String(action.version))">
                <label>\(words(.colTitle)) <input name="title" required maxlength="500" value="\(action.title)"></label>
                <label>\(words(.colDue)) <input name="due" value="\(action.due ?? "")" placeholder="2026-03" pattern="[0-9]{4}(-[0-9]{2}(-[0-9]{2})?)?" dir="ltr"></label>
                <label>\(words(.noteLabel)) <textarea name="note" maxlength="2000" rows="2">\(action.note ?? "")</textarea></label>
                <button type="submit">\(words(.saveButton))</button></form></section>
                """
        }
        return self.layout(title: action.title, session: session, path: path, body: body)
    }

    /// What a person is told when the gateway refuses a write: in their own words where the code
    /// says all there is to say (the record changed since the form was opened, a role that may not,
    /// no answer in time); the rule the refusal broke said in Persian or Russian, naming the field
    /// by the form's label; the field's label, then the service's message, where the refusal names
    /// one; else the service's message after "The gateway refused:".
    func refusal(_ error: ConcordError) -> String {
        switch error.code {
        case .conflict where error.field == "body.version": return self.words(.changedMeanwhile)
        case .forbidden: return self.words(.roleMayNot)
        case .unavailable, .deadlineExceeded: return self.words(.noAnswerInTime)
        case .badRequest, .notFound, .conflict:
            let label = self.fieldLabel(error.field)
            if error.rule != nil, self.words.language != .en { return self.said(error) }
            if let label { return self.words(.fieldRefused, label, Words.isolated(error.message)) }
        default: break
        }
        return self.words(.writeRefused, Words.isolated(error.message))
    }

    /// A refusal's rule said in the reader's language, naming its fields by the form's labels
    /// (`labels` first: what a page's own form calls them).
    func said(_ error: ConcordError, labels: [String: Key] = [:]) -> String {
        self.words.refusal(error, label: self.fieldLabel(error.field, labels: labels), labelOf: { self.fieldLabel($0, labels: labels) })
    }

    /// The label a console form gives the field a refusal names (`body.title`, `owner`,
    /// `body.owner.official`), where a form has that field; `labels` are a page's own, where its
    /// form names a field otherwise (the trade page's `to` is the span's end, not a status).
    func fieldLabel(_ path: String?, labels: [String: Key] = [:]) -> String? {
        guard var name = path?[...] else { return nil }
        if name.hasPrefix("body.") { name = name.dropFirst(5) }
        let head = name.prefix(while: { $0 != "." && $0 != "[" })
        if let key = labels[String(head)] { return self.words(key) }
        let key: Key? = switch head {
        case "title": .colTitle
        case "owner": .colOwner
        case "due": .colDue
        case "parent": .partOf
        case "status", "to": .colStatus
        case "progress": .progressLabel
        case "date": .dateLabel
        case "note": .noteLabel
        case "category": .colCategory
        case "description": .descriptionLabel
        case "instrument": .colInstrument
        case "source": .colSource
        default: nil
        }
        return key.map { self.words($0) }
    }

    /// An action's owner as a person reads it: an official by name (in the reader's language
    /// where the record has it) when `officials` has them, anyone else as the record names them.
    func owner(_ owner: [String: String], officials: [String: SessionBrief.OfficialView]) -> String {
        owner.sorted { $0.key < $1.key }.map { self.named($0, $1, officials: officials) }.joined(separator: self.comma)
    }

    /// Who a party or an owner of `kind` is, as the record names them (`value`): an official by
    /// name, in the reader's language where the record has it, when `officials` has them.
    func named(_ kind: String, _ value: String, officials: [String: SessionBrief.OfficialView]) -> String {
        kind == "official" ? officials[value]?.name(in: self.words.language) ?? value : value
    }

    /// A part of a page the live script puts in anew at a change: `<section id="live-ID"
    /// data-live>`, named by its heading, holding what `content` makes of the service's answer,
    /// or what `failed` says when the answer failed.
    func live<Answer>(
        _ id: String, _ heading: String, _ answer: Result<Answer, ConcordError>, from service: String, labels: [String: Key] = [:],
        _ content: (Answer) -> HTML
    ) -> HTML {
        let inner = switch answer {
        case .success(let value): content(value)
        case .failure(let error): self.failed(service, error, labels: labels)
        }
        return "<section id=\"live-\(id)\" data-live aria-labelledby=\"\(id)-heading\"><h2 id=\"\(id)-heading\">\(heading)</h2>\(inner)</section>"
    }

    /// A part's one line when it has nothing to show.
    func nothing(_ key: Key) -> HTML {
        "<p>\(self.words(key))</p>"
    }

    /// What a page or a part of it says when its answer from `service` failed: that nothing is
    /// recorded there when it was not found; what was refused when the address asked for what no
    /// record can be (a status that is none), from the refusal's rule where it carries one; else
    /// that the service cannot be asked now, and why.
    func failed(_ service: String, _ error: ConcordError, labels: [String: Key] = [:]) -> HTML {
        let message = error.rule == nil ? Words.isolated(error.message) : self.said(error, labels: labels)
        let text = switch error.code {
        case .notFound: self.words(.notRecorded)
        case .badRequest: self.words(.writeRefused, message)
        default: self.words(.partUnavailable, Words.isolated(service), message)
        }
        return "<p class=\"problem\" role=\"status\">\(text)</p>"
    }

    /// The console's one script: live updates, and nothing a page needs to work. A page whose
    /// parts are marked `data-live` listens to `/events` (the gateway's `watch`, as server-sent
    /// events); at a change it fetches itself again and puts in the new parts, leaving a form
    /// being filled alone. When the connection drops it says so, and catches up when it returns.
    static let script = """
        (() => {
          "use strict";
          // An upload shows how far it has got, then the answer's page.
          const upload = document.getElementById("import");
          if (upload && window.XMLHttpRequest && window.FormData) {
            upload.addEventListener("submit", (event) => {
              event.preventDefault();
              const bar = upload.querySelector(".upload");
              const meter = bar.querySelector("progress");
              const label = bar.querySelector("span");
              bar.hidden = false;
              upload.querySelector("button").disabled = true;
              const request = new XMLHttpRequest();
              request.open("POST", upload.action);
              request.upload.onprogress = (e) => {
                if (e.lengthComputable) { meter.value = Math.round(100 * e.loaded / e.total); label.textContent = meter.value + "%"; }
              };
              request.upload.onload = () => { meter.value = 100; meter.removeAttribute("value"); };
              request.onload = () => {
                const answer = new DOMParser().parseFromString(request.responseText, "text/html");
                document.querySelector("main").replaceWith(document.adoptNode(answer.querySelector("main")));
              };
              request.onerror = () => { upload.querySelector("button").disabled = false; label.textContent = document.body.dataset.liveLost; };
              request.send(new FormData(upload));
            });
          }
          if (!window.EventSource || !document.querySelector("[data-live]")) return;
          const banner = document.createElement("p");
          banner.className = "live-lost";
          banner.setAttribute("role", "status");
          banner.textContent = document.body.dataset.liveLost;
          banner.hidden = true;
          document.body.prepend(banner);
          let pending = null;
          async function refresh() {
            pending = null;
            const answer = await fetch(location.href, { credentials: "same-origin", headers: { "Accept": "text/html" } });
            if (!answer.ok || answer.redirected) return;
            const fresh = new DOMParser().parseFromString(await answer.text(), "text/html");
            for (const part of document.querySelectorAll("[data-live]")) {
              const replacement = fresh.getElementById(part.id);
              if (replacement) part.replaceWith(document.adoptNode(replacement));
            }
          }
          function soon() { if (!pending) pending = setTimeout(refresh, 150); }
          let dropped = false;
          const events = new EventSource("/events");
          events.addEventListener("change", soon);
          events.addEventListener("start", () => { if (dropped) { dropped = false; banner.hidden = true; soon(); } });
          events.onerror = () => { dropped = true; banner.hidden = false; };
        })();
        """

    /// The console's one style sheet: served from the console, so pages need nothing from elsewhere.
    static let styleSheet = baseStyle + "\n" + BriefHTML.partsStyle

    static let baseStyle = """
        :root { color-scheme: light; --ink: #1d2433; --muted: #5b6577; --line: #d9dee7; --accent: #1f5fa8; --late: #a32020; }
        * { box-sizing: border-box; }
        body { margin: 0; font: 16px/1.5 system-ui, "Vazirmatn", "Noto Sans Arabic", "Noto Sans", sans-serif; color: var(--ink); background: #f6f7f9; }
        header.top { display: flex; flex-wrap: wrap; gap: .5rem 1.5rem; align-items: center; padding: .75rem 1rem; background: #fff; border-bottom: 1px solid var(--line); }
        header.top .home { font-weight: 600; color: var(--ink); text-decoration: none; margin-inline-end: auto; }
        ul.languages { display: flex; gap: .75rem; list-style: none; margin: 0; padding: 0; }
        ul.languages [aria-current] { font-weight: 600; }
        form.signout { display: flex; gap: .5rem; align-items: center; margin: 0; color: var(--muted); }
        main { max-width: 60rem; margin: 0 auto; padding: 1rem; }
        section { background: #fff; border: 1px solid var(--line); border-radius: 6px; padding: .75rem 1rem; margin: 1rem 0; }
        h1 { font-size: 1.5rem; } h2 { font-size: 1.15rem; margin: .25rem 0 .5rem; }
        table { width: 100%; border-collapse: collapse; } th, td { text-align: start; padding: .35rem .5rem; border-bottom: 1px solid var(--line); vertical-align: top; }
        .chip { display: inline-block; padding: 0 .45rem; border-radius: 999px; background: #e8edf5; font-size: .85rem; }
        .chip.overdue { background: #fbe3e3; color: var(--late); }
        .problem { color: var(--late); }
        .asof { color: var(--muted); margin: 0 0 .5rem; }
        form.signin, form.progress { display: grid; gap: .75rem; max-width: 26rem; }
        form.signin label, form.progress label { display: grid; gap: .25rem; }
        textarea { font: inherit; padding: .4rem .5rem; border: 1px solid var(--line); border-radius: 4px; }
        ul.actions li, ol.timeline li { margin: .25rem 0; }
        .percent { color: var(--muted); }
        progress { width: 12rem; vertical-align: middle; }
        .live-lost { position: sticky; top: 0; background: #fff4d6; border-bottom: 1px solid #e5c56b; padding: .4rem 1rem; margin: 0; }
        input { font: inherit; padding: .4rem .5rem; border: 1px solid var(--line); border-radius: 4px; }
        button { font: inherit; padding: .4rem .9rem; border: 1px solid var(--accent); border-radius: 4px; background: var(--accent); color: #fff; cursor: pointer; }
        form.signout button { background: transparent; color: var(--accent); }
        a:focus-visible, button:focus-visible, input:focus-visible { outline: 3px solid #f2b01e; outline-offset: 2px; }
        nav.sections { background: #fff; border-bottom: 1px solid var(--line); padding: 0 1rem; }
        nav.sections ul { display: flex; flex-wrap: wrap; gap: .25rem 1.25rem; list-style: none; margin: 0 auto; padding: .5rem 0; max-width: 60rem; }
        nav.sections a { color: var(--accent); text-decoration: none; } nav.sections a[aria-current] { color: var(--ink); font-weight: 600; border-bottom: 2px solid var(--accent); }
        form.write { display: grid; grid-template-columns: minmax(0, 1fr); gap: .6rem; max-width: 32rem; margin-top: .75rem; }
        select, input, textarea { max-width: 100%; } form.write label { grid-template-columns: minmax(0, 1fr); } form.write label, form.filters label { display: grid; gap: .2rem; }
        form.filters { display: flex; flex-wrap: wrap; gap: .5rem 1rem; align-items: end; margin: 0 0 1rem; }
        form.inline { display: flex; flex-wrap: wrap; gap: .5rem; align-items: end; } form.inline label { display: flex; gap: .4rem; align-items: center; }
        label.check { display: flex !important; gap: .4rem; align-items: center; }
        select, fieldset { font: inherit; padding: .35rem .5rem; border: 1px solid var(--line); border-radius: 4px; background: #fff; }
        dl.dates { display: grid; grid-template-columns: max-content 1fr; gap: .1rem 1rem; } dl.dates dt { color: var(--muted); } dl.dates dd { margin: 0; }
        ul.tree { list-style: none; padding-inline-start: 1.1rem; } section > ul.tree { padding-inline-start: 0; }
        ul.obstacles { list-style: none; padding: 0; } ul.obstacles > li { border-bottom: 1px solid var(--line); padding: .5rem 0; }
        ol.history { list-style: none; padding: 0; } ol.history > li { border-bottom: 1px solid var(--line); padding: .5rem 0; }
        table.diff td.before { color: var(--muted); text-decoration: line-through; } table.diff th[scope] { font-weight: 500; }
        td.number { text-align: end; font-variant-numeric: tabular-nums; }
        .upload progress { width: 100%; }
        article.brief h1 { font-size: 1.5rem; }
        @media (max-width: 40rem) { table, thead, tbody, tr, td, th { display: block; } thead { display: none; } td { border: 0; padding: .1rem 0; } tr { border-bottom: 1px solid var(--line); padding: .4rem 0; } }
        @media print { header.top nav, nav.sections, form.signout, form.write, form.filters, form.inline, .live-lost { display: none; } body { background: #fff; } section { border: 0; } }
        """
}
