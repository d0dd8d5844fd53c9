#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
#if canImport(Glibc)
import Glibc
#endif
import HummingbirdBcrypt

/// A person who signs in to the console: a name, a role (reader, secretariat or admin, as the
/// gateway's tokens have), and the bcrypt hash of their password. The password itself is never
/// stored or logged.
public struct ConsoleUser: Sendable, Equatable {
    public var name: String
    public var role: String
    public var hash: String

    public init(name: String, role: String, hash: String) {
        (self.name, self.role, self.hash) = (name, role, hash)
    }

    public static let roles = ["reader", "secretariat", "admin"]
}

/// The users file: one line per person, `ROLE NAME BCRYPT-HASH`, `#` for comments; written whole
/// to a temporary file and renamed (mode 0600), so a reader never sees half a file. The console
/// reads it again when it changes, so a person removed can no longer sign in.
public enum UsersFile {
    public struct Failure: Error, CustomStringConvertible {
        public var description: String
        public init(_ description: String) { self.description = description }
    }

    /// bcrypt's cost: 2^12 rounds, about a quarter of a second a check on this machine.
    public static let cost: UInt8 = 12

    public static func read(_ path: String) throws(Failure) -> [ConsoleUser] {
        guard FileManager.default.fileExists(atPath: path) else { return [] }
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw Failure("cannot read \(path): \(error)")
        }
        var users: [ConsoleUser] = []
        var lineOf: [String: Int] = [:]
        for (index, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let fields = line.split(whereSeparator: \.isWhitespace)
            if fields.isEmpty || line.hasPrefix("#") { continue }
            guard fields.count == 3, ConsoleUser.roles.contains(String(fields[0])) else {
                throw Failure("\(path) line \(index + 1): expected ROLE NAME HASH with ROLE one of \(ConsoleUser.roles.joined(separator: ", "))")
            }
            let user = ConsoleUser(name: String(fields[1]), role: String(fields[0]), hash: String(fields[2]))
            // Two lines for one name would leave which password and role hold to the order of lines.
            if let first = lineOf[user.name] {
                throw Failure("\(path) line \(index + 1): \(user.name) is already on line \(first)")
            }
            lineOf[user.name] = index + 1
            users.append(user)
        }
        return users
    }

    /// A name is 1 to 64 lower-case letters, digits, dots, hyphens or underscores.
    public static func checkName(_ name: String) throws(Failure) {
        guard (1...64).contains(name.count),
              name.unicodeScalars.allSatisfy({ ("a"..."z").contains($0) || ("0"..."9").contains($0) || "._-".unicodeScalars.contains($0) })
        else { throw Failure("a user name is 1 to 64 lower-case letters, digits, '.', '-' or '_'; got '\(name)'") }
    }

    /// Adds `name` with `role` and `password`; refuses a name already there.
    public static func add(name: String, role: String, password: String, path: String) throws(Failure) {
        try Self.checkName(name)
        guard ConsoleUser.roles.contains(role) else { throw Failure("role must be one of \(ConsoleUser.roles.joined(separator: ", ")); got '\(role)'") }
        try Self.checkPassword(password)
        var users = try Self.read(path)
        guard !users.contains(where: { $0.name == name }) else { throw Failure("\(name) is already a user; change the password with `concord users passwd \(name)`") }
        users.append(ConsoleUser(name: name, role: role, hash: Bcrypt.hash(password, cost: Self.cost)))
        try Self.write(users, to: path)
    }

    /// Sets a new password for `name`.
    public static func setPassword(name: String, password: String, path: String) throws(Failure) {
        try Self.checkPassword(password)
        var users = try Self.read(path)
        guard let index = users.firstIndex(where: { $0.name == name }) else { throw Failure("no user named '\(name)' in \(path)") }
        users[index].hash = Bcrypt.hash(password, cost: Self.cost)
        try Self.write(users, to: path)
    }

    /// Removes `name`; false when there was none.
    @discardableResult
    public static func remove(name: String, path: String) throws(Failure) -> Bool {
        let users = try Self.read(path)
        let kept = users.filter { $0.name != name }
        guard kept.count < users.count else { return false }
        try Self.write(kept, to: path)
        return true
    }

    public static func checkPassword(_ password: String) throws(Failure) {
        // bcrypt reads 72 bytes at most: a longer password would be cut without a word.
        guard (10...72).contains(password.utf8.count) else {
            throw Failure("a password is 10 to 72 bytes long")
        }
    }

    /// A person nobody is, with the hash of a password nobody knows: checked when a sign-in
    /// names nobody, so its answer takes as long as for a real name.
    public static let decoy = ConsoleUser(name: "", role: "reader", hash: Bcrypt.hash(Self.generatePassword(), cost: Self.cost))

    /// Whether `password` is `user`'s.
    public static func verify(_ password: String, of user: ConsoleUser) -> Bool {
        guard password.utf8.count <= 72 else { return false }
        return Bcrypt.verify(password, hash: user.hash)
    }

    /// A new password: 16 letters and digits from the system's random source.
    public static func generatePassword() -> String {
        let alphabet = Array("abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789")
        var generator = SystemRandomNumberGenerator()
        return String((0..<16).map { _ in alphabet[Int(generator.next(upperBound: UInt64(alphabet.count)))] })
    }

    static func write(_ users: [ConsoleUser], to path: String) throws(Failure) {
        let lines = ["# Concord console users: ROLE NAME BCRYPT-HASH. Written by `concord users`."]
            + users.map { "\($0.role) \($0.name) \($0.hash)" }
        let directory = URL(fileURLWithPath: path).deletingLastPathComponent()
        let temporary = directory.appendingPathComponent(".users-\(UInt64.random(in: 0...UInt64.max))")
        do {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        } catch {
            throw Failure("cannot create \(directory.path): \(error)")
        }
        guard FileManager.default.createFile(
            atPath: temporary.path, contents: Data((lines.joined(separator: "\n") + "\n").utf8), attributes: [.posixPermissions: 0o600]
        ) else { throw Failure("cannot write \(temporary.path)") }
        guard rename(temporary.path, path) == 0 else { throw Failure("cannot replace \(path)") }
    }
}
