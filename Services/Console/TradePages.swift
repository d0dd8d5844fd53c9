import ConcordBriefs
import ConcordComtrade
import ConcordFields
import ConcordProtocol
import ConcordTradeCodes
import ConcordWire
import ConcordWords
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Hummingbird
import NIOCore

/// Trade: growth for a pair and span (the chart, the months covered and missing, synthetic data
/// marked), the top commodities and the mirror figures; and the import of a Comtrade CSV, by
/// the rules of `concord trade import`: every row checked first, nothing imported from a file
/// with a bad row, the bad rows listed by line.
extension Console {
    func registerTrade(on router: Router<ConsoleContext>) {
        router.get("/trade") { request, _ in try await self.trade(request) }
        router.post("/trade/import") { request, _ in try await self.importTrade(request) }
    }

    /// What the trade page asks: a pair, a flow, a span and its base span.
    struct TradeQuestion {
        var reporter = "RU"
        var partner = "IR"
        var flow = "total"
        var from = ""
        var to = ""
        var baseFrom = ""
        var baseTo = ""

        var flows: [String] { self.flow == "total" ? ["X", "M"] : [self.flow] }

        /// The base span as asked, or the same months a year earlier.
        var base: (from: String, to: String) {
            (self.baseFrom.isEmpty ? Self.yearEarlier(self.from) : self.baseFrom, self.baseTo.isEmpty ? Self.yearEarlier(self.to) : self.baseTo)
        }

        static func yearEarlier(_ month: String) -> String {
            guard month.count == 7, let year = Int(month.prefix(4)) else { return month }
            return String(year - 1) + month.dropFirst(4)
        }

        static func isMonth(_ text: String) -> Bool {
            text.count == 7 && text.enumerated().allSatisfy { index, character in index == 4 ? character == "-" : character.isASCII && character.isNumber }
        }

        /// What is wrong with the question before anything is asked, with the rule it breaks: a
        /// month not written YYYY-MM, a flow that is none, a span that ends before it starts.
        var problem: ConcordError? {
            for (name, value) in [("from", self.from), ("to", self.to), ("baseFrom", self.baseFrom), ("baseTo", self.baseTo)] where !value.isEmpty && !Self.isMonth(value) {
                return ConcordError(.badRequest, "\(name): a month, YYYY-MM", field: name, rule: .form(.month, got: value))
            }
            guard ["total", "X", "M"].contains(self.flow) else {
                return ConcordError(.badRequest, "flow: total, X or M", field: "flow", rule: .oneOf(allowed: ["total", "X", "M"], got: self.flow))
            }
            // Months as YYYY-MM compare as text.
            for (start, end, names) in [(self.from, self.to, ("from", "to")), (self.baseFrom, self.baseTo, ("baseFrom", "baseTo"))]
            where !start.isEmpty && !end.isEmpty && end < start {
                return ConcordError(.badRequest, "\(names.1) is before \(names.0)", field: names.1, rule: .notBefore(other: names.0))
            }
            return nil
        }
    }

