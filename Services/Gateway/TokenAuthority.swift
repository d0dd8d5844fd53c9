import ConcordProtocol
import ConcordServer
import ConcordTLS
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Logging
import NIOConcurrencyHelpers

/// What a token lets its holder do. Each role includes the ones below it.
enum Role: Int, Comparable, Sendable, CaseIterable, CustomStringConvertible {
    case reader = 1
    case secretariat = 2
    case admin = 3

    init?(name: String) {
        switch name {
        case "reader": self = .reader
        case "secretariat": self = .secretariat
        case "admin": self = .admin
        default: return nil
        }
    }

    var description: String {
        switch self {
        case .reader: "reader"
        case .secretariat: "secretariat"
        case .admin: "admin"
        }
    }

    static func < (lhs: Role, rhs: Role) -> Bool { lhs.rawValue < rhs.rawValue }

    /// The role a verb of `kind` needs: a read needs reader, anything else (a write, or a verb
    /// the service has not declared) secretariat. The service declares the kind; the gateway
    /// guesses nothing from a verb's name. Its own verbs need admin, and say so themselves.
    static func required(for kind: VerbKind) -> Role {
        switch kind {
        case .read, .builtin: .reader
        case .write: .secretariat
        }
    }
}

/// Tokens and their roles, from a file of lines `ROLE NAME SHA256-HEX [rate=N] [concurrency=N]`
/// (`#` starts a comment; the limits override the role's, `TokenLimit`).
/// Only hashes are stored. The file is re-read when it changes, so removing a line revokes a
/// token without a restart.
final class TokenAuthority: Sendable {
    /// What a token may do, and for whom. A class, never changed once made: a grant is handed
    /// on several times per request (found, checked for the console's person, admitted,
    /// finished), and a copy of a struct of two strings took two reference counts each time.
    final class Grant: Sendable {
        let role: Role
        let name: String
        /// `name` as `actor=` metadata carries it, encoded once when the file is read.
        let metadataName: String
        /// The role's rate and concurrency, or the line's own.
        let limit: TokenLimit

        init(role: Role, name: String, limit: TokenLimit? = nil) {
            self.role = role
            self.name = name
            self.metadataName = Principal.encodeForMetadata(name)
            self.limit = limit ?? TokenLimit.defaults(for: role)
        }

        /// Whether its requests count against a limit (`TokenLimiter`).
        var isLimited: Bool { self.limit.isLimited }
    }

    let path: String
    private let logger: Logger
    private struct State {
        /// By SHA-256 hex, as the file stores them.
        var grants: [String: Grant] = [:] {
            didSet {
                self.recent.removeAll(keepingCapacity: true)
                self.last = nil
            }
        }
        /// Grants of tokens seen lately, by token: spares a SHA-256 per request. Emptied whenever
        /// the file is loaded, so a revoked token stops working at the same moment as uncached.
        var recent: [String: Grant] = [:]
        /// The last token looked up, with its grant: a caller sends one token request after
        /// request, and comparing it (the same string when the connection's reader kept it, see
        /// `LineCodec.parseClientLine`) costs less than hashing its 64 characters for `recent`
        /// (docs/performance.md). Emptied with `recent`.
        var last: (token: String, grant: Grant)?

        /// The grant of a token seen lately.
        mutating func recentGrant(for token: String) -> Grant? {
            if let last = self.last, last.token == token { return last.grant }
            guard let grant = self.recent[token] else { return nil }
            self.last = (token, grant)
            return grant
        }
        var modified: Date?
        var checked = ContinuousClock.now - .seconds(60)

        static let recentLimit = 1024

        mutating func grant(for token: String, hash: String) -> Grant? {
            guard let grant = self.grants[hash] else { return nil }
            if self.recent.count >= Self.recentLimit { self.recent.removeAll(keepingCapacity: true) }
            self.recent[token] = grant
            self.last = (token, grant)
            return grant
        }
    }
    private let state = NIOLockedValueBox(State())
    /// How often the file's modification time is looked at, at most.
    private let recheckInterval: Duration

    init(path: String, recheckInterval: Duration = .milliseconds(500), logger: Logger) throws {
        self.path = path
        self.logger = logger
        self.recheckInterval = recheckInterval
        try self.reload(force: true)
    }

