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
        #expect(UsageErrors.said("Error: --batch must be from 1 to 10000", words: Words(.ru)) == "Ошибка: --batch must be from 1 to 10000")
    }

    @Test func theLanguageOfALineThatDidNotParse() {
        #expect(LanguageOptions.words(arguments: ["concord", "attendees", "x", "--lang", "fa"], environment: [:]).language == .fa)
        #expect(LanguageOptions.words(arguments: ["concord", "--lang=ru"], environment: [:]).language == .ru)
        #expect(LanguageOptions.words(arguments: ["concord", "attendees"], environment: ["CONCORD_LANG": "ru"]).language == .ru)
        #expect(LanguageOptions.words(arguments: ["concord", "--lang", "de"], environment: [:]).language == .en)
    }
}