    func trade(_ request: Request, imported: TradeImport? = nil, status: HTTPResponse.Status = .ok) async throws -> Response {
        try await self.personal(request, status: status) { person, pages in
            let gateway = self.gateway
            let query = request.uri.queryParameters
            var question = TradeQuestion()
            if query.get("reporter") == nil {
                // Unasked, the page shows the figure stated most lately, beside what the data say.
                if case .success(let stated) = await gateway.json("trade.stated.list", ["limit": .integer(500)], person: person),
                   let latest = stated.rows.filter({ $0[path: "measure"]?.string == "growth" }).max(by: { ($0[path: "statedOn"]?.cell ?? "") < ($1[path: "statedOn"]?.cell ?? "") }) {
                    question = TradeQuestion(
                        reporter: latest[path: "reporter"]?.cell ?? "RU", partner: latest[path: "partner"]?.cell ?? "IR", flow: latest[path: "flow"]?.cell ?? "total",
                        from: latest[path: "from"]?.cell ?? "", to: latest[path: "to"]?.cell ?? "", baseFrom: latest[path: "baseFrom"]?.cell ?? "", baseTo: latest[path: "baseTo"]?.cell ?? ""
                    )
                }
            } else {
                func field(_ name: String) -> String { query.get(name).map { String($0).trimmingSpaces() } ?? "" }
                question = TradeQuestion(
                    reporter: field("reporter").uppercased(), partner: field("partner").uppercased(), flow: field("flow"),
                    from: field("from"), to: field("to"), baseFrom: field("baseFrom"), baseTo: field("baseTo")
                )
            }
            guard question.problem == nil, !question.from.isEmpty, !question.to.isEmpty else {
                return pages.trade(session: person, question: question, figures: nil, imported: imported, problem: question.problem)
            }
            let base = question.base
            let growthBody: [String: JSONValue] = [
                "reporter": .string(question.reporter), "partner": .string(question.partner), "flow": .string(question.flow),
                "from": .string(question.from), "to": .string(question.to), "baseFrom": .string(base.from), "baseTo": .string(base.to),
            ]
            async let growth = gateway.call("trade.growth", Gateway.body(growthBody), as: SessionBrief.Growth.self, person: person)
            async let top = gateway.json("trade.top", [
                "reporter": .string(question.reporter), "partner": .string(question.partner), "flow": .string(question.flows[0]),
                "from": .string(question.from), "to": .string(question.to), "digits": .integer(2), "limit": .integer(10),
            ], person: person)
            async let mirror = gateway.call("trade.mirror", Gateway.body([
                "a": .string(question.reporter), "b": .string(question.partner), "from": .string(question.from), "to": .string(question.to),
            ]), as: MirrorAnswer.self, person: person)
            let months = (try? await BriefHTML.months(
                reporter: question.reporter, partner: question.partner, flows: question.flows, span: (question.from, question.to), base: base
            ) { body in try await gateway.call("trade.series", body, as: [SeriesPoint].self, person: person).get() }) ?? []
            let figures = TradeFigures(growth: await growth, months: months, top: await top, mirror: await mirror)
            return pages.trade(session: person, question: question, figures: figures, imported: imported, problem: nil)
        }
    }

    /// An upload checked and, when every row is good, imported: how many rows, and what became
    /// of them; or the bad rows by line, and nothing imported.
    struct TradeImport {
        var file: String
        var rows = 0
        var breakdowns = 0
        var problems: [(line: Int, column: String, reason: String, rule: Rule?)] = []
        var outcome: ImportOutcome?
        var refusal: String?
    }

    /// The most an upload may be: a year of a pair's monthly data at six digits is far less.
    static let maximumUpload = 32 * 1024 * 1024

