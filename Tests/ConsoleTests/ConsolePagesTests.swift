import ConcordBriefs
import ConcordProtocol
import ConcordWords
import NIOCore
import Testing

@testable import Console

@Suite("The console's forms and pages")
struct ConsolePagesTests {
    static func multipart(_ boundary: String, _ parts: [(String, String?, String)], cut: Bool = false) -> ByteBuffer {
        var text = ""
        for (name, filename, content) in parts {
            text += "--\(boundary)\r\nContent-Disposition: form-data; name=\"\(name)\"" + (filename.map { "; filename=\"\($0)\"" } ?? "")
            text += (filename == nil ? "" : "\r\nContent-Type: text/csv") + "\r\n\r\n\(content)\r\n"
        }
        return ByteBuffer(string: text + (cut ? "" : "--\(boundary)--\r\n"))
    }

    /// A refused write is said in the reader's language where its code says all there is to say;
    /// otherwise the service's own message follows, isolated so that it reads whole in Persian.
    @Test func aRefusedWriteIsSaidInTheReadersLanguage() {
        let stale = ConcordError(.conflict, "action a is at version 3, not 2; read it again and reapply the change", field: "body.version")
        let exists = ConcordError(.conflict, "an action with id a already exists", field: "body.id")
        let said = [Language.en, .fa, .ru].map { language in
            let pages = Pages(words: Words(language))
            return [
                pages.refusal(stale), pages.refusal(ConcordError(.forbidden, "'agreements.actions.progress' needs role secretariat")),
                pages.refusal(ConcordError(.deadlineExceeded, "no answer")), pages.refusal(ConcordError(.unavailable, "no replica")),
                pages.refusal(exists),
            ]
        }
        #expect(said[0][0].hasPrefix("Someone changed this record after you opened it"))
        #expect(said[1][0].hasPrefix("کسی این رکورد را"))
        #expect(said[2][0].hasPrefix("Кто-то изменил эту запись"))
        #expect(said.map { $0[1] } == ["Your role may not make this change.", "نقش شما اجازهٔ این تغییر را نمی‌دهد.", "Ваша роль не позволяет вносить это изменение."])
        for language in said {
            // Said in the reader's words alone: the English message is not repeated.
            #expect(!language[0].contains("version 3") && !language[1].contains("needs role"))
            #expect(language[2] == language[3])
        }
        #expect(said[1][4] == "درگاه نپذیرفت: \u{2068}an action with id a already exists\u{2069}")
        #expect(said[2][4] == "Шлюз отказал: \u{2068}an action with id a already exists\u{2069}")
    }

