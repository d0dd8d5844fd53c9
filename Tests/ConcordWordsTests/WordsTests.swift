import ConcordTestSupport
import ConcordWire
import ConcordWords
import Foundation
import Testing

@testable import Agreements
@testable import Participants

@Suite("Words in Persian, Russian and English")
struct WordsTests {
    let fa = Words(.fa)
    let ru = Words(.ru)
    let en = Words(.en)

    @Test func knownDatesInTheSolarHijriCalendar() {
        // From the platform's Persian calendar: 21 March 2025 is 1 Farvardin 1404; 2 December 2026
        // is 11 Azar 1405.
        var persian = Calendar(identifier: .persian)
        persian.timeZone = TimeZone(identifier: "UTC")!
        var gregorian = Calendar(identifier: .gregorian)
        gregorian.timeZone = TimeZone(identifier: "UTC")!
        let nowruz = gregorian.date(from: DateComponents(year: 2025, month: 3, day: 21))!
        let today = gregorian.date(from: DateComponents(year: 2026, month: 12, day: 2))!
        #expect(persian.dateComponents([.year, .month, .day], from: nowruz) == DateComponents(year: 1404, month: 1, day: 1))
        #expect(persian.dateComponents([.year, .month, .day], from: today) == DateComponents(year: 1405, month: 9, day: 11))
        #expect(self.fa.date("2025-03-21") == "۱ فروردین ۱۴۰۴")
        #expect(self.fa.date("2026-12-02") == "۱۱ آذر ۱۴۰۵")
        #expect(self.fa.date("2026-12-02", withGregorian: true) == "۱۱ آذر ۱۴۰۵ (۲ دسامبر ۲۰۲۶)")
    }

    @Test func aPartialDateStaysGregorianInPersianWords() {
        #expect(self.fa.date("2025-12") == "دسامبر ۲۰۲۵")
        #expect(self.fa.date("2025") == "۲۰۲۵")
    }

    @Test func russianDates() {
        #expect(self.ru.date("2026-12-02") == "2 декабря 2026\u{202F}г.", "the platform puts a narrow no-break space before г.")
        #expect(self.ru.date("2025-12") == "декабрь 2025\u{202F}г.")
        #expect(self.ru.date("2025") == "2025\u{202F}г.")
    }

    @Test func englishIsUnchanged() {
        #expect(self.en.date("2026-12-02") == "2026-12-02")
        #expect(self.en.number("3509020800.72") == "3,509,020,800.72")
        #expect(self.en.percent("8.2") == "+8.2%")
        #expect(self.en.percent("-6.7") == "-6.7%")
        #expect(self.en.span("2025-01", "2025-09") == "2025-01..2025-09")
        #expect(self.en(.session, "6") == "Session 6")
    }

    @Test func figures() {
        #expect(self.fa.number("1234.5") == "۱٬۲۳۴٫۵")
        #expect(self.ru.number("1234.5") == "1\u{202F}234,5", "a narrow no-break space between groups, a decimal comma")
        #expect(self.fa.percent("8.2").contains("+۸٫۲٪"))
        #expect(self.fa.percent("-6.7").contains("−۶٫۷٪"), "a minus sign, U+2212")
        #expect(self.ru.percent("8.2") == "+8,2\u{202F}%")
        #expect(self.fa.integer(9) == "۹")
        #expect(self.fa.digits("2025-01") == "۲۰۲۵-۰۱")
    }

    @Test func russianPluralsByCLDRsRules() {
        let forms = [1: "1 действие", 2: "2 действия", 5: "5 действий", 11: "11 действий", 21: "21 действие", 22: "22 действия"]
        for (count, expected) in forms {
            #expect(self.ru.plural(.actionsCount, count) == expected)
        }
        #expect(self.en.plural(.actionsCount, 1) == "1 action" && self.en.plural(.actionsCount, 2) == "2 actions")
    }