    func importTrade(_ request: Request) async throws -> Response {
        // In the language the page will be in (a `?lang=` on the form's address too).
        guard let session = self.signedIn(request)?.session else { return Self.redirect("/sign-in") }
        let words = session.words
        guard let boundary = request.headers[.contentType].flatMap(MultipartForm.boundary(of:)) else {
            return try await self.trade(request, imported: TradeImport(file: "", refusal: words(.importNotAFile)), status: .badRequest)
        }
        let form: MultipartForm
        do {
            form = try MultipartForm(try await request.body.collect(upTo: Self.maximumUpload), boundary: boundary)
        } catch let problem as MultipartForm.Problem {
            // What exactly was broken goes to the log; the reader is told what to do.
            self.logger.notice("import refused: unreadable form", metadata: ["user": "\(session.user)", "why": "\(problem.description)"])
            return try await self.trade(request, imported: TradeImport(file: "", refusal: words(.importFormBroken)), status: .badRequest)
        } catch {
            return try await self.trade(request, imported: TradeImport(file: "", refusal: words(.importTooLarge, words.integer(Self.maximumUpload / 1024 / 1024))), status: .contentTooLarge)
        }
        guard let csrf = form["csrf"]?.text, Self.same(csrf, session.csrf) else {
            return try await self.trade(request, imported: TradeImport(file: "", refusal: words(.formExpired)), status: .forbidden)
        }
        let published = form["published"]?.text ?? ""
        let source = (form["source"]?.text).flatMap { $0.isEmpty ? nil : $0 } ?? "UN Comtrade"
        guard let file = form["file"], let name = file.filename, !name.isEmpty else {
            return try await self.trade(request, imported: TradeImport(file: "", refusal: words(.importNotAFile)), status: .unprocessableContent)
        }
        guard published.count == 10, (try? Date(published + "T00:00:00Z", strategy: .iso8601)) != nil else {
            return try await self.trade(request, imported: TradeImport(file: name, refusal: words(.importPublished)), status: .unprocessableContent)
        }
        var result = TradeImport(file: name)
        // 1. Every row checked; nothing imported from a file with a bad one.
        let rows: [[TableBody.Cell]]
        do {
            rows = try ComtradeUpload.rows(of: file.bytes, source: source, published: published, into: &result)
        } catch {
            self.logger.notice("import refused: unreadable file", metadata: ["user": "\(session.user)", "file": "\(name)", "why": "\(error)"])
            result.refusal = error.said(words)
            return try await self.trade(request, imported: result, status: .unprocessableContent)
        }
        guard result.problems.isEmpty else {
            self.logger.notice("import refused: bad rows", metadata: ["user": "\(session.user)", "file": "\(name)", "bad": "\(result.problems.count)"])
            return try await self.trade(request, imported: result, status: .unprocessableContent)
        }
        // 2. Sent in batches, each all or nothing and idempotent: sent again, nothing is imported twice.
        var outcome = ImportOutcome(created: 0, present: 0)
        for batch in ComtradeUpload.batches(rows) {
            switch await self.gateway.call("trade.observations.import", String(buffer: batch), as: ImportOutcome.self, person: session) {
            case .success(let answer):
                outcome.created += answer.created
                outcome.present += answer.present
            case .failure(let error):
                result.outcome = outcome
                result.refusal = Pages(words: words).refusal(error)
                return try await self.trade(request, imported: result, status: error.code == .forbidden ? .forbidden : .unprocessableContent)
            }
        }
        result.outcome = outcome
        self.logger.info("imported", metadata: ["user": "\(session.user)", "file": "\(name)", "created": "\(outcome.created)", "present": "\(outcome.present)"])
        return try await self.trade(request, imported: result)
    }
}

/// An uploaded Comtrade CSV read whole: its encoding from its byte order mark (UTF-8 otherwise),
/// each row checked as `concord trade import` checks it.
enum ComtradeUpload {
    /// Why a whole file cannot be read: `description` in English for the log, `said` for the
    /// person who uploaded it.
    struct Failure: Error, CustomStringConvertible {
        enum Cause {
            case empty
            case csv(CSVReader.Failure)
            case header(line: Int, ComtradeProblem)
            case other(String)
        }

        var cause: Cause

        var description: String {
            switch self.cause {
            case .empty: "the file is empty: no header row"
            case .csv(let failure): failure.description
            case .header(let line, let problem): "line \(line): \(problem.reason)"
            case .other(let text): text
            }
        }

        /// In the reader's language, from the failure's kind or rule where it has one.
        func said(_ words: Words) -> String {
            switch self.cause {
            case .empty:
                return words(.importEmptyFile)
            case .csv(let failure):
                let reason: String = switch failure.kind {
                case .fieldTooLong(let max)?: words(.csvFieldTooLong, words.integer(max))
                case .unclosedQuote?: words(.csvUnclosedQuote)
                case .tooManyFields(let max)?: words(.csvTooManyFields, words.integer(max))
                case .notUTF8(let byte)?: words(.csvNotUTF8, Words.isolated(CSVReader.hex(byte))) + ": " + words(.importSaveAsUTF8)
                case nil: Words.isolated(failure.reason)
                }
                return words(.importFileLine, words.integer(failure.line), reason)
            case .header(let line, let problem):
                let reason = problem.rule.map { words.said($0, field: Words.isolated(problem.column), message: problem.reason) }
                    ?? Words.isolated(problem.reason)
                return words(.importFileLine, words.integer(line), reason)
            case .other(let text):
                return Words.isolated(text)
            }
        }
    }

