import ConcordUsers
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
#if canImport(Glibc)
import Glibc
#endif
import Testing

/// The console's users file, in a directory of each test's own.
@Suite("The users file")
struct UsersFileTests {
    let directory: String
    var path: String { self.directory + "/users" }

    init() throws {
        self.directory = FileManager.default.temporaryDirectory.appendingPathComponent("users-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: self.directory, withIntermediateDirectories: true)
    }

    func write(_ text: String) throws {
        try text.write(toFile: self.path, atomically: true, encoding: .utf8)
    }

    /// What a refused call says; nil when nothing was refused.
    func failure(_ body: () throws -> Void) -> String? {
        do {
            try body()
            return nil
        } catch let failure as UsersFile.Failure {
            return failure.description
        } catch {
            return "not a UsersFile.Failure: \(error)"
        }
    }

    @Test func noFileIsNoUsers() throws {
        #expect(try UsersFile.read(self.path).isEmpty)
    }

    @Test func commentsAndBlankLinesAreSkippedAndEachLineIsOnePerson() throws {
        try self.write("# who signs in\n\nadmin maryam $2b$12$aaa\n  reader   ivan\t$2b$12$bbb  \n")
        #expect(try UsersFile.read(self.path) == [
            ConsoleUser(name: "maryam", role: "admin", hash: "$2b$12$aaa"),
            ConsoleUser(name: "ivan", role: "reader", hash: "$2b$12$bbb"),
        ])
    }

    @Test func aBadLineIsRefusedByItsNumber() throws {
        try self.write("admin maryam $2b$12$aaa\nowner ivan $2b$12$bbb\n")
        #expect(self.failure { _ = try UsersFile.read(self.path) }
            == "\(self.path) line 2: expected ROLE NAME HASH with ROLE one of reader, secretariat, admin")
        try self.write("admin maryam\n")
        #expect(self.failure { _ = try UsersFile.read(self.path) }?.hasPrefix("\(self.path) line 1: expected ROLE NAME HASH") == true)
    }

    @Test func aNameOnTwoLinesIsRefused() throws {
        try self.write("admin maryam $2b$12$aaa\n# again\nreader maryam $2b$12$bbb\n")
        #expect(self.failure { _ = try UsersFile.read(self.path) } == "\(self.path) line 3: maryam is already on line 1")
    }

    @Test func addingChecksNameRolePasswordAndThatTheNameIsNew() throws {
        #expect(self.failure { try UsersFile.add(name: "Bad Name", role: "reader", password: "a long password", path: self.path) }
            == "a user name is 1 to 64 lower-case letters, digits, '.', '-' or '_'; got 'Bad Name'")
        #expect(self.failure { try UsersFile.add(name: "ivan", role: "owner", password: "a long password", path: self.path) }
            == "role must be one of reader, secretariat, admin; got 'owner'")
        #expect(self.failure { try UsersFile.add(name: "ivan", role: "reader", password: "short", path: self.path) }
            == "a password is 10 to 72 bytes long")
        #expect(self.failure { try UsersFile.add(name: "ivan", role: "reader", password: String(repeating: "ж", count: 37), path: self.path) }
            == "a password is 10 to 72 bytes long", "74 bytes: bcrypt would cut it")
        // Nothing refused was written.
        #expect(!FileManager.default.fileExists(atPath: self.path))

        try UsersFile.add(name: "ivan", role: "reader", password: "a long password", path: self.path)
        #expect(self.failure { try UsersFile.add(name: "ivan", role: "admin", password: "another password", path: self.path) }
            == "ivan is already a user; change the password with `concord users passwd ivan`")
        #expect(try UsersFile.read(self.path).map(\.role) == ["reader"])
    }

    @Test func theFileHoldsHashesOnlyReadableByItsOwnerAndIsReplacedWhole() throws {
        try UsersFile.add(name: "maryam", role: "secretariat", password: "a long password", path: self.path)
        let text = try String(contentsOfFile: self.path, encoding: .utf8)
        #expect(!text.contains("a long password"))
        #expect(text.contains("secretariat maryam $2b$12$"))
        var status = stat()
        #expect(stat(self.path, &status) == 0)
        #expect(status.st_mode & 0o777 == 0o600)
        // No temporary file is left beside it.
        #expect(try FileManager.default.contentsOfDirectory(atPath: self.directory) == ["users"])
    }

    @Test func aPasswordChangeAndARemovalTouchOnlyTheirPerson() throws {
        try UsersFile.add(name: "maryam", role: "secretariat", password: "a long password", path: self.path)
        try UsersFile.add(name: "ivan", role: "reader", password: "another password", path: self.path)
        let ivan = try #require(try UsersFile.read(self.path).last)

        try UsersFile.setPassword(name: "maryam", password: "a new password", path: self.path)
        let users = try UsersFile.read(self.path)
        #expect(UsersFile.verify("a new password", of: users[0]))
        #expect(!UsersFile.verify("a long password", of: users[0]))
        #expect(users[1] == ivan)
        #expect(self.failure { try UsersFile.setPassword(name: "olga", password: "a new password", path: self.path) }
            == "no user named 'olga' in \(self.path)")

        #expect(try UsersFile.remove(name: "maryam", path: self.path))
        #expect(try !UsersFile.remove(name: "maryam", path: self.path))
        #expect(try UsersFile.read(self.path) == [ivan])
    }

    @Test func aPasswordLongerThanBcryptReadsNeverMatches() {
        let long = String(repeating: "p", count: 72)
        let user = ConsoleUser(name: "p", role: "reader", hash: "$2b$04$" + String(repeating: "a", count: 53))
        #expect(!UsersFile.verify(long + "extra", of: user))
    }

    @Test func generatedPasswordsAreSixteenUnambiguousCharactersAndDiffer() {
        let passwords = (0..<20).map { _ in UsersFile.generatePassword() }
        #expect(Set(passwords).count == 20)
        for password in passwords {
            #expect(password.count == 16)
            #expect(password.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber) && !"0O1lI".contains($0) })
        }
    }
}
