import ConcordBriefs
import ConcordProtocol
import ConcordWire
import ConcordWords
import Hummingbird

/// The sessions: their list, and each session's page, which is its brief (what `brief.session`
/// answers, as `concord brief session --html` writes it) with the trade chart; it prints as the
/// brief does.
extension Console {
    func registerSessions(on router: Router<ConsoleContext>) {
        router.get("/sessions") { request, _ in try await self.sessions(request) }
        router.get("/sessions/:number") { request, context in try await self.session(request, context) }
    }

    func sessions(_ request: Request) async throws -> Response {
        try await self.personal(request) { person, pages in
            let sessions = await self.gateway.json("participants.sessions.list", ["limit": .integer(500)], person: person)
            return pages.sessions(session: person, sessions)
        }
    }

    func session(_ request: Request, _ context: ConsoleContext) async throws -> Response {
        let number = Int(context.parameters.get("number") ?? "") ?? 0
        var found = true
        return try await self.personal(request, status: found ? .ok : .notFound) { person, pages in
            let gateway = self.gateway
            let answer = await gateway.call("brief.session", #"{"number":\#(number)}"#, as: SessionBrief.self, person: person)
            guard case .success(var brief) = answer else {
                found = !answer.isNotFound
                return pages.layout(title: pages.words(.session, pages.words.integer(number)), session: person, path: request.uri.path, body: pages.problem(answer))
            }
            brief.lookedUp = await self.lookUp(brief.officialsToLookUp, person: person)
            // The chart is the brief's one extra: without it the page still says everything.
            let months = (try? await brief.months { body in
                try await gateway.call("trade.series", body, as: [SeriesPoint].self, person: person).get()
            }) ?? []
            return pages.brief(session: person, brief, months: months, path: request.uri.path)
        }
    }

    /// The officials a brief names by id, each looked up in participants: their names, or
    /// unknown when participants has none. The gets go out together, up to `lookUpsAtOnce`, not
    /// one after another: the page waits about one round trip, and participants reads them in
    /// one query (its `GetBatcher` takes the gets that arrive together as one batch). The bound
    /// keeps a page with many officials well inside the console token's concurrency, which
    /// every person signed in shares.
    func lookUp(_ ids: Set<String>, person: SessionCookie) async -> SessionBrief.OfficialLookup {
        let gateway = self.gateway
        return await withTaskGroup(of: (String, Result<SessionBrief.OfficialView, ConcordError>).self) { group in
            var waiting = ids.sorted()[...]
            func next() {
                guard let id = waiting.popFirst() else { return }
                group.addTask {
                    (id, await gateway.call("participants.officials.get", Gateway.body(["id": .string(id)]), as: SessionBrief.OfficialView.self, person: person))
                }
            }
            for _ in 0..<Self.lookUpsAtOnce { next() }
            var lookup = SessionBrief.OfficialLookup()
            for await (id, answer) in group {
                next()
                switch answer {
                case .success(let official): lookup.known[id] = official
                case .failure(let error) where error.code == .notFound: lookup.unknown.insert(id)
                case .failure: break
                }
            }
            return lookup
        }
    }

    /// The most officials a page looks up at once.
    static let lookUpsAtOnce = 8
}

extension Pages {
    func sessions(session: SessionCookie, _ answer: Result<JSONValue, ConcordError>) -> HTML {
        let words = self.words
        var body: HTML = "<h1>\(words(.navSessions))</h1>"
        switch answer {
        case .success(let page):
            let rows: [HTML] = page.rows.sorted { ($0[path: "number"]?.integer ?? 0) > ($1[path: "number"]?.integer ?? 0) }.map { row in
                let number = Int(row[path: "number"]?.integer ?? 0)
                let dates = [row[path: "startDate"], row[path: "endDate"]].compactMap { $0?.string }.map { words.date($0) }.joined(separator: " – ")
                return """
                    <tr><td><a href="/sessions/\(number)">\(words(.session, words.integer(number)))</a></td><td>\(dates)</td>\
                    <td><bdi>\(row[path: "city"]?.cell ?? "")</bdi></td><td><bdi>\(row[path: "hostCountry"]?.cell ?? "")</bdi></td></tr>
                    """
            }
            body = body + (rows.isEmpty ? self.nothing(.noneRecorded) : """
                <section><table><thead><tr><th>\(words(.colSession))</th><th>\(words(.colDate))</th><th>\(words(.colPlace))</th><th>\(words(.colHost))</th></tr></thead>
                <tbody>\(rows)</tbody></table></section>
                """)
        case .failure(let error):
            body = body + self.failed("participants", error)
        }
        return self.layout(title: words(.navSessions), session: session, path: "/sessions", body: body)
    }

    /// A session's page: the brief, as the CLI's HTML brief reads, inside the console's layout.
    func brief(session: SessionCookie, _ brief: SessionBrief, months: [BriefHTML.Month], path: String) -> HTML {
        let (title, markup) = BriefHTML(words: self.words, brief: brief).body(brief, months: months)
        // The brief's writer escapes every text it puts in (BriefHTML.escapeHTML).
        let body: HTML = "<article class=\"brief\" id=\"live-brief\" data-live>\(HTML(trusted: markup))</article>"
        return self.layout(title: title, session: session, path: path, body: body)
    }

    /// A failed answer, said in the page (`failed`).
    func problem<T>(_ answer: Result<T, ConcordError>, service: String = "gateway") -> HTML {
        guard case .failure(let error) = answer else { return "" }
        return self.failed(service, error)
    }
}