    static func rows(of bytes: ByteBuffer, source: String, published: String, into result: inout Console.TradeImport) throws(Failure) -> [[TableBody.Cell]] {
        var reader = CSVReader()
        var records: [CSVReader.Record] = []
        do {
            var text = Array(bytes.readableBytesView)
            if let marked = Transcoder.encoding(ofMark: text) {
                text = try Transcoder(from: marked).convert(text, final: true)
            }
            try reader.feed(text) { records.append($0) }
            try reader.finish { records.append($0) }
        } catch let failure as CSVReader.Failure {
            throw Failure(cause: .csv(failure))
        } catch {
            throw Failure(cause: .other("\(error)"))
        }
        guard let header = records.first else { throw Failure(cause: .empty) }
        let columns: ComtradeColumns
        do {
            columns = try ComtradeColumns(header: header.fields)
        } catch {
            throw Failure(cause: .header(line: header.line, error))
        }
        var rows: [[TableBody.Cell]] = []
        for record in records.dropFirst() {
            do {
                switch try ComtradeRow.read(record.fields, columns: columns, source: source, published: published, keepBreakdowns: false) {
                case .observation(let row):
                    rows.append(row)
                    result.rows += 1
                case .breakdown:
                    result.breakdowns += 1
                }
            } catch {
                result.problems.append((record.line, error.column, error.reason, error.rule))
            }
        }
        return rows
    }

    /// Request bodies of at most 10,000 rows and 960 KiB each (ImportBatches, as the CLI sends).
    static func batches(_ rows: [[TableBody.Cell]]) -> [ByteBuffer] {
        var batches = ImportBatches()
        var bodies = rows.compactMap { batches.add($0)?.body }
        if let last = batches.finish() { bodies.append(last.body) }
        return bodies
    }
}

/// What the trade page shows of a question.
struct TradeFigures {
    var growth: Result<SessionBrief.Growth, ConcordError>
    var months: [BriefHTML.Month]
    var top: Result<JSONValue, ConcordError>
    var mirror: Result<MirrorAnswer, ConcordError>
}

extension Pages {
    /// What the trade page's question form calls the fields a refused question names.
    static let questionLabels: [String: Key] = [
        "reporter": .colReporter, "partner": .colPartner, "a": .colReporter, "b": .colPartner, "flow": .colFlow,
        "from": .spanFrom, "to": .spanTo, "baseFrom": .baseFrom, "baseTo": .baseTo,
    ]