    @Test func theLanguageComesFromTheFlagThenTheEnvironment() throws {
        #expect(try Language.choose(flag: "fa", environment: ["CONCORD_LANG": "ru"]) == .fa)
        #expect(try Language.choose(flag: nil, environment: ["CONCORD_LANG": "ru", "LANG": "fa_IR.UTF-8"]) == .ru)
        #expect(try Language.choose(flag: nil, environment: ["LC_ALL": "fa_IR.UTF-8", "LANG": "ru_RU.UTF-8"]) == .fa)
        #expect(try Language.choose(flag: nil, environment: ["LANG": "ru_RU.UTF-8"]) == .ru)
        #expect(try Language.choose(flag: nil, environment: ["LANG": "de_DE.UTF-8"]) == .en)
        #expect(try Language.choose(flag: nil, environment: ["LANG": "C.UTF-8"]) == .en)
        #expect(try Language.choose(flag: nil, environment: [:]) == .en)
        #expect(throws: LanguageError.self) { try Language.choose(flag: "de", environment: [:]) }
        #expect(Language.fa.direction == "rtl" && Language.ru.direction == "ltr")
    }

    @Test func everyCodeOfEveryVocabularyHasItsLabels() {
        let codes: [(Vocabulary, [String])] = [
            (.instrumentStatus, InstrumentStatus.allCases.map(\.rawValue)), (.instrumentKind, Instrument.Kind.allCases.map(\.rawValue)),
            (.sector, Instrument.Sector.allCases.map(\.rawValue)), (.obstacleCategory, Obstacle.Category.allCases.map(\.rawValue)),
            (.obstacleStatus, Obstacle.Status.allCases.map(\.rawValue)), (.actionStatus, Action.Status.allCases.map(\.rawValue)),
            (.attendanceRole, Attendance.roles), (.regionKind, Region.kinds), (.partyRole, Instrument.partyRoles),
            (.relationKind, Relation.Kind.allCases.map(\.rawValue)), (.partyKind, ["official", "region", "country", "organisation"]),
            (.partyEvent, Instrument.PartyEvent.events),
        ]
        for language in [Language.fa, .ru] {
            for (vocabulary, list) in codes {
                let labels = Catalog.vocabularies(language)[vocabulary] ?? [:]
                #expect(Set(labels.keys) == Set(list), "\(language) \(vocabulary)")
            }
        }
    }
}

@Suite("The catalogs")
struct CatalogTests {
    /// Every Swift file under Services/ and Shared/ but the catalogs themselves.
    static func sources() throws -> [String] {
        let root = repositoryRoot()
        var texts: [String] = []
        for folder in ["Services", "Shared"] {
            let enumerator = FileManager.default.enumerator(at: root.appendingPathComponent(folder), includingPropertiesForKeys: nil)
            while let url = enumerator?.nextObject() as? URL {
                guard url.pathExtension == "swift", !url.path.contains("/ConcordWords/Catalog+"), !url.path.hasSuffix("/ConcordWords/Key.swift") else { continue }
                texts.append(try String(contentsOf: url, encoding: .utf8))
            }
        }
        return texts
    }

    @Test func everyLanguageHasEveryKeyAndEveryKeyIsUsed() throws {
        let sources = try Self.sources()
        #expect(sources.count > 50, "the sources were found")
        let problems = CatalogCheck.problems(sources: sources)
        #expect(problems.isEmpty, "\(problems.map(\.description).joined(separator: "\n"))")
    }

    /// The check itself fails on a key missing from one catalog, on a catalog's key that is no
    /// key, and on a key no code uses.
    @Test func theCheckFailsOnAMissingOrUnusedKey() {
        let problems = CatalogCheck.problems(
            catalogs: ["en": ["title", "trade", "footer"], "fa": ["title", "trade"], "ru": ["title", "trade", "footer", "typo"]],
            keys: ["title", "trade", "footer"],
            sources: ["let heading = words(.title) + words(.trade)"]
        )
        #expect(problems == [
            .missing(language: "fa", key: "footer"),
            .unknown(language: "ru", key: "typo"),
            .unused(key: "footer"),
        ])
        #expect(CatalogCheck.problems(catalogs: ["en": ["a"], "fa": ["a"]], keys: ["a"], sources: ["x(.a)"]).isEmpty)
    }
}
