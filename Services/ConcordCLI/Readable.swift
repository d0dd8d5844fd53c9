import ConcordBriefs
import ArgumentParser
import ConcordProtocol
import ConcordWords
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
#if canImport(Glibc)
import Glibc
#endif
import NIOCore

/// The language a command writes in for people: `--lang`, else CONCORD_LANG, else the locale
/// (LC_ALL, LANG), else English. JSON never changes with it: codes stay codes.
struct LanguageOptions: ParsableArguments {
    @Option(help: "The language to write in for people: fa, ru or en (default: CONCORD_LANG, else the locale, else en).")
    var lang: String?

    func validate() throws {
        do {
            _ = try Language.choose(flag: self.lang, environment: ProcessInfo.processInfo.environment)
        } catch {
            throw ValidationError(error.description)
        }
    }

    var words: Words { Self.words(flag: self.lang) }

    /// The words of `flag`, else CONCORD_LANG or the locale; English for a language unknown.
    static func words(flag: String?, environment: [String: String] = ProcessInfo.processInfo.environment) -> Words {
        Words((try? Language.choose(flag: flag, environment: environment)) ?? .en)
    }

    /// The language of a command line that could not be parsed: its `--lang X` or `--lang=X`,
    /// else CONCORD_LANG or the locale, as a parsed one would choose; English for one unknown.
    static func words(arguments: [String], environment: [String: String] = ProcessInfo.processInfo.environment) -> Words {
        var flag: String?
        for (index, argument) in arguments.enumerated() {
            if argument == "--lang", index + 1 < arguments.count { flag = arguments[index + 1] }
            if argument.hasPrefix("--lang=") { flag = String(argument.dropFirst("--lang=".count)) }
        }
        return Self.words(flag: flag, environment: environment)
    }
}

/// How a read command prints: a table or a report for a person on a terminal, JSON for
/// programs (`--json`, and whenever standard output is not a terminal).
struct OutputOptions: ParsableArguments {
    @Flag(help: "Print the answer as JSON (the default when standard output is not a terminal).")
    var json = false
    @OptionGroup var language: LanguageOptions

    /// The words of the language asked for.
    var words: Words { self.language.words }

    var forPeople: Bool { !self.json && isatty(STDOUT_FILENO) == 1 }

    /// Prints `answer`: `people` renders it from its JSON when a person reads, else the JSON.
    func print(_ answer: ByteBuffer, people: (JSONValue, Int) -> String) {
        guard self.forPeople, let value = try? JSONBody.decode(JSONValue.self, from: answer) else {
            Swift.print(String(buffer: answer))
            return
        }
        Swift.print(people(value, terminalWidth()))
    }

    /// Prints `answer`: `people` renders it decoded as `T` when a person reads, else the JSON.
    func print<T: Decodable>(_ answer: ByteBuffer, as type: T.Type, people: (T, Int) -> String) {
        guard self.forPeople, let value = try? JSONBody.decode(T.self, from: answer) else {
            Swift.print(String(buffer: answer))
            return
        }
        Swift.print(people(value, terminalWidth()))
    }
}

/// Columns that line up whatever the script (Persian, Russian, Latin), with the last column
/// wrapped to the terminal's width.
///
/// Written here rather than with ordo-one/TextTable (the listed table library): TextTable imports
/// Foundation in every file, and the CLI links FoundationEssentials only (docker/README.md says
/// why); it also measures text in Characters, which puts Persian's zero-width non-joiner and
/// combining marks out of line.
enum Table {
    /// Columns a character takes: none for combining marks and format characters (Persian's
    /// zero-width non-joiner), one otherwise.
    static func width(_ text: String) -> Int {
        text.unicodeScalars.reduce(0) { count, scalar in
            switch scalar.properties.generalCategory {
            case .nonspacingMark, .enclosingMark, .format, .control: count
            default: count + 1
            }
        }
    }