    func trade(
        session: SessionCookie, question: Console.TradeQuestion, figures: TradeFigures?, imported: Console.TradeImport?, problem: ConcordError?
    ) -> HTML {
        let words = self.words
        let growthWords = GrowthWords(words: words)
        let flows: [HTML] = [("total", words(.flowTotal)), ("X", words(.flowExports)), ("M", words(.flowImports))].map { code, label in
            "<option value=\"\(code)\"\(HTML(trusted: code == question.flow ? " selected" : ""))>\(label)</option>"
        }
        var body: HTML = """
            <h1>\(words(.navTrade))</h1>
            <form class="filters" method="get" action="/trade">\
            <label>\(words(.colReporter)) <input name="reporter" value="\(question.reporter)" size="6" dir="ltr"></label>\
            <label>\(words(.colPartner)) <input name="partner" value="\(question.partner)" size="6" dir="ltr"></label>\
            <label>\(words(.colFlow)) <select name="flow">\(flows)</select></label>\
            <label>\(words(.spanFrom)) <input name="from" value="\(question.from)" placeholder="2025-01" size="8" dir="ltr"></label>\
            <label>\(words(.spanTo)) <input name="to" value="\(question.to)" placeholder="2025-09" size="8" dir="ltr"></label>\
            <label>\(words(.baseFrom)) <input name="baseFrom" value="\(question.baseFrom)" placeholder="2024-01" size="8" dir="ltr"></label>\
            <label>\(words(.baseTo)) <input name="baseTo" value="\(question.baseTo)" placeholder="2024-09" size="8" dir="ltr"></label>\
            <button type="submit">\(words(.showButton))</button></form>
            """
        if let problem { body = body + "<p class=\"problem\" role=\"alert\">\(self.said(problem, labels: Self.questionLabels))</p>" }
        if let imported { body = body + self.imported(imported) }
        if let figures {
            let spans = (words.span(question.from, question.to), words.span(question.base.from, question.base.to))
            body = body + self.live("growth", words(.growthTitle, spans.0, spans.1), figures.growth, from: "trade", labels: Self.questionLabels) { growth in
                var part: HTML = growth.computed.isEmpty ? self.nothing(.noObservationsMonths) : ""
                for figure in growth.computed {
                    part = part + """
                        <p class="computed" data-current-months="\(figure.current.monthsCovered.count)"><strong class="figure">\(growthWords.headline(figure))</strong> (<bdi>\(figure.source)</bdi>)\
                        \(growthWords.sums(figure).map { ": " + $0 } ?? "")\
                        \(figure.synthetic ? HTML(" <span class=\"chip synthetic\">\(words(.synthetic))</span>") : "")</p>
                        <p>\(words(.monthsCoveredLine, words.integer(figure.current.monthsCovered.count), words.integer(figure.base.monthsCovered.count)))</p>
                        """
                    if let gaps = growthWords.leftOut(figure) { part = part + "<p class=\"missing\">\(gaps)</p>" }
                    let missing = (figure.current.monthsMissing + figure.base.monthsMissing).map { words.digits(GrowthFigure.dash($0)) }
                    if !missing.isEmpty { part = part + "<p class=\"missing\">\(words(.monthsMissingList, missing.joined(separator: self.comma)))</p>" }
                }
                let chart = BriefHTML(words: words).chart(
                    figures.months, spans: spans, stated: words(.chartLabel), computed: growth.computed.first.map(growthWords.headline)
                )
                // The chart's writer escapes every text it puts in.
                return part + HTML(trusted: chart)
            }

            let topTitle = words(.topTitle, question.flows[0] == "X" ? words(.flowExports) : words(.flowImports))
            body = body + self.live("top", topTitle, figures.top, from: "trade", labels: Self.questionLabels) { answer in
                let sources = answer.rows
                var part: HTML = sources.isEmpty ? self.nothing(.noObservationsMonths) : ""
                for source in sources {
                    let rows: [HTML] = (source[path: "commodities"]?.rows ?? []).map { row in
                        """
                        <tr><td dir="ltr">\(row[path: "commodity"]?.cell ?? "")</td><td class="number">\(words.number(row[path: "value"]?.cell ?? "0"))</td>\
                        <td class="number">\(row[path: "sharePercent"]?.string.map { words.percent($0, signed: false) } ?? "")</td></tr>
                        """
                    }
                    guard !rows.isEmpty else {
                        part = part + "<p><bdi>\(source[path: "source"]?.cell ?? "")</bdi>: \(words(.noObservationsMonths))</p>"
                        continue
                    }
                    part = part + """
                        <h3><bdi>\(source[path: "source"]?.cell ?? "")</bdi>\(source[path: "synthetic"] == .bool(true) ? HTML(" <span class=\"chip synthetic\">\(words(.synthetic))</span>") : "")</h3>
                        <table><thead><tr><th>\(words(.colCommodity))</th><th>\(words(.colValueUSD))</th><th>\(words(.colShare))</th></tr></thead><tbody>\(rows)</tbody></table>
                        """
                }
                return part
            }

            body = body + self.live("mirror", words(.mirrorTitle), figures.mirror, from: "trade", labels: Self.questionLabels) { answer in
                guard !answer.comparisons.isEmpty else { return self.nothing(.noObservationsMonths) }
                let rows: [HTML] = answer.comparisons.map { figure in
                    """
                    <tr><td><bdi>\(figure.source)</bdi>\(figure.synthetic ? HTML(" <span class=\"chip synthetic\">\(words(.synthetic))</span>") : "")</td>\
                    <td><bdi>\(figure.exports.reporter)→\(figure.exports.partner)</bdi></td>\
                    <td class="number">\(figure.exports.valueCompared.map { words.number($0) } ?? "–")</td>\
                    <td class="number">\(figure.imports.valueCompared.map { words.number($0) } ?? "–")</td>\
                    <td class="number">\(figure.ratio.map { words.number($0) } ?? "–")</td>\
                    <td>\(words.integer(figure.monthsCompared.count))/\(words.integer(figure.monthsAsked))</td></tr>
                    """
                }
                return """
                    <table><thead><tr><th>\(words(.colSource))</th><th>\(words(.colFlow))</th><th>\(words(.colExportsFOB))</th><th>\(words(.colImportsCIF))</th>\
                    <th>\(words(.colRatio))</th><th>\(words(.colMonthsCompared))</th></tr></thead><tbody>\(rows)</tbody></table>
                    <p><small>\(words(.mirrorMargin))</small></p>
                    """
            }
        }
        if session.role != "reader" {
            let today = String(Date().ISO8601Format().prefix(10))
            body = body + """
                <section><h2>\(words(.importTitle))</h2>
                <form class="write" id="import" method="post" action="/trade/import" enctype="multipart/form-data">
                <input type="hidden" name="csrf" value="\(session.csrf)">
                <label>\(words(.importFile)) <input type="file" name="file" accept=".csv,text/csv" required></label>
                <label>\(words(.importPublishedLabel)) <input name="published" type="date" required value="\(today)" dir="ltr"></label>
                <label>\(words(.importSource)) <input name="source" value="UN Comtrade" dir="ltr"></label>
                <p class="upload" hidden><progress max="100" value="0"></progress> <span></span></p>
                <button type="submit">\(words(.importButton))</button></form></section>
                """
        }
        return self.layout(title: words(.navTrade), session: session, path: "/trade", body: body)
    }

