import ConcordUsers
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
#if canImport(Glibc)
import Glibc
#endif
import NIOConcurrencyHelpers

/// The users file as the console sees it: read again whenever it changes (its modification time
/// or size), so a person added signs in at once and one removed is signed out at their next page.
final class Users: Sendable {
    let path: String
    private let state = NIOLockedValueBox<(stamp: [Int], users: [String: ConsoleUser])>(([], [:]))

    init(path: String) throws {
        self.path = path
        _ = try self.current()
    }

    /// The people now, by name.
    func current() throws -> [String: ConsoleUser] {
        var status = stat()
        let stamp = stat(self.path, &status) == 0 ? [Int(status.st_mtim.tv_sec), Int(status.st_mtim.tv_nsec), Int(status.st_size)] : []
        if let cached = self.state.withLockedValue({ $0.stamp == stamp && !stamp.isEmpty ? $0.users : nil }) { return cached }
        let users = Dictionary(try UsersFile.read(self.path).map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        self.state.withLockedValue { $0 = (stamp, users) }
        return users
    }
}
