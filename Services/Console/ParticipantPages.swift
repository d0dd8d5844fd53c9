import ConcordProtocol
import ConcordWords
import Hummingbird

/// Who takes part: countries, regions (with their Persian and Russian names), officials,
/// sessions with who attended, and the partnerships between regions.
extension Console {
    func registerParticipants(on router: Router<ConsoleContext>) {
        router.get("/participants") { request, _ in try await self.participants(request) }
    }

    func participants(_ request: Request) async throws -> Response {
        try await self.personal(request) { person, pages in
            let gateway = self.gateway
            async let countries = gateway.json("participants.countries.list", ["limit": .integer(500)], person: person)
            async let regions = gateway.json("participants.regions.list", ["limit": .integer(500)], person: person)
            async let officials = gateway.json("participants.officials.list", ["limit": .integer(500)], person: person)
            async let attendance = gateway.json("participants.attendance.list", ["limit": .integer(500)], person: person)
            async let partnerships = gateway.json("participants.partnerships.list", ["limit": .integer(500)], person: person)
            return pages.participants(
                session: person, countries: await countries, regions: await regions, officials: await officials,
                attendance: await attendance, partnerships: await partnerships
            )
        }
    }
}

extension Pages {
    func participants(
        session: SessionCookie, countries: Result<JSONValue, ConcordError>, regions: Result<JSONValue, ConcordError>,
        officials: Result<JSONValue, ConcordError>, attendance: Result<JSONValue, ConcordError>, partnerships: Result<JSONValue, ConcordError>
    ) -> HTML {
        let words = self.words
        func table(_ title: Key, _ id: String, _ answer: Result<JSONValue, ConcordError>, _ head: [Key], _ row: (JSONValue) -> [HTML]) -> HTML {
            self.live(id, words(title), answer, from: "participants") { page in
                guard !page.rows.isEmpty else { return self.nothing(.noneRecorded) }
                let heads: [HTML] = head.map { "<th>\(words($0))</th>" }
                let rows: [HTML] = page.rows.map { record in
                    let cells: [HTML] = row(record).map { "<td>\($0)</td>" }
                    return "<tr>\(cells)</tr>"
                }
                return "<table><thead><tr>\(heads)</tr></thead><tbody>\(rows)</tbody></table>"
            }
        }
        func named(_ record: JSONValue) -> HTML {
            let local: [HTML] = ["fa", "ru"].compactMap { code in
                record[path: "localNames.\(code)"]?.string.map { "<span lang=\"\(code)\" dir=\"auto\">\($0)</span>" }
            }
            return "<bdi>\(record[path: "name"]?.cell ?? "")</bdi>" + (local.isEmpty ? "" : " · " + HTML(trusted: local.map(\.markup).joined(separator: " · ")))
        }
        var body: HTML = "<h1>\(words(.navParticipants))</h1>"
        body = body + table(.countriesTitle, "countries", countries, [.colCode, .colName, .colLocalName]) { row in
            ["<span dir=\"ltr\">\(row[path: "code"]?.cell ?? "")</span>", "<bdi>\(row[path: "name"]?.cell ?? "")</bdi>", "<span dir=\"auto\">\(row[path: "localName"]?.cell ?? "")</span>"]
        }
        body = body + table(.regionsTitle, "regions", regions, [.colCode, .colName, .colKind, .colCapital]) { row in
            [
                "<span dir=\"ltr\">\(row[path: "code"]?.cell ?? "")</span>", named(row),
                "\(words.label(.regionKind, row[path: "kind"]?.string ?? ""))", "<bdi>\(row[path: "capital"]?.cell ?? "")</bdi>",
            ]
        }
        body = body + table(.officialsTitle, "officials", officials, [.colName, .colPosition]) { row in
            [named(row), "<bdi>\(row[path: "title"]?.cell ?? "")</bdi> <small><bdi>\(row[path: "organisation"]?.cell ?? "")</bdi></small>"]
        }
        // Attendance names an official by id: shown by name, in the reader's language where the
        // official's record has it, from the officials listed above.
        var names: [String: String] = [:]
        for official in (try? officials.get())?.rows ?? [] {
            guard let id = official[path: "id"]?.string, let name = official[path: "name"]?.string else { continue }
            names[id] = official[path: "localNames.\(words.language.rawValue)"]?.string ?? name
        }
        body = body + table(.attendanceTitle, "attendance", attendance, [.colSession, .colName, .colRole]) { row in
            let number = Int(row[path: "session"]?.integer ?? 0)
            let official = row[path: "official"]?.cell ?? ""
            return [
                "<a href=\"/sessions/\(number)\">\(words(.session, words.integer(number)))</a>", "<bdi>\(names[official] ?? official)</bdi>",
                "\(words.label(.attendanceRole, row[path: "role"]?.string ?? ""))",
            ]
        }
        body = body + table(.partnerships, "partnerships", partnerships, [.colWith, .colInstrument, .colSince]) { row in
            [
                "<span dir=\"ltr\">\(row[path: "regionA"]?.cell ?? "") – \(row[path: "regionB"]?.cell ?? "")</span>", "<bdi>\(row[path: "instrument"]?.cell ?? "")</bdi>",
                "\(row[path: "since"]?.string.map { words.date($0) } ?? "")",
            ]
        }
        return self.layout(title: words(.navParticipants), session: session, path: "/participants", body: body)
    }
}
