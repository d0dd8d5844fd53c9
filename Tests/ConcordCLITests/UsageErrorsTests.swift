import ArgumentParser
import ConcordWords
import Testing

@testable import ConcordCLI

/// ArgumentParser's own errors in Persian and Russian. Each message is the library's, got by
/// parsing a real command line: when an upgrade rewords one, the match fails here.
@Suite("The CLI's usage errors")
struct UsageErrorsTests {
    static let lines: [(arguments: [String], russian: String)] = [
        (["attendees", "abc"], "Значение «abc» не подходит для «<number>»"),
        (["attendees"], "Не указан аргумент «<number>»"),
        (["sessions", "--qqqqqqqqq"], "Неизвестный параметр «--qqqqqqqqq»"),
        (["sessions", "--jsn"], "Неизвестный параметр «--jsn». Может быть, «--json»?"),
        (["sessions", "--lang"], "Не указано значение для «--lang <lang>»"),
        (["sessions", "extra"], "Лишний аргумент «extra»"),
    ]

    @Test(arguments: Self.lines.indices)
    func theLibrarysMessageIsSaid(_ index: Int) {
        let (arguments, russian) = Self.lines[index]
        do {
            _ = try ConcordCommand.parseAsRoot(arguments)
            Issue.record("\(arguments) parsed")
        } catch {
            let message = ConcordCommand.message(for: error)
            #expect(UsageErrors.said(message: message, words: Words(.ru)) == russian, "ArgumentParser said: \(message)")
            #expect(UsageErrors.said(message: message, words: Words(.fa)) != nil)
        }
    }

    /// The whole message: the error and the pointer to help said, the usage as it is.
    @Test func theFullMessageKeepsTheUsage() throws {
        let error = try #require(throws: (any Error).self) { try ConcordCommand.parseAsRoot(["attendees", "abc"]) }
        let full = ConcordCommand.fullMessage(for: error)
        let said = UsageErrors.said(full, words: Words(.fa))
        #expect(said.hasPrefix("خطا: مقدار «abc» برای «<number>» پذیرفته نیست"), "\(said)")
        #expect(said.contains("Usage: concord attendees"), "\(said)")
        #expect(said.contains("برای راهنما: concord attendees --help"), "\(said)")
        // A message it does not know keeps its English after the word for error.
        #expect(UsageErrors.said("Error: --certs must name a directory", words: Words(.ru)) == "Ошибка: --certs must name a directory")
    }

    /// A command's own check: English as ArgumentParser's `ValidationError` says it, word for
    /// word, with its exit status; Russian and Persian from its rule or its words.
    @Test func aCommandsOwnRefusalIsSaidInTheReadersLanguage() throws {
        func refused(_ arguments: [String]) throws -> (english: String, exit: ExitCode) {
            let error = try #require(throws: (any Error).self) { _ = try ConcordCommand.parseAsRoot(arguments) }
            return (ConcordCommand.message(for: error), ConcordCommand.exitCode(for: error))
        }
        let batch = try refused(["trade", "import", "f.csv", "--published", "2026-01-15", "--batch", "0"])
        #expect(batch.english == "--batch must be from 1 to 10000")
        #expect(batch.exit == .validationFailure)
        let russian = try #require(UsageErrors.said(message: batch.english, words: Words(.ru)))
        #expect(russian.contains("«--batch»") && russian.contains("10000"), "\(russian)")

        let published = try refused(["trade", "import", "f.csv", "--published", "2026-02-30"])
        #expect(published.english.hasPrefix("--published must be a day, YYYY-MM-DD"))
        let persian = try #require(UsageErrors.said(message: published.english, words: Words(.fa)))
        #expect(persian.contains("2026-02-30") && !persian.contains("\u{2068}"), "a terminal gets no isolates: \(persian)")

        let since = try #require(throws: ValidationError.self) { _ = try DigestCommand.day("last week", field: "since") }
        #expect(since.message == "--since takes a date (YYYY-MM-DD) or a number of days back (7d); got 'last week'")
        #expect(UsageErrors.said(message: since.message, words: Words(.ru)) == "«--since»: нужна дата (ГГГГ-ММ-ДД) или число дней назад (7d); получено «last week»")

        // The full message: the refusal said, the usage as it is.
        let error = try #require(throws: (any Error).self) { _ = try ConcordCommand.parseAsRoot(["trade", "import", "f.csv", "--published", "x"]) }
        let full = UsageErrors.said(ConcordCommand.fullMessage(for: error), words: Words(.ru))
        #expect(full.hasPrefix("Ошибка: «--published»"), "\(full)")
        #expect(full.contains("Usage: concord trade import"), "\(full)")
        #expect(UsageErrors.said(message: "--batch must be from 1 to 1000", words: Words(.ru)) == nil, "found by its exact text only")
    }

    /// The checks of the commands the secretariat runs (briefs) and of the operator's tokens
    /// carry their rules too, and refuse before anything is called.
    @Test func briefAndTokenChecksAreSaidInTheReadersLanguage() throws {
        func refused(_ arguments: [String]) throws -> String {
            let error = try #require(throws: (any Error).self) { _ = try ConcordCommand.parseAsRoot(arguments) }
            #expect(ConcordCommand.exitCode(for: error) == .validationFailure)
            return ConcordCommand.message(for: error)
        }
        let code = try refused(["brief", "region", "RU_AST"])
        #expect(code == "the code is an ISO 3166-2 code such as RU-AST; got 'RU_AST'")
        #expect(UsageErrors.said(message: code, words: Words(.ru))?.hasPrefix("«<code>» нужно записать как код региона (ISO 3166-2)") == true)

        let asOf = try refused(["brief", "followup", "--as-of", "2026-02-30"])
        #expect(asOf == "--as-of is a day, YYYY-MM-DD; got '2026-02-30'", "a day that is not one, though its characters are")
        let persian = try #require(UsageErrors.said(message: asOf, words: Words(.fa)))
        #expect(persian.contains("«--as-of»") && persian.contains("2026-02-30") && persian != asOf, "\(persian)")

        let role = try refused(["tokens", "add", "--role", "owner", "--name", "x"])
        #expect(UsageErrors.said(message: role, words: Words(.ru)) == "«--role» должно быть одним из: reader, secretariat, admin; получено «owner»")

        let months = try refused(["trade", "synth", "--rows", "10", "--months", "300"])
        #expect(UsageErrors.said(message: months, words: Words(.ru))?.contains("300") == true)
    }

    @Test func theLanguageOfALineThatDidNotParse() {
        #expect(LanguageOptions.words(arguments: ["concord", "attendees", "x", "--lang", "fa"], environment: [:]).language == .fa)
        #expect(LanguageOptions.words(arguments: ["concord", "--lang=ru"], environment: [:]).language == .ru)
        #expect(LanguageOptions.words(arguments: ["concord", "attendees"], environment: ["CONCORD_LANG": "ru"]).language == .ru)
        #expect(LanguageOptions.words(arguments: ["concord", "--lang", "de"], environment: [:]).language == .en)
    }
}
