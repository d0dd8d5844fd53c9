import ArgumentParser
import ConcordUsers
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Manages the console's users file: lines `ROLE NAME BCRYPT-HASH`. The console re-reads it
/// when it changes. A password is read from standard input (one line), or made up and printed
/// once; it is never stored, only its bcrypt hash.
struct UsersCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "users",
        abstract: "Add, list and remove the people who sign in to the console, and set their passwords.",
        subcommands: [Add.self, Passwd.self, Remove.self, List.self]
    )

    struct FileOption: ParsableArguments {
        @Option(help: "The users file the console reads (env CONCORD_USERS; default .concord/users).")
        var file: String = ProcessInfo.processInfo.environment["CONCORD_USERS"] ?? ".concord/users"
    }

    struct PasswordOption: ParsableArguments {
        @Flag(help: "Read the password from standard input (one line) instead of making one up.")
        var passwordStdin = false

        /// The password given on standard input, or a new one, and whether it was made up here.
        func password() throws -> (String, made: Bool) {
            guard self.passwordStdin else { return (UsersFile.generatePassword(), true) }
            guard let line = readLine(strippingNewline: true), !line.isEmpty else {
                throw ValidationError("--password-stdin: no password on standard input")
            }
            return (line, false)
        }
    }

    struct Add: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Add a person with a role; prints the password made up for them, once.")
        @OptionGroup var file: FileOption
        @OptionGroup var password: PasswordOption
        @Option(help: "reader, secretariat (may write) or admin.")
        var role: String
        @Argument(help: "Their sign-in name: lower-case letters, digits, '.', '-' or '_'.")
        var name: String

        func run() throws {
            let (password, made) = try self.password.password()
            try UsersFile.add(name: self.name, role: self.role, password: password, path: self.file.file)
            print(made ? "added \(self.name) (\(self.role)); password: \(password)" : "added \(self.name) (\(self.role))")
        }
    }

    struct Passwd: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Set a new password for a person; prints it when made up here.")
        @OptionGroup var file: FileOption
        @OptionGroup var password: PasswordOption
        @Argument(help: "Their sign-in name.")
        var name: String

        func run() throws {
            let (password, made) = try self.password.password()
            try UsersFile.setPassword(name: self.name, password: password, path: self.file.file)
            print(made ? "new password for \(self.name): \(password)" : "password changed for \(self.name)")
        }
    }

    struct Remove: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Remove a person; they can no longer sign in, and their signed-in pages stop working.")
        @OptionGroup var file: FileOption
        @Argument(help: "Their sign-in name.")
        var name: String

        func run() throws {
            guard try UsersFile.remove(name: self.name, path: self.file.file) else {
                throw ValidationError("no user named '\(self.name)' in \(self.file.file)")
            }
            print("removed \(self.name)")
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show the names and roles in the users file.")
        @OptionGroup var file: FileOption

        func run() throws {
            for user in try UsersFile.read(self.file.file) {
                print("\(user.role)\t\(user.name)")
            }
        }
    }
}

