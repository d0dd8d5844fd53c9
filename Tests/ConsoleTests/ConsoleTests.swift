import ConcordUsers
import ConcordWords
import Crypto
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Testing

@testable import Console

@Suite("The console's pieces")
struct ConsoleTests {
    @Test func aSessionOpensOnlyWithItsKeyUnchangedAndBeforeItExpires() throws {
        let key = SymmetricKey(size: .bits256)
        let session = SessionCookie(user: "maryam", role: "secretariat", language: "fa", expires: 2_000, csrf: SessionCookie.randomToken())
        let sealed = session.sealed(with: key)
        #expect(SessionCookie.open(sealed, with: key, now: 1_000) == session)
        #expect(SessionCookie.open(sealed, with: key, now: 2_000) == nil, "expired")
        #expect(SessionCookie.open(sealed, with: SymmetricKey(size: .bits256), now: 1_000) == nil, "another console's key")
        // A reader who rewrites their role: the signature no longer matches.
        let forged = SessionCookie(user: "maryam", role: "admin", language: "fa", expires: 2_000, csrf: session.csrf).sealed(with: SymmetricKey(size: .bits256))
        let tampered = String(forged.split(separator: ".")[0]) + "." + String(sealed.split(separator: ".")[1])
        #expect(SessionCookie.open(tampered, with: key, now: 1_000) == nil)
        #expect(SessionCookie.open("garbage", with: key, now: 1_000) == nil)
        #expect(SessionCookie.randomToken() != SessionCookie.randomToken())
    }

    @Test func aNewPasswordChangesTheStampEverySessionIsCheckedAgainst() throws {
        let key = SymmetricKey(size: .bits256)
        // Two bcrypt hashes, as `concord users add` and `passwd` write them.
        let old = "$2b$10$uG5S7rL1bJmTqYV0xkq2Ae3W8oV7m9Q2Yc1s0R4p6T8u0W2y4A6C."
        let new = "$2b$10$Zr4o1Qv9sKx2Lm8Nb7Vc6ObJf3Hd5Ga1Wq0Es9Rt8Yu7Ii6Op5Aa."
        let session = SessionCookie(user: "maryam", role: "secretariat", language: "fa", expires: 2_000, csrf: "t", stamp: SessionCookie.stamp(ofHash: old))
        let opened = try #require(SessionCookie.open(session.sealed(with: key), with: key, now: 1_000))
        #expect(opened.stamp == SessionCookie.stamp(ofHash: old))
        #expect(opened.stamp != SessionCookie.stamp(ofHash: new))
        #expect(!opened.stamp.isEmpty && !old.contains(opened.stamp))
    }

    @Test func failedSignInsAreSlowedThenRefusedForTheWindow() {
        var guardState = SignInGuard()
        #expect(guardState.verdict(name: "operator", address: "10.0.0.1", now: 0) == .check(delay: 0))
        for second in 0..<3 { guardState.failed(name: "operator", address: "10.0.0.1", now: second) }
        #expect(guardState.verdict(name: "operator", address: "10.0.0.1", now: 3) == .check(delay: 0))
        guardState.failed(name: "operator", address: "10.0.0.1", now: 3)
        #expect(guardState.verdict(name: "operator", address: "10.0.0.1", now: 4) == .check(delay: 0.25))
        for second in 4..<10 { guardState.failed(name: "operator", address: "10.0.0.1", now: second) }
        // Ten failures for the name: refused from any address, until the window has passed.
        #expect(guardState.verdict(name: "operator", address: "10.9.9.9", now: 10) == .locked(until: 900))
        #expect(guardState.verdict(name: "other", address: "10.0.0.1", now: 10) == .locked(until: 900), "and from that address for any name")
        #expect(guardState.verdict(name: "other", address: "10.9.9.9", now: 10) == .check(delay: 0))
        #expect(guardState.verdict(name: "operator", address: "10.9.9.9", now: 1_000) == .check(delay: 0), "the window passed")
    }

    @Test func textIsEscapedAndOnlyHTMLGoesInAsItIs() {
        let title = "<img src=x onerror=alert(1)>"
        let page: HTML = "<h1>\(title)</h1>\(HTML(trusted: "<hr>"))"
        #expect(page.markup == "<h1>&lt;img src=x onerror=alert(1)&gt;</h1><hr>")
        #expect(HTML.escape("\"'&") == "&quot;&#39;&amp;")
        #expect(HTML.escape("دبیرخانه <دائمی> & «Секретариат»") == "دبیرخانه &lt;دائمی&gt; &amp; «Секретариат»")
        #expect(HTML.escape("Тегеран–Москва") == "Тегеран–Москва")
    }

    @Test func theLatestChangesAreTheNewestOfEveryFeedEachOnce() {
        func change(_ cursor: String, at second: Int) -> Overview.Change {
            Overview.Change(
                cursor: cursor, service: String(cursor.prefix { $0 != ":" }), kind: "actions", key: "k", operation: "update", versionBefore: 1,
                versionAfter: 2, verb: "v", actor: "a", actorRole: nil, at: "2026-12-03T10:00:\(10 + second).000Z", traceID: nil
            )
        }
        var latest = LatestChanges(kept: 3)
        latest.add([change("agreements:1", at: 1), change("agreements:2", at: 4), change("trade:7", at: 2)])
        // What the watch brought while the feeds were read comes both ways: it is kept once.
        latest.add([change("agreements:2", at: 4), change("participants:3", at: 3)])
        #expect(latest.items.map(\.cursor) == ["agreements:2", "participants:3", "trade:7"])
        latest.add([change("trade:8", at: 5)])
        #expect(latest.items.map(\.cursor) == ["trade:8", "agreements:2", "participants:3"])
        // An older change than every one kept does not push a newer one out.
        latest.add([change("agreements:0", at: 0)])
        #expect(latest.items.map(\.cursor) == ["trade:8", "agreements:2", "participants:3"])
    }

    @Test func formsAreDecodedAndBadEscapesDropped() {
        #expect(Console.percentDecoded("a%20b+c") == "a b c")
        #expect(Console.percentDecoded("%D9%81%D8%A7") == "فا")
        #expect(Console.percentDecoded("%zz") == nil)
        #expect(Console.percentDecoded("%FF") == nil, "not UTF-8")
        #expect(Console.same("abc", "abc") && !Console.same("abc", "abd") && !Console.same("", ""))
    }

    @Test func usersAreReadAgainWhenTheFileChanges() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("users-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        try UsersFile.add(name: "maryam", role: "secretariat", password: "a long password", path: path)
        let users = try Users(path: path)
        #expect(try users.current()["maryam"]?.role == "secretariat")
        #expect(UsersFile.verify("a long password", of: try #require(try users.current()["maryam"])))
        #expect(!UsersFile.verify("a wrong password", of: try #require(try users.current()["maryam"])))
        try UsersFile.add(name: "ivan", role: "reader", password: "another password", path: path)
        #expect(try users.current().keys.sorted() == ["ivan", "maryam"])
        try UsersFile.remove(name: "maryam", path: path)
        #expect(try users.current()["maryam"] == nil)
        #expect(throws: UsersFile.Failure.self) { try UsersFile.add(name: "Bad Name", role: "reader", password: "a long password", path: path) }
        #expect(throws: UsersFile.Failure.self) { try UsersFile.add(name: "short", role: "reader", password: "short", path: path) }
        // The file holds hashes, never a password.
        let text = try String(contentsOfFile: path, encoding: .utf8)
        #expect(!text.contains("another password") && text.contains("$2b$"))
    }
}
