import ConcordProtocol
import ConcordWords
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Hummingbird

/// The obstacles: each with what it blocks; a person who may write raises one, moves it along
/// (open, being addressed, resolved) and says what it blocks.
extension Console {
    static let obstacleCategories = [
        "banking-and-payments", "legal-framework", "standards-and-certification", "customs", "logistics-and-transport", "visas-and-travel", "other",
    ]
    static let obstacleStatuses = ["open", "being-addressed", "resolved"]

    func registerObstacles(on router: Router<ConsoleContext>) {
        router.get("/obstacles") { request, _ in try await self.obstacles(request) }
        router.post("/obstacles") { request, _ in try await self.raiseObstacle(request) }
        router.post("/obstacles/:id") { request, context in try await self.updateObstacle(request, context) }
    }

    func obstacles(_ request: Request, problem: String? = nil, status: HTTPResponse.Status = .ok) async throws -> Response {
        try await self.personal(request, status: status) { person, pages in
            async let obstacles = self.gateway.json("agreements.obstacles.list", ["limit": .integer(500)], person: person)
            async let instruments = self.gateway.json("agreements.instruments.list", ["limit": .integer(500)], person: person)
            async let actions = self.gateway.json("agreements.actions.list", ["limit": .integer(500)], person: person)
            var titles: [String: String] = [:]
            for row in ((try? await instruments.get())?.rows ?? []) + ((try? await actions.get())?.rows ?? []) {
                if let id = row[path: "id"]?.string { titles[id] = pages.title(row) }
            }
            return pages.obstacles(session: person, await obstacles, titles: titles, problem: problem)
        }
    }

    func raiseObstacle(_ request: Request) async throws -> Response {
        try await self.submit(request, verb: "agreements.obstacles.create") { form throws(FormProblem) in
            var body: [String: JSONValue] = [
                "title": .string(form["title"] ?? ""), "category": .string(form["category"] ?? ""), "status": .string("open"),
            ]
            if let description = form["description"], !description.isEmpty { body["description"] = .string(description) }
            if let instrument = form["instrument"], !instrument.isEmpty { body["affects"] = .object(["instruments": .array([.string(instrument)])]) }
            body["raisedAt"] = .object(["date": .string(String(Date().ISO8601Format().prefix(10)))])
            return body
        } next: { _ in
            "/obstacles"
        } again: { problem, status in
            try await self.obstacles(request, problem: problem, status: status)
        }
    }

    func updateObstacle(_ request: Request, _ context: ConsoleContext) async throws -> Response {
        let id = context.parameters.get("id") ?? ""
        return try await self.submit(request, verb: "agreements.obstacles.update") { form throws(FormProblem) in
            ["id": .string(id), "version": try Self.version(form), "status": .string(form["status"] ?? "")]
        } next: { _ in
            "/obstacles"
        } again: { problem, status in
            try await self.obstacles(request, problem: problem, status: status)
        }
    }
}

extension Pages {
    func obstacles(session: SessionCookie, _ answer: Result<JSONValue, ConcordError>, titles: [String: String], problem: String?) -> HTML {
        let words = self.words
        var body: HTML = "<h1>\(words(.navObstacles))</h1>"
        if let problem { body = body + "<p class=\"problem\" role=\"alert\">\(problem)</p>" }
        body = body + "<section id=\"live-obstacles\" data-live>"
        switch answer {
        case .success(let page) where page.rows.isEmpty:
            body = body + self.nothing(.noneRecorded)
        case .success(let page):
            let order = Console.obstacleStatuses
            let items: [HTML] = page.rows.sorted { (order.firstIndex(of: $0[path: "status"]?.string ?? "") ?? 9) < (order.firstIndex(of: $1[path: "status"]?.string ?? "") ?? 9) }.map { row in
                let id = row[path: "id"]?.string ?? ""
                let status = row[path: "status"]?.string ?? ""
                let blocks: [HTML] = (row[path: "affects.instruments"]?.rows ?? []).compactMap(\.string).map {
                    "<a href=\"\(Self.href("agreements", $0))\"><bdi>\(titles[$0] ?? $0)</bdi></a>"
                } + (row[path: "affects.actions"]?.rows ?? []).compactMap(\.string).map {
                    "<a href=\"\(Self.href("actions", $0))\"><bdi>\(titles[$0] ?? $0)</bdi></a>"
                }
                var item: HTML = """
                    <li><h3><span class="chip obstacle-\(status)">\(words.label(.obstacleStatus, status))</span> <bdi>\(row[path: "title"]?.cell ?? "")</bdi> \
                    <small>\(words.label(.obstacleCategory, row[path: "category"]?.string ?? ""))</small></h3>\
                    \(row[path: "description"]?.string.map { HTML("<p><bdi>\($0)</bdi></p>") } ?? "")\
                    <p>\(words(.blocksLabel)) \(blocks.isEmpty ? HTML("\(words(.none))") : HTML(trusted: blocks.map(\.markup).joined(separator: self.comma)))</p>
                    <p><a href="\(Self.href("history", "agreements", "obstacles", id))">\(words(.historyLink))</a></p>
                    """
                if session.role != "reader" {
                    let options: [HTML] = Console.obstacleStatuses.map {
                        "<option value=\"\($0)\"\(HTML(trusted: $0 == status ? " selected" : ""))>\(words.label(.obstacleStatus, $0))</option>"
                    }
                    item = item + """
                        <form class="inline" method="post" action="\(Self.href("obstacles", id))">\
                        <input type="hidden" name="csrf" value="\(session.csrf)"><input type="hidden" name="version" value="\(String(row[path: "version"]?.integer ?? 0))">\
                        <label>\(words(.colStatus)) <select name="status">\(options)</select></label> <button type="submit">\(words(.saveButton))</button></form>
                        """
                }
                return item + "</li>"
            }
            body = body + "<ul class=\"obstacles\">\(items)</ul>"
        case .failure(let error):
            body = body + self.failed("agreements", error)
        }
        body = body + "</section>"
        if session.role != "reader" {
            let categories: [HTML] = Console.obstacleCategories.map { "<option value=\"\($0)\">\(words.label(.obstacleCategory, $0))</option>" }
            let instruments: [HTML] = titles.filter { _ in true }.sorted { $0.value < $1.value }.map { "<option value=\"\($0.key)\">\($0.value)</option>" }
            body = body + """
                <section><h2>\(words(.raiseObstacleTitle))</h2>
                <form class="write" method="post" action="/obstacles">
                <input type="hidden" name="csrf" value="\(session.csrf)">
                <label>\(words(.colTitle)) <input name="title" required maxlength="500"></label>
                <label>\(words(.colCategory)) <select name="category">\(categories)</select></label>
                <label>\(words(.descriptionLabel)) <textarea name="description" maxlength="4000" rows="3"></textarea></label>
                <label>\(words(.blocksLabel)) <select name="instrument"><option value="">\(words(.none))</option>\(instruments)</select></label>
                <button type="submit">\(words(.raiseButton))</button></form></section>
                """
        }
        return self.layout(title: words(.navObstacles), session: session, path: "/obstacles", body: body)
    }
}
