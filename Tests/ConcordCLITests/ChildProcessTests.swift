import Crypto
import Foundation
import Testing

@testable import ConcordCLI

/// `concord up` runs each service as a child process with posix_spawn (Foundation's Process
/// would link all of Foundation into the CLI).
@Suite("Child processes", .timeLimit(.minutes(1)))
struct ChildProcessTests {
    func temporaryLog() -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("child-\(UUID().uuidString).log").path
    }

    /// Waits up to 10 s for the child to exit.
    func waitForExit(_ child: ChildProcess) async throws -> Int32? {
        let deadline = ContinuousClock.now + .seconds(10)
        while child.isRunning, ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(10))
        }
        return child.status
    }

    @Test func outputGoesToTheLogAndTheExitStatusIsReported() async throws {
        let log = self.temporaryLog()
        let reported = Reported()
        let child = try ChildProcess(executable: "/bin/sh", arguments: ["-c", "echo out; echo err >&2; exit 3"], logPath: log) { status in
            reported.set(status)
        }
        #expect(try await self.waitForExit(child) == 3)
        #expect(reported.value == 3)
        let text = try String(contentsOfFile: log, encoding: .utf8)
        #expect(text.contains("out\n") && text.contains("err\n"))
    }

    @Test func aSignalEndsTheChildWithStatus128PlusTheSignal() async throws {
        let child = try ChildProcess(executable: "/bin/sleep", arguments: ["30"], logPath: self.temporaryLog()) { _ in }
        #expect(child.isRunning)
        child.signal(SIGTERM)
        #expect(try await self.waitForExit(child) == 128 + SIGTERM)
    }

    @Test func aMissingExecutableIsAnErrorNamingIt() {
        #expect(throws: ChildProcessError.self) {
            _ = try ChildProcess(executable: "/nonexistent/concord-service", arguments: [], logPath: self.temporaryLog()) { _ in }
        }
    }

    @Test func newTokensAreBase64URLAndStoredAsTheirSHA256() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("tokens-\(UUID().uuidString)").path
        let token = try TokenFile.add(role: "reader", name: "test", path: path)
        #expect(token.hasPrefix("cc_") && token.count == 3 + 32)
        #expect(token.dropFirst(3).allSatisfy { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" })
        let line = try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n").last.map(String.init)
        let hash = SHA256.hash(data: Data(token.utf8)).map { String($0, radix: 16).count == 1 ? "0" + String($0, radix: 16) : String($0, radix: 16) }.joined()
        #expect(line == "reader test \(hash)")
    }
}

final class Reported: @unchecked Sendable {
    private let lock = NSLock()
    private var status: Int32?
    func set(_ status: Int32) { self.lock.withLock { self.status = status } }
    var value: Int32? { self.lock.withLock { self.status } }
}
