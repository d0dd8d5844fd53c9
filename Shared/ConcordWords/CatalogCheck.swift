/// What keeps the catalogs whole: every language has every key and no other, every key is used
/// somewhere in the code, and every vocabulary labels the same codes in each language. A test
/// runs it over the real catalogs and the project's sources.
public enum CatalogCheck {
    public enum Problem: Hashable, Sendable, CustomStringConvertible {
        case missing(language: String, key: String)
        case unknown(language: String, key: String)
        case unused(key: String)

        public var description: String {
            switch self {
            case .missing(let language, let key): "the \(language) catalog has no '\(key)'"
            case .unknown(let language, let key): "the \(language) catalog has '\(key)', which is not a key"
            case .unused(let key): "'\(key)' is in the catalogs but no code uses it (write it as .\(key))"
            }
        }
    }

    /// `catalogs`: each language's keys; `keys`: the keys there are; `sources`: the text of every
    /// source file that may use a key (written `.key`), the catalogs themselves left out.
    public static func problems(catalogs: [String: Set<String>], keys: [String], sources: [String]) -> [Problem] {
        var problems: [Problem] = []
        let known = Set(keys)
        for (language, catalog) in catalogs.sorted(by: { $0.key < $1.key }) {
            problems += known.subtracting(catalog).sorted().map { .missing(language: language, key: $0) }
            problems += catalog.subtracting(known).sorted().map { .unknown(language: language, key: $0) }
        }
        let used = Self.references(in: sources)
        problems += keys.filter { !used.contains($0) }.map { .unused(key: $0) }
        return problems
    }

    /// The catalogs as they are.
    public static func problems(sources: [String]) -> [Problem] {
        var catalogs: [String: Set<String>] = [:]
        for language in Language.allCases {
            catalogs[language.rawValue] = Set(Catalog.messages(language).keys.map(\.rawValue))
        }
        var problems = Self.problems(catalogs: catalogs, keys: Key.allCases.map(\.rawValue), sources: sources)
        // Labels: Persian and Russian label the same codes of each vocabulary.
        for vocabulary in Vocabulary.allCases {
            let persian = Set(Catalog.vocabularies(.fa)[vocabulary]?.keys ?? [:].keys)
            let russian = Set(Catalog.vocabularies(.ru)[vocabulary]?.keys ?? [:].keys)
            problems += russian.subtracting(persian).sorted().map { .missing(language: "fa", key: "\(vocabulary.rawValue).\($0)") }
            problems += persian.subtracting(russian).sorted().map { .missing(language: "ru", key: "\(vocabulary.rawValue).\($0)") }
        }
        return problems
    }

    /// Every identifier written after a dot: `.coChairs`, `words(.trade)`.
    static func references(in sources: [String]) -> Set<String> {
        var found: Set<String> = []
        for source in sources {
            var scalars = source.unicodeScalars[...]
            while let dot = scalars.firstIndex(of: ".") {
                scalars = scalars[scalars.index(after: dot)...]
                let name = scalars.prefix { $0.properties.isXIDContinue }
                if !name.isEmpty { found.insert(String(String.UnicodeScalarView(name))) }
            }
        }
        return found
    }
}
