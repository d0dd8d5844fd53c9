import ConcordWords
import Crypto
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Who is signed in, carried in a cookie the console signs: any replica that holds the same key
/// reads it, and a restart signs nobody out. `name|role|language|expiry|csrf|stamp`, base64url,
/// then its HMAC-SHA256. The CSRF token rides in the session: every form carries it, and a POST
/// whose form token differs from its session's is refused. The stamp is drawn from the person's
/// password hash: a new password (`concord users passwd`) ends every session they had, at every
/// replica, as soon as it reads the users file again.
struct SessionCookie: Sendable, Equatable {
    static let name = "concord_session"

    var user: String
    var role: String
    var language: String
    /// Seconds since 1970 after which the session is over.
    var expires: Int
    var csrf: String
    /// ``stamp(ofHash:)`` of the person's password hash when they signed in.
    var stamp: String = ""

    /// The words of the session's language; English for one unknown.
    var words: Words { Words(Language(rawValue: self.language) ?? .en) }

    /// Eight bytes of the SHA-256 of a password hash, base64url: not the hash, and no help to
    /// guess the password, but a different one for every new password.
    static func stamp(ofHash hash: String) -> String {
        Self.base64URL(Data(SHA256.hash(data: Data(hash.utf8)).prefix(8)))
    }

    /// The cookie's value: the session and its signature under `key`.
    func sealed(with key: SymmetricKey) -> String {
        let payload = Self.base64URL(Data([self.user, self.role, self.language, String(self.expires), self.csrf, self.stamp].joined(separator: "|").utf8))
        let signature = HMAC<SHA256>.authenticationCode(for: Data(payload.utf8), using: key)
        return payload + "." + Self.base64URL(Data(signature))
    }

    /// The session a cookie value carries, when its signature is `key`'s and it has not expired.
    static func open(_ value: String, with key: SymmetricKey, now: Int) -> SessionCookie? {
        let parts = value.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 2, let signature = Self.data(base64URL: String(parts[1])),
              HMAC<SHA256>.isValidAuthenticationCode(signature, authenticating: Data(parts[0].utf8), using: key),
              let payload = Self.data(base64URL: String(parts[0]))
        else { return nil }
        let fields = String(decoding: payload, as: UTF8.self).split(separator: "|", omittingEmptySubsequences: false).map(String.init)
        guard fields.count == 6, let expires = Int(fields[3]), expires > now else { return nil }
        return SessionCookie(user: fields[0], role: fields[1], language: fields[2], expires: expires, csrf: fields[4], stamp: fields[5])
    }

    /// 16 random bytes, base64url: a CSRF token.
    static func randomToken() -> String {
        var generator = SystemRandomNumberGenerator()
        return Self.base64URL(Data((0..<16).map { _ in UInt8.random(in: 0...255, using: &generator) }))
    }

    static func base64URL(_ data: Data) -> String {
        String(data.base64EncodedString().compactMap { character -> Character? in
            switch character {
            case "+": "-"
            case "/": "_"
            case "=": nil
            default: character
            }
        })
    }

    static func data(base64URL text: String) -> Data? {
        var base64 = String(text.map { $0 == "-" ? "+" : $0 == "_" ? "/" : $0 })
        while base64.count % 4 != 0 { base64 += "=" }
        return Data(base64Encoded: base64)
    }
}
