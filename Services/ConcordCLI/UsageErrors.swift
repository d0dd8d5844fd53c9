import ArgumentParser
import ConcordWords
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// ArgumentParser's own errors (a value that is not a number, an option it does not know, an
/// argument left out) said in Persian or Russian. The library writes them in English only, and
/// only as text, so its wording is matched here; `UsageErrorsTests` holds that wording against
/// the library's real errors, so an upgrade that rewords one fails a test rather than a reader.
/// What is not matched (a command's own `ValidationError`) keeps its English after the word for
/// error; the usage lines are syntax and stay as they are.
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

    /// One of ArgumentParser's error messages in `words`' language; nil for one it does not know.
    static func said(message: String, words: Words) -> String? {
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