    /// A refusal that names a field of the form names it by the label the reader sees on it;
    /// one that names no field the form has keeps "The gateway refused:".
    @Test func aRefusedFieldIsNamedByItsLabel() {
        let badDue = ConcordError(.badRequest, "due must be a date: 2026-02-30 is not one", field: "body.due")
        let noParent = ConcordError(.notFound, "no action 'x' (parent)", field: "parent")
        let elsewhere = ConcordError(.badRequest, "rows[3].period must be YYYYMM", field: "rows[3].period")
        let said = [Language.en, .fa, .ru].map { language in
            let pages = Pages(words: Words(language))
            return [pages.refusal(badDue), pages.refusal(noParent), pages.refusal(elsewhere)]
        }
        #expect(said[0][0] == "The field “Due” was not accepted: \u{2068}due must be a date: 2026-02-30 is not one\u{2069}")
        #expect(said[1][0] == "«موعد» پذیرفته نشد: \u{2068}due must be a date: 2026-02-30 is not one\u{2069}")
        #expect(said[2][0].hasPrefix("Поле «Срок» не принято: \u{2068}due must"))
        #expect(said[0][1].hasPrefix("The field “Part of” was not accepted") && said[2][1].hasPrefix("Поле «Входит в» не принято"))
        #expect(said.map { $0[2] } == [
            "The gateway refused: \u{2068}rows[3].period must be YYYYMM\u{2069}",
            "درگاه نپذیرفت: \u{2068}rows[3].period must be YYYYMM\u{2069}",
            "Шлюз отказал: \u{2068}rows[3].period must be YYYYMM\u{2069}",
        ])
    }

    /// A refusal that carries its rule is said in Persian and Russian from the rule, the field
    /// named by the form's label; English keeps the service's message.
    @Test func aRefusalsRuleIsSaidWithTheFormsLabel() {
        let badDue = ConcordError(
            .badRequest, "due day 30 is out of range for 2026-02 (01-28)", field: "body.due", rule: .range(low: "01", high: "28", got: "30", part: .day)
        )
        #expect(Pages(words: Words(.en)).refusal(badDue) == "The field “Due” was not accepted: \u{2068}due day 30 is out of range for 2026-02 (01-28)\u{2069}")
        #expect(Pages(words: Words(.ru)).refusal(badDue) == "«Срок»: день \u{2068}30\u{2069} вне допустимого диапазона (\u{2068}01\u{2069}–\u{2068}28\u{2069})")
        #expect(Pages(words: Words(.fa)).refusal(badDue) == "«موعد»: روز \u{2068}۳۰\u{2069} بیرون از بازهٔ \u{2068}۰۱\u{2069} تا \u{2068}۲۸\u{2069} است")
        let filter = ConcordError(.badRequest, "status must be one of a, b; got 'flying'", field: "body.status", rule: .oneOf(allowed: ["a", "b"], got: "flying"))
        #expect(Pages(words: Words(.ru)).failed("agreements", filter).markup.contains("«Статус» должно быть одним из"))
    }

    /// The trade page's question names its span's ends as its form does: `to` is the span's
    /// end there (elsewhere the status an instrument moves to), and the start it is before too.
    @Test func aRefusedQuestionNamesTheSpanByItsLabels() {
        let backwards = ConcordError(.badRequest, "to is before from", field: "body.to", rule: .notBefore(other: "from"))
        let ru = Pages(words: Words(.ru)).failed("trade", backwards, labels: Pages.questionLabels).markup
        #expect(ru.contains("«По» не может быть раньше «С»"), "\(ru)")
        let fa = Pages(words: Words(.fa)).failed("trade", backwards, labels: Pages.questionLabels).markup
        #expect(fa.contains("«\(Words(.fa)(.spanTo))» نباید پیش از «\(Words(.fa)(.spanFrom))» باشد"), "\(fa)")
        #expect(Pages(words: Words(.en)).failed("trade", backwards, labels: Pages.questionLabels).markup.contains("to is before from"))
    }

    /// A trade question that cannot be asked is stopped on the page, once, in the reader's words:
    /// a span that ends before it starts, a month not written YYYY-MM.
    @Test func aQuestionThatCannotBeAskedIsSaidOnce() {
        var question = Console.TradeQuestion()
        (question.from, question.to) = ("2025-09", "2025-01")
        #expect(question.problem?.rule == .notBefore(other: "from"))
        #expect(Pages(words: Words(.ru)).said(question.problem!, labels: Pages.questionLabels) == "«По» не может быть раньше «С»")
        (question.from, question.to, question.baseFrom, question.baseTo) = ("2025-01", "2025-09", "2024-09", "2024-01")
        #expect(question.problem?.field == "baseTo")
        question.baseFrom = "2024-1"
        #expect(question.problem?.rule == .form(.month, got: "2024-1"))
        #expect(Pages(words: Words(.en)).said(question.problem!, labels: Pages.questionLabels) == "baseFrom: a month, YYYY-MM")
        (question.baseFrom, question.baseTo) = ("", "")
        #expect(question.problem == nil)
    }

    /// An instrument's parties name an official by name, in the reader's language where the
    /// record has it; the officials to look up are those of its parties and their events.
    @Test func anOfficialPartyIsNamed() throws {
        let instrument = try JSONBody.decode(JSONValue.self, from: ByteBuffer(string: #"""
            {"parties":[{"party":{"official":"mehdi-dousti"},"role":"proposer"},{"party":{"country":"IR"},"role":"party"}],
             "partyEvents":[{"party":{"official":"vladimir-ilichev"},"event":"signature","date":"2025-01-17"}]}
            """#))
        #expect(Console.officialParties(of: instrument) == ["mehdi-dousti", "vladimir-ilichev"])
        let dousti = try JSONBody.decode(
            SessionBrief.OfficialView.self, from: ByteBuffer(string: #"{"id":"mehdi-dousti","name":"Mehdi Dousti","localNames":{"fa":"مهدی دوستی"}}"#)
        )
        let party = JSONValue.object(["official": .string("mehdi-dousti")])
        #expect(Pages(words: Words(.fa)).party(party, officials: ["mehdi-dousti": dousti]).markup.contains("مهدی دوستی"))
        #expect(Pages(words: Words(.ru)).party(party, officials: ["mehdi-dousti": dousti]).markup.contains("Mehdi Dousti"))
        #expect(Pages(words: Words(.ru)).party(party).markup.contains("mehdi-dousti"), "unknown: as the record names them")
        #expect(Words(.ru).label(.partyEvent, "ratification") == "ратификация")
        // An action's owner too.
        #expect(Pages(words: Words(.fa)).owner(["official": "mehdi-dousti"], officials: ["mehdi-dousti": dousti]) == "مهدی دوستی")
        #expect(Pages(words: Words(.fa)).owner(["organisation": "Embassy"], officials: [:]) == "Embassy")
    }

    /// What the console finds wrong with a form before sending it is said in the reader's words,
    /// and not as the gateway's refusal: nothing reached the gateway.
    @Test func aFormProblemIsSaidInTheReadersWords() throws {
        for (language, lacksVersion, noKind, noName) in [
            (Language.en, "The form lacks the record's version", "Owner: choose an official", "Owner: say which (region)."),
            (.fa, "این فرم نسخهٔ رکورد را ندارد", "مسئول: یک مقام", "مسئول: بنویسید کدام (منطقه)."),
            (.ru, "В форме нет версии записи", "Ответственный: выберите", "Ответственный: укажите, кто именно (регион)."),
        ] {
            let words = Words(language)
            let said = { (form: [String: String], check: (([String: String]) throws(FormProblem) -> JSONValue)) -> String in
                do throws(FormProblem) { _ = try check(form); return "" } catch { return error.say(words) }
            }
            #expect(said([:], Console.version).hasPrefix(lacksVersion))
            #expect(said(["owner": "x"], { form throws(FormProblem) in try Console.party(form, "owner") }).hasPrefix(noKind))
            #expect(said(["owner-kind": "region", "owner": " "], { form throws(FormProblem) in try Console.party(form, "owner") }) == noName)
            #expect(try Console.party(["owner-kind": "region", "owner": "gilan"], "owner") == .object(["region": .string("gilan")]))
        }
    }

    @Test func anUploadedFormReadsAsItsPartsWithTheFileByteForByte() throws {
        let csv = "freqCode,refYear\r\nM,2025\r\n--not the boundary\r\n"
        let body = Self.multipart("XyZ123", [("csrf", nil, "token"), ("file", "trade.csv", csv), ("published", nil, "2026-01-15")])
        #expect(MultipartForm.boundary(of: "multipart/form-data; boundary=XyZ123") == "XyZ123")
        #expect(MultipartForm.boundary(of: "multipart/form-data; boundary=\"XyZ123\"") == "XyZ123")
        #expect(MultipartForm.boundary(of: "application/x-www-form-urlencoded") == nil)
        let form = try MultipartForm(body, boundary: "XyZ123")
        #expect(form["csrf"]?.text == "token")
        #expect(form["file"]?.filename == "trade.csv")
        #expect(form["file"]?.text == csv)
        #expect(form["published"]?.text == "2026-01-15")
        #expect(form["missing"] == nil)
    }

    @Test func anUploadCutShortOrWithoutItsBoundaryIsRefused() {
        let cut = Self.multipart("XyZ123", [("file", "trade.csv", "a,b\r\n")], cut: true)
        #expect(throws: MultipartForm.Problem.self) { try MultipartForm(cut, boundary: "XyZ123") }
        #expect(throws: MultipartForm.Problem.self) { try MultipartForm(ByteBuffer(string: "a,b\r\n"), boundary: "XyZ123") }
        let nameless = ByteBuffer(string: "--B\r\nContent-Type: text/plain\r\n\r\nx\r\n--B--\r\n")
        #expect(throws: MultipartForm.Problem.self) { try MultipartForm(nameless, boundary: "B") }
    }

    @Test func aRecordsHistoryReadsFieldByFieldFromWhatItWasToWhatItBecame() {
        let entries: [JSONValue] = [
            .object(["operation": .string("create"), "change": .object(["title": .string("Open a route"), "progress": .integer(0), "version": .integer(1)])]),
            .object(["operation": .string("change"), "change": .object(["id": .string("a"), "progress": .integer(35), "note": .string("halfway")])]),
            .object(["operation": .string("update"), "change": .object(["note": .string("by sea"), "version": .integer(3)])]),
            .object(["operation": .string("update"), "change": .object(["note": .null])]),
            .object(["operation": .string("delete"), "change": .object(["title": .string("Open a route"), "progress": .integer(35), "note": .null, "version": .integer(4)])]),
        ]
        let diffs = Pages.diffs(entries).map { $0.map { "\($0.field):\($0.before?.cell ?? "-")>\($0.after?.cell ?? "-")" } }
        #expect(diffs == [
            ["progress:->0", "title:->Open a route"],
            // What the progress verb was given: shown as given, not taken for the record's note.
            ["note:->halfway", "progress:->35"],
            ["note:->by sea"],
            ["note:by sea>-"],
            ["progress:35>-", "title:Open a route>-"],
        ])
    }

    @Test func pathsAreEncodedSegmentBySegment() {
        #expect(Pages.href("agreements", "eaeu-iran") == "/agreements/eaeu-iran")
        #expect(Pages.href("history", "agreements", "a/b?c") == "/history/agreements/a%2Fb%3Fc")
        #expect(Pages.href("actions", "راه") == "/actions/%D8%B1%D8%A7%D9%87")
    }

    @Test func aTradeUploadWithABadRowIsListedByLineAndYieldsNoBatch() throws {
        let good = "freqCode,refYear,refMonth,period,reporterISO,partnerISO,flowCode,classificationCode,cmdCode,primaryValue\r\n"
            + "M,2025,1,202501,RUS,IRN,X,H6,TOTAL,1000.5\r\n"
        var result = Console.TradeImport(file: "a.csv")
        let rows = try ComtradeUpload.rows(of: ByteBuffer(string: good), source: "UN Comtrade", published: "2026-01-15", into: &result)
        #expect(rows.count == 1 && result.problems.isEmpty)
        #expect(ComtradeUpload.batches(rows).count == 1)
        var bad = Console.TradeImport(file: "b.csv")
        _ = try ComtradeUpload.rows(of: ByteBuffer(string: good + "M,2025,2,202502,RUS,IRN,X,H6,TOTAL,abc\r\n"), source: "UN Comtrade", published: "2026-01-15", into: &bad)
        #expect(bad.problems.map(\.line) == [3] && bad.problems.first?.column == "primaryValue")
        // The bad row's reason is said in the reader's language from its rule; English keeps it.
        #expect(bad.problems.first?.rule == .form(.decimal, got: "abc"))
        let russian = Pages(words: Words(.ru)).imported(bad).markup
        #expect(russian.contains("нужно записать как десятичное число"), "\(russian)")
        #expect(Pages(words: Words(.en)).imported(bad).markup.contains("is not a number this service keeps exactly"))
        #expect(throws: ComtradeUpload.Failure.self) {
            var empty = Console.TradeImport(file: "c.csv")
            _ = try ComtradeUpload.rows(of: ByteBuffer(), source: "s", published: "2026-01-15", into: &empty)
        }
    }

    /// A file that cannot be read at all (empty, not UTF-8, a header without a column the
    /// import needs) is refused in the reader's words, with its line; English keeps the reason.
    @Test func anUnreadableUploadIsSaidInTheReadersWords() {
        func failure(_ bytes: [UInt8]) -> ComtradeUpload.Failure? {
            var result = Console.TradeImport(file: "f.csv")
            do throws(ComtradeUpload.Failure) {
                _ = try ComtradeUpload.rows(of: ByteBuffer(bytes: bytes), source: "s", published: "2026-01-15", into: &result)
                return nil
            } catch {
                return error
            }
        }
        #expect(failure([])?.said(Words(.fa)) == "پرونده خالی است: سطر سرستون‌ها را ندارد.")
        // Windows-1251, as a Russian spreadsheet may save it: "Россия" is not UTF-8.
        let cp1251 = Array("freqCode,refYear,reporterDesc\n".utf8) + [0x4D, 0x2C, 0x32, 0x30, 0x32, 0x35, 0x2C, 0xD0, 0xEE, 0xF1, 0x0A]
        let russian = failure(cp1251)?.said(Words(.ru)) ?? ""
        #expect(russian.hasPrefix("Строка 2: текст не в кодировке UTF-8 (байт"), "\(russian)")
        let header = Array("freqCode,refYear,refMonth,period,reporterISO,partnerISO,classificationCode,cmdCode,primaryValue\n".utf8)
        #expect(failure(header)?.said(Words(.fa)) == "سطر ۱: «\u{2068}flowCode\u{2069}» لازم است")
        #expect(failure(header)?.said(Words(.en)) == "Line 1: the header has no flowCode column")
    }

    /// An upload refused before any file was read (none chosen, a form cut short) says so in
    /// its heading, without an empty file name.
    @Test func anUploadRefusedBeforeItsFileIsReadIsHeadedAsRefused() {
        let refused = Console.TradeImport(file: "", refusal: Words(.ru)(.importFormBroken))
        let html = Pages(words: Words(.ru)).imported(refused).markup
        #expect(html.contains("<h2>Импорт отклонён</h2>"), "\(html)")
        #expect(html.contains("Файл пришёл не целиком"))
        let named = Pages(words: Words(.en)).imported(Console.TradeImport(file: "a.csv", refusal: "x")).markup
        #expect(named.contains("<h2>Import of \u{2068}a.csv\u{2069}</h2>"), "\(named)")
    }
}
