import ArgumentParser
import ConcordFields
import ConcordProtocol
import ConcordWords
import Synchronization
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// ArgumentParser's own errors (a value that is not a number, an option it does not know, an
/// argument left out) said in Persian or Russian. The library writes them in English only, and
/// only as text, so its wording is matched here; `UsageErrorsTests` holds that wording against
/// the library's real errors, so an upgrade that rewords one fails a test rather than a reader.
/// A command's own check makes its `ValidationError` with `refusal`, which keeps how to say it;
/// a plain `ValidationError` (an operator's command) keeps its English after the word for
/// error. The usage lines are syntax and stay as they are.
enum UsageErrors {
    /// ArgumentParser's full message for an error (`Error: ...`, the usage, `See '...' for more
    /// information.`) with the error and the pointer to help said in `words`' language.
    static func said(_ full: String, words: Words) -> String {
        full.split(separator: "\n", omittingEmptySubsequences: false).map { line in
            if line.hasPrefix("Error: ") {
                let message = String(line.dropFirst("Error: ".count))
                return words(.cliError, Self.said(message: message, words: words) ?? message)
            }
            if let match = line.wholeMatch(of: #/\s*See '(.+)' for more information\./#) {
                return words(.cliSeeHelp, String(match.1))
            }
            return String(line)
        }.joined(separator: "\n")
    }

    /// One of ArgumentParser's error messages, or a command's own refusal, in `words`'
    /// language; nil for one it does not know.
    static func said(message: String, words: Words) -> String? {
        if let said = Self.refusal(said: message, words: words) { return said }
        if let match = message.wholeMatch(of: #/Missing expected argument '(.+)'/#) {
            return words(.cliMissingArgument, String(match.1))
        }
        if let match = message.wholeMatch(of: #/The value '(.*)' is invalid for '(.+?)'(: .*)?/#) {
            // What the value's type said of it (the values it allows) is the library's English.
            return words(.cliInvalidValue, String(match.1), String(match.2)) + (match.3.map(String.init) ?? "")
        }
        if let match = message.wholeMatch(of: #/Unknown option '(.+)'\. Did you mean '(.+)'\?/#) {
            return words(.cliUnknownOptionMeant, String(match.1), String(match.2))
        }
        if let match = message.wholeMatch(of: #/Unknown option '(.+)'/#) {
            return words(.cliUnknownOption, String(match.1))
        }
        if let match = message.wholeMatch(of: #/Missing value for '(.+)'/#) {
            return words(.cliMissingValue, String(match.1))
        }
        if let match = message.wholeMatch(of: #/Unexpected argument '(.+)'/#) {
            return words(.cliUnexpectedArgument, String(match.1))
        }
        return nil
    }
}

extension UsageErrors {
    /// A command line a command's own check refuses (a day that is not one, an option that
    /// needs another), as ArgumentParser's `ValidationError` with its English, so English
    /// output and the exit status are ArgumentParser's; `said(message:words:)` then says it in
    /// Persian or Russian. ArgumentParser hands such an error on only as its text, so the
    /// refusal is kept here by that text.
    static func refusal(_ english: String, said: @escaping @Sendable (Words) -> String) -> ValidationError {
        Self.refusals.withLock { $0[english] = said }
        return ValidationError(english)
    }

    /// Refused by a field rule, said as the services say it (`Words.said`), the option named
    /// as it is typed (`--batch`).
    static func refusal(_ english: String, option: String, rule: Rule) -> ValidationError {
        // A terminal shows text as it is: no isolates around what is quoted.
        Self.refusal(english) { $0.said(rule, field: option, message: english, isolate: { $0 }) }
    }

    /// The refusals this process made, by their English.
    private static let refusals = Mutex<[String: @Sendable (Words) -> String]>([:])

    static func refusal(said message: String, words: Words) -> String? {
        Self.refusals.withLock { $0[message] }.map { $0(words) }
    }

    /// Whether `text` is a whole day, YYYY-MM-DD, as the services read one (`PartialDate`,
    /// which takes only that form with a day): 2026-02-30 is not.
    static func isDay(_ text: String) -> Bool {
        (try? PartialDate(parsing: text, field: ""))?.day != nil
    }
}
