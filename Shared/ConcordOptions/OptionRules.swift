import ArgumentParser
import Logging

/// The rules every executable holds its command-line options to, with one wording for each:
/// a port from a flag or its variable, a log level, counts that must be positive. An error names
/// the option (or variable) that was wrong and what it got.
public enum OptionRules {
    /// The port `flag` (named `flagName`) gives, else the one `variable` holds in `environment`;
    /// nil when neither is set. A flag is held to its variable's rule, and the message names which
    /// of the two was wrong.
    public static func port(
        _ flag: Int?, flagName: String = "--port", variable: String, environment: [String: String]
    ) throws(ValidationError) -> Int? {
        let given = flag.map { (String($0), flagName) } ?? environment[variable].map { ($0, variable) }
        guard let (text, source) = given else { return nil }
        guard let port = Int(text), (0...65535).contains(port) else {
            throw ValidationError("\(source) must be a port number from 0 to 65535, got '\(text)'")
        }
        return port
    }

    /// The level `text` names; `option` is how the caller set it.
    public static func logLevel(_ text: String, option: String = "--log-level") throws(ValidationError) -> Logger.Level {
        guard let level = Logger.Level(rawValue: text) else {
            throw ValidationError("\(option) must be one of \(Logger.Level.allCases.map(\.rawValue).joined(separator: ", ")); got '\(text)'")
        }
        return level
    }

    /// Refuses the first of `counts` (option name, value) that is not a positive whole number.
    public static func positive(_ counts: KeyValuePairs<String, Int>) throws(ValidationError) {
        if let (option, value) = counts.first(where: { $0.value <= 0 }) {
            throw ValidationError("\(option) must be a positive whole number, got \(value)")
        }
    }
}
