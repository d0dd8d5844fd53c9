import FoundationEssentials
import FoundationInternationalization
import Logging
import Synchronization
import _FoundationICU

/// Everything a report or a page writes for a person, in one language: its messages from the
/// catalogs, the labels of codes (statuses, kinds, roles...), and dates, numbers, percentages and
/// plurals written as that language writes them. Calendars, formats and plural rules are the
/// platform's (swift-foundation's FoundationInternationalization and its ICU), not hand-written.
///
/// English writes as Concord always has: ISO dates (2025-12-10), 3,509,020,800.72, +8.2%.
public struct Words: Sendable {
    public let language: Language

    public init(_ language: Language) {
        self.language = language
    }

    // MARK: Messages

    /// The message `key`, with `{1}`, `{2}`... replaced by `arguments`. A message the language's
    /// catalog lacks is written in English, and that is logged once.
    public func callAsFunction(_ key: Key, _ arguments: String...) -> String {
        Self.fill(self.template(key), arguments)
    }

    /// `text` isolated from the line around it (FSI ... PDI, Unicode's bidirectional algorithm):
    /// a name, a file or a service's English message keeps its own direction inside a Persian
    /// sentence, and the sentence's punctuation stays where the sentence puts it.
    public static func isolated(_ text: String) -> String {
        "\u{2068}" + text + "\u{2069}"
    }

    /// `count` things: the catalog's form for the plural category of `count` in this language
    /// (one, few, many, other: CLDR's rules, from ICU), with `#` replaced by the number.
    public func plural(_ key: Key, _ count: Int, _ arguments: String...) -> String {
        let forms = Self.forms(self.template(key))
        let category = Self.pluralCategory(count, language: self.language)
        let form = forms[category] ?? forms["other"] ?? forms.values.first ?? ""
        return Self.fill(form.replacing("#", with: self.integer(count)), arguments)
    }

    /// The label of a code in one of the vocabularies (a status, a kind, a role...); the code
    /// itself where the catalog has no label (English labels are the codes).
    public func label(_ vocabulary: Vocabulary, _ code: String) -> String {
        guard self.language != .en else { return code }
        if let label = Catalog.vocabularies(self.language)[vocabulary]?[code] { return label }
        Self.missing.report("\(self.language.rawValue): \(vocabulary.rawValue).\(code)")
        return code
    }

    private func template(_ key: Key) -> String {
        if let text = Catalog.messages(self.language)[key] { return text }
        Self.missing.report("\(self.language.rawValue): \(key.rawValue)")
        return Catalog.messages(.en)[key] ?? key.rawValue
    }

    static func fill(_ template: String, _ arguments: [String]) -> String {
        var text = template
        for (index, argument) in arguments.enumerated().reversed() {
            text = text.replacing("{\(index + 1)}", with: argument)
        }
        return text
    }

    /// "one=# действие|few=# действия|many=# действий|other=# действия" by category.
    static func forms(_ template: String) -> [String: String] {
        var forms: [String: String] = [:]
        for part in template.split(separator: "|") {
            guard let equals = part.firstIndex(of: "=") else { continue }
            forms[String(part[..<equals])] = String(part[part.index(after: equals)...])
        }
        return forms
    }

    /// CLDR's plural category of a whole number in `language`, from ICU's plural rules.
    static func pluralCategory(_ count: Int, language: Language) -> String {
        var status = U_ZERO_ERROR
        guard let rules = swift_uplrules_open(language.rawValue, &status), status.rawValue <= U_ZERO_ERROR.rawValue else { return "other" }
        defer { swift_uplrules_close(rules) }
        var buffer = [UChar](repeating: 0, count: 16)
        let length = swift_uplrules_select(rules, Double(count), &buffer, Int32(buffer.count), &status)
        guard status.rawValue <= U_ZERO_ERROR.rawValue, length > 0 else { return "other" }
        return String(decoding: buffer[0..<Int(length)], as: UTF16.self)
    }

    // MARK: Numbers

    /// A whole number: 8 in English and Russian, ۸ in Persian.
    public func integer(_ value: Int) -> String {
        guard self.language != .en else { return String(value) }
        return self.adjusted(value.formatted(.number.locale(self.locale).grouping(.never)))
    }

    /// An exact decimal ("3509020800.72") grouped as the language writes it: 3,509,020,800.72;
    /// ۳٬۵۰۹٬۰۲۰٬۸۰۰٫۷۲; 3 509 020 800,72 (a narrow no-break space between groups). Text that is
    /// not a decimal is returned as it is.
    public func number(_ decimal: String) -> String {
        guard self.language != .en else { return Self.groupedEnglish(decimal) }
        guard let value = Decimal(string: decimal, locale: Locale(identifier: "en_US_POSIX")) else { return decimal }
        return self.adjusted(value.formatted(.number.locale(self.locale).precision(.fractionLength(0...3))))
    }

    /// A large amount in the language's short words, for a chart's axis: 442 млн, ۴۴۲ میلیون,
    /// 3,51 млрд. English keeps Concord's own "442.0 m".
    public func compact(_ value: Double) -> String {
        guard self.language != .en else {
            if value >= 1e9 { return "\(Int((value / 1e8).rounded()) / 10).\(Int((value / 1e8).rounded()) % 10) bn" }
            if value >= 1e6 { return "\(Int((value / 1e5).rounded()) / 10).\(Int((value / 1e5).rounded()) % 10) m" }
            return String(Int(value))
        }
        return self.adjusted(value.formatted(.number.locale(self.locale).notation(.compactName).precision(.significantDigits(1...3))))
    }