    /// The grant for a request's `auth` token, or the error to answer with. Failures are logged
    /// with the verb, the reason and a hash prefix, never the token.
    ///
    /// The request's logger (`context.logger`) is built only when a refusal is logged: it costs
    /// more to make than the rest of the check.
    func authorize(token: String?, verb: Substring, needs needed: Role, for context: RequestContext) throws(ConcordError) -> Grant {
        // One lock for the common case: the file was looked at lately and the token is cached.
        // After a recheck the grant is looked up by hash afresh, as for a token not cached.
        var found: Grant?
        let recheck = self.state.withLockedValue { state -> Bool in
            let now = ContinuousClock.now
            if now - state.checked >= self.recheckInterval {
                state.checked = now
                return true
            }
            found = token.flatMap { state.recentGrant(for: $0) }
            return false
        }
        if recheck { self.reloadKeepingGrantsOnError() }
        guard let token, !token.isEmpty else {
            context.logger.notice("refused: no token", metadata: [LogKey.needs: "\(needed)"])
            throw ConcordError(.unauthorized, "'\(verb)' needs a token with role \(needed) or above: send auth=TOKEN", field: "metadata.auth")
        }
        if found == nil {
            let hash = TokenHash.of(token)
            found = self.state.withLockedValue { $0.grant(for: token, hash: hash) }
            if found == nil {
                // Maybe added a moment ago: look at the file now rather than at the next recheck.
                try? self.reload(force: false)
                found = self.state.withLockedValue { $0.grant(for: token, hash: hash) }
            }
        }
        guard let grant = found else {
            let hash = TokenHash.of(token)
            context.logger.notice("refused: unknown or revoked token", metadata: [LogKey.tokenHash: "\(hash.prefix(12))"])
            throw ConcordError(.unauthorized, "the token is unknown or was revoked", field: "metadata.auth")
        }
        let acting = try Self.acting(for: grant, context: context)
        guard acting.role >= needed else {
            context.logger.notice("refused: role too low", metadata: [
                LogKey.tokenName: "\(acting.name)", LogKey.role: "\(acting.role)", LogKey.needs: "\(needed)",
            ])
            let who = acting.name == grant.name ? "token '\(grant.name)'" : "\(acting.name) (signed in to the console)"
            throw ConcordError(.forbidden, "'\(verb)' needs role \(needed); \(who) has role \(acting.role)", field: "metadata.auth")
        }
        return acting
    }

    /// Who acts: the token's holder; or, when the caller's certificate is the console's and it
    /// names the person signed in (`actor`, `actorRole`), that person, with their role but never
    /// above the console's own token's. Only the console's certificate identity may name
    /// another actor; anyone else's `actor` is ignored, as the services ignore it from anyone
    /// but the gateway (docs/gateway.md, "The person, not the console, acts").
    static func acting(for grant: Grant, context: RequestContext) throws(ConcordError) -> Grant {
        guard context.peer == .console, let person = context.metadata.actor else { return grant }
        guard let named = context.metadata.actorRole, let role = Role(name: named) else {
            throw ConcordError(.badRequest, "the console names the person who acts with actor and their role with actorRole (reader, secretariat or admin)", field: "metadata.actorRole")
        }
        guard (1...64).contains(person.count),
              person.unicodeScalars.allSatisfy({ ("a"..."z").contains($0) || ("0"..."9").contains($0) || "._-".unicodeScalars.contains($0) })
        else {
            throw ConcordError(.badRequest, "actor must be a console user's name (lower-case letters, digits, '.', '-', '_'); got '\(person)'", field: "metadata.actor")
        }
        return Grant(role: min(role, grant.role), name: person, limit: grant.limit)
    }

    private func reloadKeepingGrantsOnError() {
        do {
            try self.reload(force: false)
        } catch {
            // Keep the grants we had: a half-written file must not lock everyone out.
            self.logger.error("cannot reload tokens; keeping the previous set", metadata: [LogKey.error: "\(error)"])
        }
    }

    private func reload(force: Bool) throws {
        let attributes = try FileManager.default.attributesOfItem(atPath: self.path)
        let modified = attributes[.modificationDate] as? Date
        if !force, self.state.withLockedValue({ $0.modified }) == modified { return }
        let grants = try Self.parse(try String(contentsOfFile: self.path, encoding: .utf8), path: self.path)
        self.state.withLockedValue { state in
            state.grants = grants
            state.modified = modified
        }
        self.logger.info("tokens loaded", metadata: [LogKey.tokens: "\(grants.count)", LogKey.file: "\(self.path)"])
    }

    static func parse(_ text: String, path: String) throws -> [String: Grant] {
        var grants: [String: Grant] = [:]
        for (number, rawLine) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = rawLine.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
            let fields = line.split(whereSeparator: \.isWhitespace)
            if fields.isEmpty { continue }
            guard fields.count >= 3, let role = Role(name: String(fields[0])), fields[2].count == 64,
                  fields[2].allSatisfy(\.isHexDigit) else {
                throw TokenFileError(
                    path: path, line: number + 1,
                    reason: "expected 'ROLE NAME SHA256-HEX [rate=N] [concurrency=N]' with ROLE reader, secretariat or admin"
                )
            }
            let limit: TokenLimit
            do {
                limit = try TokenLimit.defaults(for: role).overridden(by: Array(fields.dropFirst(3)))
            } catch {
                throw TokenFileError(
                    path: path, line: number + 1,
                    reason: "'\(error.setting)' is not a limit: write rate=N (requests a second) or concurrency=N, N a positive number or 'unlimited'"
                )
            }
            grants[fields[2].lowercased()] = Grant(role: role, name: String(fields[1]), limit: limit)
        }
        return grants
    }
}

struct TokenFileError: Error, CustomStringConvertible {
    var path: String
    var line: Int
    var reason: String
    var description: String { "\(self.path):\(self.line): \(self.reason)" }
}