    func imported(_ result: Console.TradeImport) -> HTML {
        let words = self.words
        // Refused before a file was read (none chosen, the form cut short): no name to give.
        let title = result.file.isEmpty ? words(.importRefusedTitle) : words(.importResultTitle, Words.isolated(result.file))
        var body: HTML = "<section class=\"import-result\" role=\"status\"><h2>\(title)</h2>"
        if let outcome = result.outcome {
            let sent = outcome.created + outcome.present
            body = body + """
                <p><progress max="\(max(result.rows, 1))" value="\(sent)"></progress> \(words(.importSent, words.integer(sent), words.integer(result.rows)))</p>
                <p>\(words(.importOutcome, words.integer(outcome.created), words.integer(outcome.present)))</p>
                """
        }
        if let refusal = result.refusal { body = body + "<p class=\"problem\" role=\"alert\">\(refusal)</p>" }
        if !result.problems.isEmpty {
            let rows: [HTML] = result.problems.prefix(50).map { problem in
                // A reason with a rule is said in the reader's language; its column's name stays Latin.
                let reason = problem.rule.map { words.said($0, field: Words.isolated(problem.column), message: problem.reason) } ?? problem.reason
                return "<tr><td>\(words.integer(problem.line))</td><td dir=\"ltr\">\(problem.column)</td><td><bdi>\(reason)</bdi></td></tr>"
            }
            body = body + """
                <p class="problem" role="alert">\(words.plural(.importBadRows, result.problems.count))</p>
                <table class="bad-rows"><thead><tr><th>\(words(.colLine))</th><th>\(words(.colColumn))</th><th>\(words(.colReason))</th></tr></thead><tbody>\(rows)</tbody></table>
                """
            if result.problems.count > 50 { body = body + "<p>\(words(.importMoreBad, words.integer(result.problems.count - 50)))</p>" }
        }
        return body + "</section>"
    }
}