    /// A percentage given in percent ("8.2", "-0.3"), signed: +8.2%, +۸٫۲٪, +8,2 %.
    public func percent(_ percent: String, signed: Bool = true) -> String {
        guard self.language != .en else { return (signed && !percent.hasPrefix("-") ? "+" : "") + percent + "%" }
        guard let value = Decimal(string: percent, locale: Locale(identifier: "en_US_POSIX")) else { return percent }
        let fraction = percent.split(separator: ".").dropFirst().first?.count ?? 0
        let style = Decimal.FormatStyle.Percent.percent.locale(self.locale).precision(.fractionLength(fraction))
            .sign(strategy: signed ? .always(includingZero: false) : .automatic)
        return self.adjusted((value / 100).formatted(style))
    }

    /// Russian groups thousands with a narrow no-break space (U+202F), as its typography and the
    /// issue ask; CLDR's data for ru gives a no-break space (U+00A0), so it is narrowed here.
    private func adjusted(_ text: String) -> String {
        self.language == .ru ? text.replacing("\u{00A0}", with: "\u{202F}") : text
    }

    /// Every ASCII digit of `text` in the language's digits: "2025-01" as "۲۰۲۵-۰۱" in Persian.
    public func digits(_ text: String) -> String {
        guard self.language == .fa else { return text }
        return String(String.UnicodeScalarView(text.unicodeScalars.map { scalar in
            (48...57).contains(scalar.value) ? Unicode.Scalar(0x06F0 + scalar.value - 48)! : scalar
        }))
    }

    static func groupedEnglish(_ decimal: String) -> String {
        let parts = decimal.split(separator: ".", maxSplits: 1)
        var whole = String(parts.first ?? "")
        let negative = whole.hasPrefix("-")
        if negative { whole.removeFirst() }
        guard !whole.isEmpty, whole.allSatisfy(\.isASCII), whole.allSatisfy(\.isNumber) else { return decimal }
        var groups: [Substring] = []
        var end = whole.endIndex
        while end > whole.startIndex {
            let start = whole.index(end, offsetBy: -3, limitedBy: whole.startIndex) ?? whole.startIndex
            groups.insert(whole[start..<end], at: 0)
            end = start
        }
        return (negative ? "-" : "") + groups.joined(separator: ",") + (parts.count > 1 ? "." + parts[1] : "")
    }

    // MARK: Dates

    /// A date as Concord records it ("2025-12-10", "2025-12" or "2025") as the language writes
    /// it. English keeps the ISO form. Persian writes a full date in the Solar Hijri calendar
    /// (۱۹ آذر ۱۴۰۴) and, with `withGregorian`, the Gregorian date beside it; a month or a year
    /// cannot be one Solar Hijri month, so it stays Gregorian with Persian names and digits
    /// (دسامبر ۲۰۲۵). Russian: 10 декабря 2025 г., декабрь 2025 г., 2025 г.
    public func date(_ text: String, withGregorian: Bool = false) -> String {
        guard self.language != .en, let parsed = Self.parse(text) else { return text }
        let zone = TimeZone(identifier: "UTC")!
        var gregorian = Calendar(identifier: .gregorian)
        gregorian.timeZone = zone
        guard let date = gregorian.date(from: DateComponents(year: parsed.year, month: parsed.month ?? 1, day: parsed.day ?? 1)) else { return text }
        let base = Date.FormatStyle(locale: self.locale, calendar: gregorian, timeZone: zone)
        switch (parsed.month, parsed.day) {
        case (nil, _):
            return self.language == .ru ? date.formatted(base.year()) + "\u{202F}г." : date.formatted(base.year())
        case (_?, nil):
            return date.formatted(base.month(.wide).year())
        case (_?, _?):
            let gregorianText = date.formatted(Date.FormatStyle(date: .long, time: .omitted, locale: self.locale, calendar: gregorian, timeZone: zone))
            guard self.language == .fa else { return gregorianText }
            var persian = Calendar(identifier: .persian)
            persian.timeZone = zone
            let solar = date.formatted(Date.FormatStyle(date: .long, time: .omitted, locale: self.locale, calendar: persian, timeZone: zone))
            return withGregorian ? "\(solar) (\(gregorianText))" : solar
        }
    }

    /// A span of months, "2025-01".."2025-09": as is in English; ژانویه ۲۰۲۵ تا سپتامبر ۲۰۲۵;
    /// январь 2025 г. – сентябрь 2025 г.
    public func span(_ from: String, _ to: String) -> String {
        guard self.language != .en else { return "\(from)..\(to)" }
        return self(.spanOfMonths, self.date(from), self.date(to))
    }

    static func parse(_ text: String) -> (year: Int, month: Int?, day: Int?)? {
        let parts = text.split(separator: "-", omittingEmptySubsequences: false)
        guard (1...3).contains(parts.count), parts[0].count == 4, let year = Int(parts[0]) else { return nil }
        let month = parts.count > 1 ? Int(parts[1]) : nil
        let day = parts.count > 2 ? Int(parts[2]) : nil
        if parts.count > 1, !(1...12).contains(month ?? 0) { return nil }
        if parts.count > 2, !(1...31).contains(day ?? 0) { return nil }
        return (year, month, day)
    }

    var locale: Locale { Locale(identifier: self.language.localeIdentifier) }

    // MARK: Missing translations

    /// Each missing translation is logged once per process.
    static let missing = MissingTranslations()

    final class MissingTranslations: Sendable {
        private let seen = Mutex<Set<String>>([])
        private let logger = Logger(label: "concord.words")

        func report(_ what: String) {
            let first = self.seen.withLock { $0.insert(what).inserted }
            if first { self.logger.warning("no translation; written in English", metadata: ["concord.translation": "\(what)"]) }
        }

        /// What has been reported so far (for tests).
        var reported: Set<String> { self.seen.withLock { $0 } }
    }
}