    static func render(_ headers: [String], _ rows: [[String]], width: Int, words: Words = Words(.en)) -> String {
        guard !rows.isEmpty else { return words(.none) }
        let rows = rows.map { row in row.map { $0.replacingNewlines() } }
        var widths = headers.map(Self.width)
        for row in rows {
            for (index, cell) in row.enumerated() where index < widths.count - 1 { widths[index] = max(widths[index], Self.width(cell)) }
        }
        let fixed = widths.dropLast().reduce(0, +) + 2 * (widths.count - 1)
        let last = max(20, width - fixed - 1)
        widths[widths.count - 1] = min(last, max(Self.width(headers.last ?? ""), rows.map { Self.width($0.last ?? "") }.max() ?? 0))
        func line(_ cells: [String]) -> [String] {
            let wrapped = Self.wrap(cells.last ?? "", widths[widths.count - 1])
            return wrapped.enumerated().map { index, part in
                let head = cells.dropLast().enumerated().map { column, cell in
                    Self.pad(index == 0 ? cell : "", widths[column])
                }
                return (head + [part]).joined(separator: "  ")
            }
        }
        var out = line(headers)
        out.append(widths.map { String(repeating: "─", count: $0) }.joined(separator: "  "))
        for row in rows { out += line(row) }
        return out.joined(separator: "\n")
    }

    static func pad(_ text: String, _ width: Int) -> String {
        text + String(repeating: " ", count: max(0, width - Self.width(text)))
    }

    /// Words into lines of at most `width` columns; a word longer than that is cut.
    static func wrap(_ text: String, _ width: Int) -> [String] {
        var lines: [String] = []
        var current = ""
        for word in text.split(separator: " ", omittingEmptySubsequences: true).map(String.init) {
            var word = word
            while Self.width(word) > width {
                if !current.isEmpty { lines.append(current); current = "" }
                lines.append(String(word.prefix(width)))
                word = String(word.dropFirst(width))
            }
            if current.isEmpty {
                current = word
            } else if Self.width(current) + 1 + Self.width(word) <= width {
                current += " " + word
            } else {
                lines.append(current)
                current = word
            }
        }
        if !current.isEmpty || lines.isEmpty { lines.append(current) }
        return lines
    }

    /// 3509020800.72 as 3,509,020,800.72.
    static func grouped(_ decimal: String) -> String { SessionBrief.grouped(decimal) }

    /// Lines of a report, each wrapped at word boundaries to `width` columns; a wrapped line goes
    /// on under its own indent and two spaces more. A line of a table passes as it is.
    static func wrapLines(_ lines: [String], width: Int) -> String {
        lines.flatMap { text -> [String] in
            text.split(separator: "\n", omittingEmptySubsequences: false).flatMap { line -> [String] in
                guard Self.width(String(line)) > width else { return [String(line)] }
                let indent = String(line.prefix { $0 == " " })
                let parts = Self.wrap(String(line), max(20, width - indent.count - 2))
                return parts.enumerated().map { $0.offset == 0 ? indent + $0.element : indent + "  " + $0.element }
            }
        }.joined(separator: "\n")
    }
}

/// Months as a person reads a list of them: runs of consecutive months as one range,
/// "2024-01..2024-09, 2025-03".
enum MonthRanges {
    static func text(_ months: [String], _ words: Words = Words(.en)) -> String {
        func index(_ month: String) -> Int? {
            guard month.utf8.count == 7, let year = Int(month.prefix(4)), let number = Int(month.suffix(2)) else { return nil }
            return year * 12 + number
        }
        var runs: [(first: String, last: String, end: Int)] = []
        for month in months {
            if let at = index(month), let last = runs.last, last.end + 1 == at {
                runs[runs.count - 1] = (last.first, month, at)
            } else {
                runs.append((month, month, index(month) ?? Int.min))
            }
        }
        return runs.map { $0.first == $0.last ? words.date($0.first) : words.span($0.first, $0.last) }.joined(separator: ", ")
    }
}

extension String {
    fileprivate func replacingNewlines() -> String {
        String(self.map { $0 == "\n" || $0 == "\r" ? " " : $0 })
    }
}
