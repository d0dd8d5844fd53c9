import ConcordClient
import ConcordProtocol
import ConcordTestSupport
import Foundation
import NIOConcurrencyHelpers
#if canImport(Glibc)
import Glibc
#endif

/// The real `participants` executable, started as a child process on a free loopback port.
final class ParticipantsProcess: Sendable {
    let process: Process
    let port: Int
    let logPath: String

    /// The executable built beside the test bundle (`swift build --build-tests` builds both).
    static var executable: URL {
        get throws {
            let candidates = [
                URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent(),
                Bundle.main.bundleURL.deletingLastPathComponent(),
                Bundle.main.bundleURL,
            ].map { $0.appendingPathComponent("participants") }
            guard let found = candidates.first(where: { FileManager.default.isExecutableFile(atPath: $0.path) }) else {
                throw ProcessFailure("no participants executable next to the test bundle; looked at \(candidates.map(\.path))")
            }
            return found
        }
    }

    private init(process: Process, port: Int, logPath: String) {
        self.process = process
        self.port = port
        self.logPath = logPath
    }

    static func start(database: String, seeds: String? = nil) async throws -> ParticipantsProcess {
        let port = try freeLoopbackPort()
        let logPath = FileManager.default.temporaryDirectory.appendingPathComponent("participants-\(port)-\(UUID().uuidString.prefix(6)).log").path
        _ = FileManager.default.createFile(atPath: logPath, contents: nil)
        let log = try FileHandle(forWritingTo: URL(fileURLWithPath: logPath))
        let process = Process()
        process.executableURL = try Self.executable
        process.arguments = [
            "serve", "--host", "127.0.0.1", "--port", String(port), "--certs", TestCertificates.directory,
            "--database", database, "--log-level", "info",
        ] + (seeds.map { ["--seeds", $0] } ?? [])
        process.environment = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("CONCORD_") }
        process.standardOutput = log
        process.standardError = log
        try process.run()
        let child = ParticipantsProcess(process: process, port: port, logPath: logPath)
        try await child.waitUntilReady()
        return child
    }

    /// Polls `ready` until it answers, the process dies, or 60 s pass.
    private func waitUntilReady() async throws {
        let deadline = ContinuousClock.now + .seconds(60)
        while ContinuousClock.now < deadline {
            guard self.process.isRunning else {
                throw ProcessFailure("participants exited with \(self.process.terminationStatus) before it was ready:\n\(self.log)")
            }
            if let client = try? makeTestClient(port: self.port, defaultDeadline: .seconds(2)) {
                let answered = (try? await client.call("ready")) != nil
                await client.close()
                if answered { return }
            }
            try await Task.sleep(for: .milliseconds(50))
        }
        self.kill()
        throw ProcessFailure("participants was not ready within 60 s:\n\(self.log)")
    }

    func client() throws -> ConcordClient {
        try makeTestClient(port: self.port)
    }

    var log: String {
        (try? String(contentsOfFile: self.logPath, encoding: .utf8)) ?? "(no log)"
    }

    /// SIGKILL: no shutdown, no flush, no goodbye.
    func kill() {
        Glibc.kill(self.process.processIdentifier, SIGKILL)
        self.process.waitUntilExit()
    }

    /// SIGTERM, then wait for the graceful exit.
    func terminate() -> Int32 {
        self.process.terminate()
        self.process.waitUntilExit()
        return self.process.terminationStatus
    }
}

struct ProcessFailure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// A port nothing listens on right now (bound, read, released).
func freeLoopbackPort() throws -> Int {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { throw ProcessFailure("socket() failed") }
    defer { close(fd) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    address.sin_port = 0
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    let bound = withUnsafePointer(to: &address) { pointer in
        pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) }
    }
    guard bound == 0 else { throw ProcessFailure("bind() failed") }
    let named = withUnsafeMutablePointer(to: &address) { pointer in
        pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
    }
    guard named == 0 else { throw ProcessFailure("getsockname() failed") }
    return Int(UInt16(bigEndian: address.sin_port))
}
