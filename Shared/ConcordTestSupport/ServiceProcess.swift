import ConcordClient
import ConcordProtocol
import Foundation
import NIOConcurrencyHelpers
#if canImport(Glibc)
import Glibc
#endif

/// A service executable of this package (built beside the test bundle by
/// `swift build --build-tests`), run as a child process on a loopback address with the test
/// certificates, ready once it answers `ready`.
public final class ServiceProcess: Sendable {
    public let process: Process
    public let host: String
    public let port: Int
    public let logPath: String

    /// A test that throws before it ends its processes leaves none behind: a process still
    /// running when the test lets go of it is killed, by its own pid.
    deinit {
        if self.process.isRunning { Glibc.kill(self.process.processIdentifier, SIGKILL) }
    }

    /// The executable named `name` next to the test bundle.
    public static func executable(_ name: String) throws -> URL {
        let candidates = [
            URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent(),
            Bundle.main.bundleURL.deletingLastPathComponent(),
            Bundle.main.bundleURL,
        ].map { $0.appendingPathComponent(name) }
        guard let found = candidates.first(where: { FileManager.default.isExecutableFile(atPath: $0.path) }) else {
            throw ProcessFailure("no \(name) executable next to the test bundle; looked at \(candidates.map(\.path))")
        }
        return found
    }

    private init(process: Process, host: String, port: Int, logPath: String) {
        self.process = process
        self.host = host
        self.port = port
        self.logPath = logPath
    }

    /// Starts `executable` with `--host HOST --port PORT --certs (test certificates)` and
    /// `arguments`; `port` nil picks a free one.
    public static func start(
        _ executable: String, arguments: [String], host: String = "127.0.0.1", port: Int? = nil
    ) async throws -> ServiceProcess {
        let port = try port ?? freeLoopbackPort(host: host)
        let logPath = FileManager.default.temporaryDirectory.appendingPathComponent("\(executable)-\(port)-\(UUID().uuidString.prefix(6)).log").path
        _ = FileManager.default.createFile(atPath: logPath, contents: nil)
        let log = try FileHandle(forWritingTo: URL(fileURLWithPath: logPath))
        let process = Process()
        process.executableURL = try Self.executable(executable)
        process.arguments = arguments + ["--host", host, "--port", String(port), "--certs", TestCertificates.directory]
        process.environment = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("CONCORD_") }
        process.standardOutput = log
        process.standardError = log
        try process.run()
        let child = ServiceProcess(process: process, host: host, port: port, logPath: logPath)
        try await child.waitUntilReady()
        return child
    }

    /// Polls `ready` (a built-in, which any certificate may call) until it answers, the process
    /// dies, or 60 s pass.
    private func waitUntilReady() async throws {
        let deadline = ContinuousClock.now + .seconds(60)
        while ContinuousClock.now < deadline {
            guard self.process.isRunning else {
                throw ProcessFailure("\(self.process.executableURL?.lastPathComponent ?? "process") exited with \(self.process.terminationStatus) before it was ready:\n\(self.log)")
            }
            if let client = try? self.client(as: "client", defaultDeadline: .seconds(2)) {
                let answered = (try? await client.call("ready")) != nil
                await client.close()
                if answered { return }
            }
            try await Task.sleep(for: .milliseconds(50))
        }
        await self.kill()
        throw ProcessFailure("\(self.process.executableURL?.lastPathComponent ?? "process") was not ready within 60 s:\n\(self.log)")
    }

    /// A client presenting the test certificate named `identity`: by default the gateway's,
    /// the one peer a data service lets write; `client` (the operator's) may call only the
    /// protocol's built-ins.
    public func client(as identity: String = "gateway", defaultDeadline: Duration = .seconds(10)) throws -> ConcordClient {
        try ConcordClient(
            configuration: .init(
                host: self.host, port: self.port, tls: TestCertificates.identity(identity),
                // The test certificates carry the service's name; 127.0.0.2 and up are not in them.
                serverName: self.process.executableURL?.lastPathComponent,
                defaultDeadline: defaultDeadline
            )
        )
    }

    public var log: String {
        (try? String(contentsOfFile: self.logPath, encoding: .utf8)) ?? "(no log)"
    }

    /// SIGKILL: no shutdown, no flush, no goodbye.
    public func kill() async {
        Glibc.kill(self.process.processIdentifier, SIGKILL)
        await self.waitForExit()
    }

    /// SIGTERM, then wait for the graceful exit (SIGKILL after 30 s).
    @discardableResult
    public func terminate() async -> Int32 {
        self.process.terminate()
        await self.waitForExit(killAfter: .seconds(30))
        return self.process.terminationStatus
    }

    /// Polls rather than calling waitUntilExit, which runs a run loop and can block a
    /// cooperative thread for good.
    private func waitForExit(killAfter: Duration? = nil) async {
        let start = ContinuousClock.now
        while self.process.isRunning {
            if let killAfter, ContinuousClock.now - start > killAfter {
                Glibc.kill(self.process.processIdentifier, SIGKILL)
            }
            try? await Task.sleep(for: .milliseconds(10))
        }
    }
}

public struct ProcessFailure: Error, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}

/// A port nothing listens on right now on `host` (bound, read, released).
public func freeLoopbackPort(host: String = "127.0.0.1") throws -> Int {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { throw ProcessFailure("socket() failed") }
    defer { close(fd) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr(host)
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
