/// The languages every word a person reads is written in: the two sides of the committee each
/// read their own (Persian, Russian), and English is the shared third.
public enum Language: String, CaseIterable, Sendable {
    case en, fa, ru

    /// The language to write in: `--lang` if given, else `CONCORD_LANG`, else the locale of the
    /// environment (`LC_ALL`, then `LANG`), else English. A flag or CONCORD_LANG naming another
    /// language is an error; a locale of another language is English.
    public static func choose(flag: String?, environment: [String: String]) throws(LanguageError) -> Language {
        if let flag { return try Self.named(flag, from: "--lang") }
        if let named = environment["CONCORD_LANG"], !named.isEmpty { return try Self.named(named, from: "CONCORD_LANG") }
        for variable in ["LC_ALL", "LANG"] {
            guard let locale = environment[variable], !locale.isEmpty else { continue }
            // fa_IR.UTF-8, ru_RU@euro, C, POSIX: the language is what comes before _ . or @.
            let code = locale.prefix { $0 != "_" && $0 != "." && $0 != "@" && $0 != "-" }.lowercased()
            return Language(rawValue: code) ?? .en
        }
        return .en
    }

    private static func named(_ text: String, from source: String) throws(LanguageError) -> Language {
        let code = text.prefix { $0 != "_" && $0 != "." && $0 != "-" }.lowercased()
        guard let language = Language(rawValue: code) else { throw LanguageError(source: source, value: text) }
        return language
    }

    /// The page's writing direction.
    public var direction: String { self == .fa ? "rtl" : "ltr" }

    /// The ICU locale its dates and numbers are written in.
    var localeIdentifier: String {
        switch self {
        case .en: "en_GB"
        case .fa: "fa_IR"
        case .ru: "ru_RU"
        }
    }
}

/// A language asked for that Concord does not write.
public struct LanguageError: Error, CustomStringConvertible {
    public var source: String
    public var value: String
    public var description: String { "\(self.source) must be fa, ru or en; got '\(self.value)'" }
}
