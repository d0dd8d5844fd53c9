import ArgumentParser
import ConcordTLS
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Manages the gateway's token file: lines `ROLE NAME SHA256-HEX [rate=N] [concurrency=N]`. The gateway re-reads the
/// file when it changes, so adding and revoking need no restart. Only hashes are stored; a new
/// token is printed once.
struct TokensCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tokens",
        abstract: "Add, list and revoke the gateway's client tokens.",
        subcommands: [Add.self, List.self, Revoke.self]
    )

    struct FileOption: ParsableArguments {
        @Option(help: "The token file the gateway reads (env CONCORD_TOKENS; default .concord/tokens).")
        var file: String = ProcessInfo.processInfo.environment["CONCORD_TOKENS"] ?? ".concord/tokens"
    }

    struct Add: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create a token for NAME with ROLE and print it once.")

        @OptionGroup var file: FileOption
        @Option(help: "reader, secretariat (may write) or admin.")
        var role: String
        @Option(help: "Who holds it (letters, digits, - _ .); used to revoke it and in logs.")
        var name: String
        @Option(help: "Requests a second it may make at each gateway replica, or 'unlimited' (default: its role's).")
        var rate: String?
        @Option(help: "Requests it may have in flight at each gateway replica, or 'unlimited' (default: its role's).")
        var concurrency: String?

        func validate() throws {
            if let rate = self.rate, rate != "unlimited", !(Double(rate).map { $0 > 0 && $0.isFinite } ?? false) {
                throw ValidationError("--rate must be a positive number of requests a second, or 'unlimited'; got '\(rate)'")
            }
            if let concurrency = self.concurrency, concurrency != "unlimited", !(Int(concurrency).map { $0 > 0 } ?? false) {
                throw ValidationError("--concurrency must be a positive whole number, or 'unlimited'; got '\(concurrency)'")
            }
            guard ["reader", "secretariat", "admin"].contains(self.role) else {
                throw UsageErrors.refusal(
                    "role must be reader, secretariat or admin; got '\(self.role)'", option: "--role",
                    rule: .oneOf(allowed: ["reader", "secretariat", "admin"], got: self.role)
                )
            }
            guard !self.name.isEmpty, self.name.count <= 64,
                  self.name.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "-_.".contains($0)) }) else {
                throw ValidationError("name must be 1-64 letters, digits, '-', '_' or '.'; got '\(self.name)'")
            }
        }

        func run() throws {
            let limits = [self.rate.map { "rate=\($0)" }, self.concurrency.map { "concurrency=\($0)" }].compactMap { $0 }
            let token = try TokenFile.add(role: self.role, name: self.name, limits: limits, path: self.file.file)
            print(token)
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show the names and roles in the token file.")
        @OptionGroup var file: FileOption

        func run() throws {
            for entry in try TokenFile.entries(self.file.file) {
                print("\(entry.role)\t\(entry.name)")
            }
        }
    }

    struct Revoke: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Remove every token of NAME; the gateway stops accepting it within a second.")
        @OptionGroup var file: FileOption
        @Argument(help: "The token holder's name.")
        var name: String

        func run() throws {
            let removed = try TokenFile.revoke(name: self.name, path: self.file.file)
            guard removed > 0 else { throw ValidationError("no token named '\(self.name)' in \(self.file.file)") }
            print("revoked \(removed) token(s) of \(self.name)")
        }
    }
}

enum TokenFile {
    struct Entry { var role: String; var name: String; var hash: String }

    static func entries(_ path: String) throws -> [Entry] {
        guard FileManager.default.fileExists(atPath: path) else { return [] }
        return try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n").compactMap { line in
            let fields = line.split(whereSeparator: \.isWhitespace)
            guard !line.hasPrefix("#"), fields.count >= 3 else { return nil }
            return Entry(role: String(fields[0]), name: String(fields[1]), hash: String(fields[2]))
        }
    }

    /// Appends a new token's hash and returns the token.
    static func add(role: String, name: String, limits: [String] = [], path: String) throws -> String {
        var bytes = [UInt8](repeating: 0, count: 24)
        var generator = SystemRandomNumberGenerator()
        for index in bytes.indices { bytes[index] = generator.next() }
        // base64url without padding.
        let token = "cc_" + String(Data(bytes).base64EncodedString().compactMap { character -> Character? in
            switch character {
            case "+": "-"
            case "/": "_"
            case "=": nil
            default: character
            }
        })
        let hash = TokenHash.of(token)
        var lines = try self.lines(path)
        if lines.isEmpty { lines.append("# Concord gateway tokens: ROLE NAME SHA256-HEX [rate=N] [concurrency=N]. Written by `concord tokens`.") }
        lines.append(([role, name, hash] + limits).joined(separator: " "))
        try self.write(lines, to: path)
        return token
    }

    static func revoke(name: String, path: String) throws -> Int {
        let lines = try self.lines(path)
        let kept = lines.filter { line in
            let fields = line.split(whereSeparator: \.isWhitespace)
            return line.hasPrefix("#") || fields.count < 3 || fields[1] != name
        }
        try self.write(kept, to: path)
        return lines.count - kept.count
    }

    private static func lines(_ path: String) throws -> [String] {
        guard FileManager.default.fileExists(atPath: path) else { return [] }
        return try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n").map(String.init)
    }

    /// Written whole to a temporary file, then renamed: the gateway never reads half a file.
    private static func write(_ lines: [String], to path: String) throws {
        let directory = URL(fileURLWithPath: path).deletingLastPathComponent()
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let temporary = directory.appendingPathComponent(".tokens-\(UUID().uuidString)")
        guard FileManager.default.createFile(
            atPath: temporary.path, contents: Data((lines.joined(separator: "\n") + "\n").utf8), attributes: [.posixPermissions: 0o600]
        ) else { throw ValidationError("cannot write \(temporary.path)") }
        guard rename(temporary.path, path) == 0 else { throw ValidationError("cannot replace \(path)") }
    }
}
