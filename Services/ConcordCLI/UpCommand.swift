import ArgumentParser
import ConcordClient
import ConcordProtocol
import ConcordTLS
import ConcordUsers
import Dispatch
import Synchronization
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

/// Runs the whole system on this machine: every service as its own process on loopback.
struct UpCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "up",
        abstract: "Start Concord on loopback with embedded defaults; Ctrl-C stops it.",
        discussion: "Creates certificates under HOME/certs if there are none, starts each service as a separate process, waits until each answers 'ready', and prints where to call."
    )

    @Option(help: "Where certificates, data and logs live.")
    var home: String = ProcessInfo.processInfo.environment["CONCORD_HOME"] ?? ".concord"

    @Option(help: "Gateway port.")
    var port: Int = 7400

    @Option(help: "Participants service port (loopback; callers use the gateway).")
    var participantsPort: Int = 7401

    @Option(help: "Agreements service port (loopback; callers use the gateway).")
    var agreementsPort: Int = 7402

    @Option(help: "Trade-metrics service port (loopback; callers use the gateway, at trade.*).")
    var tradePort: Int = 7403

    @Option(help: "Seed files for the participants store, loaded when it is empty (default: seeds/participants, looked for here and beside the executable).")
    var seeds: String?

    @Option(help: "First of four plain-HTTP ports for Prometheus metrics on 127.0.0.1 (gateway, participants, agreements, trade-metrics, in that order); 0 turns metrics off.")
    var metricsPort: Int = 9460

    @Option(help: "Console port (HTTPS, for browsers); 0 starts no console.")
    var consolePort: Int = 7443

    @Option(help: "Seconds to wait for every service to be ready.")
    var readyTimeout: Int = 60

    func run() async throws {
        let home = URL(fileURLWithPath: self.home)
        let certs = home.appendingPathComponent("certs")
        let logs = home.appendingPathComponent("logs")
        try FileManager.default.createDirectory(at: logs, withIntermediateDirectories: true)
        if !FileManager.default.fileExists(atPath: certs.appendingPathComponent("ca.pem").path) {
            try CertificateAuthority.initialize(directory: certs)
            say("created a private CA and certificates in \(certs.path)")
        } else {
            let upgraded = try CertificateAuthority.upgradeLeaves(in: certs)
            if !upgraded.isEmpty {
                say("re-issued \(upgraded.joined(separator: ", ")) with certificate identities (services now authorise by identity)")
            }
        }

        // Tokens for the gateway, and a client config so `concord call` works without flags.
        let tokens = home.appendingPathComponent("tokens")
        let clientConfig = home.appendingPathComponent("client.json")
        if !FileManager.default.fileExists(atPath: clientConfig.path) || !FileManager.default.fileExists(atPath: tokens.path) {
            let token = try TokenFile.add(role: "admin", name: "operator", path: tokens.path)
            try ClientConfigFile(host: "127.0.0.1", port: self.port, certs: certs.path, token: token).write(clientConfig.path)
            say("created an admin token for this machine's operator in \(clientConfig.path) (add more: concord tokens add)")
        }
        // The console: its certificate, its own gateway token, and a first person to sign in.
        let users = home.appendingPathComponent("users")
        let consoleToken = home.appendingPathComponent("console-token")
        let operatorPassword = home.appendingPathComponent("operator-password")
        if self.consolePort != 0 {
            if !FileManager.default.fileExists(atPath: certs.appendingPathComponent("console.pem").path) {
                try CertificateAuthority.load(from: certs).issue(name: "console").write(to: certs)
            }
            if !FileManager.default.fileExists(atPath: consoleToken.path) {
                let token = try TokenFile.add(role: "admin", name: "console", path: tokens.path)
                try Self.writePrivate(token + "\n", to: consoleToken)
            }
            if try !UsersFile.read(users.path).contains(where: { $0.name == "operator" }) {
                let password = UsersFile.generatePassword()
                try UsersFile.add(name: "operator", role: "admin", password: password, path: users.path)
                try Self.writePrivate(password + "\n", to: operatorPassword)
                say("created the console user operator (admin); its password is in \(operatorPassword.path)")
            }
        }
        let data = home.appendingPathComponent("data")
        // Participants asks agreements and trade-metrics before deleting a record they may name.
        var participants = [
            "--port", "\(self.participantsPort)", "--certs", certs.path,
            "--database", "sqlite:" + data.appendingPathComponent("participants.sqlite").path,
            "--peer", "agreements=127.0.0.1:\(self.agreementsPort)", "--peer", "trade=127.0.0.1:\(self.tradePort)",
        ]
        if let seeds = self.seeds ?? Self.defaultSeeds(for: "participants") {
            participants += ["--seeds", seeds]
        } else {
            say("no seeds/participants directory found; the participants store starts empty (pass --seeds DIR)")
        }
        // Agreements checks the records it names in participants, as the agreements identity.
        var agreements = [
            "--port", "\(self.agreementsPort)", "--certs", certs.path,
            "--database", "sqlite:" + data.appendingPathComponent("agreements.sqlite").path,
            "--peer", "participants=127.0.0.1:\(self.participantsPort)",
        ]
        if let seeds = Self.defaultSeeds(for: "agreements") {
            agreements += ["--seeds", seeds]
        }
        var trade = [
            "--port", "\(self.tradePort)", "--certs", certs.path,
            "--database", "sqlite:" + data.appendingPathComponent("trade-metrics.sqlite").path,
            "--peer", "participants=127.0.0.1:\(self.participantsPort)",
        ]
        if let seeds = Self.defaultSeeds(for: "trade-metrics") {
            trade += ["--seeds", seeds]
        }
        // Each process serves its metrics on a port of its own.
        let names = ["gateway", "participants", "agreements", "trade-metrics"]
        let metrics: [String: String] = self.metricsPort == 0 ? [:] : Dictionary(
            uniqueKeysWithValues: names.enumerated().map { ($1, "127.0.0.1:\(self.metricsPort + $0)") }
        )
        participants += metrics["participants"].map { ["--metrics", $0] } ?? []
        agreements += metrics["agreements"].map { ["--metrics", $0] } ?? []
        trade += metrics["trade-metrics"].map { ["--metrics", $0] } ?? []
        // Services first, the gateway last: it is stopped first, before the services behind it.
        var children = [
            Child(name: "participants", port: self.participantsPort, arguments: participants),
            Child(name: "agreements", port: self.agreementsPort, arguments: agreements),
            Child(name: "trade-metrics", port: self.tradePort, arguments: trade),
            Child(name: "gateway", port: self.port, arguments: [
                "--port", "\(self.port)", "--certs", certs.path, "--tokens", tokens.path,
                "--route", "participants=127.0.0.1:\(self.participantsPort)",
                "--route", "agreements=127.0.0.1:\(self.agreementsPort)",
                "--route", "trade=127.0.0.1:\(self.tradePort)",
            ] + (metrics["gateway"].map { ["--metrics", $0] } ?? [])),
        ]
        if self.consolePort != 0 {
            // Last: it calls the gateway, and is stopped first.
            children.append(Child(name: "console", port: self.consolePort, arguments: [
                "--port", "\(self.consolePort)", "--certs", certs.path, "--gateway", "127.0.0.1:\(self.port)",
                "--token-file", consoleToken.path, "--users", users.path,
                "--secret", home.appendingPathComponent("console-secret").path,
            ], speaksHTTP: true))
        }
        let supervisor = Supervisor(logs: logs)
        let signals = SignalWatcher()
        do {
            for child in children {
                try supervisor.start(child)
            }
            for child in children {
                try await self.waitUntilReady(child, certs: certs.path, supervisor: supervisor)
            }
        } catch {
            await supervisor.stopAll()
            throw error
        }

        // The person who ran `up` is the operator: the password made for them is shown here, as
        // well as kept in its file (mode 0600), so the console can be opened at once.
        let password = (try? String(contentsOf: operatorPassword, encoding: .utf8))?.filter { !$0.isWhitespace }
        let signIn = password.map { "sign in as operator, password \($0) (kept in \(operatorPassword.path))" }
            ?? "sign in as operator; the password is in \(operatorPassword.path)"
        say("""

        Concord is up. Gateway: 127.0.0.1:\(self.port) (TLS, ALPN \(ConcordProtocolVersion.alpn))
        \(self.consolePort == 0 ? "Console: off (--console-port 0)" : "Console: https://127.0.0.1:\(self.consolePort) (\(signIn); the certificate is from \(certs.path)/ca.pem)")
        Logs: \(logs.path)/<service>.log
        \(metrics.isEmpty ? "Metrics: off (--metrics-port 0)" : "Metrics (Prometheus, plain HTTP):\n" + names.map { "  \($0): http://\(metrics[$0]!)/metrics" }.joined(separator: "\n"))

        Call it (address, certificates and token come from \(clientConfig.path)):
          concord attendees 6
          concord followup 6
          concord actions --overdue
          concord trade growth --reporter RU --partner IR --from 2025-01 --to 2025-09
          concord call participants.regions.list '{"country":"IR"}'
          openssl s_client -connect 127.0.0.1:\(self.port) -alpn \(ConcordProtocolVersion.alpn) -CAfile \(certs.path)/ca.pem \\
              -cert \(certs.path)/client.pem -key \(certs.path)/client-key.pem -quiet
          then type:  1 ping

        Ctrl-C stops everything.
        """)

        let reason = await supervisor.waitForExitOr(signals)
        say("\nstopping (\(reason))")
        await supervisor.stopAll()
        say("stopped")
        if reason.hasPrefix("service") { throw ExitCode(1) }
    }

    /// `seeds/NAME` in the working directory, or in the checkout the executable was built in
    /// (`.build/release/concord` sits two levels below it).
    static func defaultSeeds(for service: String) -> String? {
        let roots = [
            URL(fileURLWithPath: FileManager.default.currentDirectoryPath),
            Supervisor.executableDirectory.deletingLastPathComponent().deletingLastPathComponent(),
            Supervisor.executableDirectory.deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent(),
        ]
        return roots.map { $0.appendingPathComponent("seeds/\(service)").path }
            .first { FileManager.default.fileExists(atPath: $0) }
    }

    /// Writes `text` to `url`, readable by its owner only.
    static func writePrivate(_ text: String, to url: URL) throws {
        guard FileManager.default.createFile(atPath: url.path, contents: Data(text.utf8), attributes: [.posixPermissions: 0o600]) else {
            throw ValidationError("cannot write \(url.path)")
        }
    }

    /// Whether something accepts TCP connections on 127.0.0.1:`port`.
    static func accepts(port: Int) -> Bool {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard descriptor >= 0 else { return false }
        defer { close(descriptor) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 }
        }
    }

    private func waitUntilReady(_ child: Child, certs: String, supervisor: Supervisor) async throws {
        if child.speaksHTTP {
            let deadline = ContinuousClock.now + .seconds(self.readyTimeout)
            while ContinuousClock.now < deadline {
                if let status = supervisor.exitStatus(of: child.name) {
                    throw ValidationError("\(child.name) exited with status \(status) before it was ready; see \(supervisor.logPath(child.name))")
                }
                if Self.accepts(port: child.port) {
                    say("\(child.name) ready on https://127.0.0.1:\(child.port)")
                    return
                }
                try await Task.sleep(for: .milliseconds(200))
            }
            throw ValidationError("\(child.name) not listening after \(self.readyTimeout) s; see \(supervisor.logPath(child.name))")
        }
        let client = try ConcordClient(
            configuration: .init(host: "127.0.0.1", port: child.port, tls: TLSIdentity.standard(directory: certs, name: "client"), connectTimeout: .seconds(1), defaultDeadline: .seconds(2))
        )
        defer { Task { await client.close() } }
        let deadline = ContinuousClock.now + .seconds(self.readyTimeout)
        var lastError = "no answer"
        while ContinuousClock.now < deadline {
            if let status = supervisor.exitStatus(of: child.name) {
                throw ValidationError("\(child.name) exited with status \(status) before it was ready; see \(supervisor.logPath(child.name))")
            }
            do {
                _ = try await client.call("ready")
                say("\(child.name) ready on 127.0.0.1:\(child.port)")
                return
            } catch {
                lastError = "\(error)"
                try await Task.sleep(for: .milliseconds(200))
            }
        }
        throw ValidationError("\(child.name) not ready after \(self.readyTimeout) s (\(lastError)); see \(supervisor.logPath(child.name))")
    }
}

struct Child: Sendable {
    var name: String
    var port: Int
    var arguments: [String]
    /// Answers HTTP, not the line protocol: ready once it accepts connections.
    var speaksHTTP = false
}

/// Starts child processes next to this executable and stops them with SIGTERM.
final class Supervisor: Sendable {
    private let logs: URL
    private struct State {
        /// In start order; stopped in reverse, so the gateway goes before the services behind it.
        var processes: [(name: String, process: ChildProcess)] = []
        var exits: [String: Int32] = [:]
        var exitWaiters: [@Sendable (String) -> Void] = []
    }
    private let state = Mutex(State())

    init(logs: URL) {
        self.logs = logs
    }

    func logPath(_ name: String) -> String { self.logs.appendingPathComponent("\(name).log").path }

    func start(_ child: Child) throws {
        let binary = Self.executableDirectory.appendingPathComponent(child.name)
        guard FileManager.default.isExecutableFile(atPath: binary.path) else {
            throw ValidationError("cannot find the \(child.name) executable at \(binary.path); build everything with scripts/build-release")
        }
        let process: ChildProcess
        do {
            process = try ChildProcess(executable: binary.path, arguments: child.arguments, logPath: self.logPath(child.name)) { [weak self] status in
                self?.exited(child.name, status: status)
            }
        } catch {
            throw ValidationError(error.description)
        }
        self.state.withLock { $0.processes.append((child.name, process)) }
    }

    func exitStatus(of name: String) -> Int32? {
        self.state.withLock { $0.exits[name] }
    }

    private func exited(_ name: String, status: Int32) {
        let waiters = self.state.withLock { state -> [@Sendable (String) -> Void] in
            state.exits[name] = status
            defer { state.exitWaiters.removeAll() }
            return state.exitWaiters
        }
        for waiter in waiters { waiter("service \(name) exited with status \(status)") }
    }

    /// Waits for a stop signal or for any child to exit on its own.
    func waitForExitOr(_ signals: SignalWatcher) async -> String {
        await withCheckedContinuation { continuation in
            let resumed = Mutex(false)
            let resumeOnce: @Sendable (String) -> Void = { reason in
                let first = resumed.withLock { done -> Bool in
                    defer { done = true }
                    return !done
                }
                if first { continuation.resume(returning: reason) }
            }
            signals.onSignal { resumeOnce("received \($0)") }
            let alreadyExited = self.state.withLock { state -> String? in
                if let (name, status) = state.exits.first { return "service \(name) exited with status \(status)" }
                state.exitWaiters.append(resumeOnce)
                return nil
            }
            if let alreadyExited { resumeOnce(alreadyExited) }
        }
    }

    /// SIGTERM to each child in reverse start order, waiting for each to drain; SIGKILL after 15 s.
    func stopAll() async {
        let children = self.state.withLock { $0.processes }
        for (name, process) in children.reversed() where process.isRunning {
            process.signal(SIGTERM)
            let deadline = ContinuousClock.now + .seconds(15)
            while process.isRunning, ContinuousClock.now < deadline {
                try? await Task.sleep(for: .milliseconds(50))
            }
            if process.isRunning {
                say("\(name) did not stop within 15 s; killing it")
                process.signal(SIGKILL)
            }
        }
    }

    /// The directory of this executable, symbolic links resolved.
    static var executableDirectory: URL {
        #if os(Linux)
        if let path = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") {
            return URL(fileURLWithPath: path).deletingLastPathComponent()
        }
        #endif
        let path = URL(fileURLWithPath: CommandLine.arguments[0], relativeTo: URL(fileURLWithPath: FileManager.default.currentDirectoryPath))
        return path.resolvingSymlinksInPath().deletingLastPathComponent()
    }
}

/// Turns SIGINT, SIGTERM and SIGHUP into a callback instead of killing the process. SIGHUP is the
/// terminal closing: without it `up` would die and leave its children running, since each takes
/// SIGHUP as "read your certificates again", not as an end.
final class SignalWatcher: @unchecked Sendable {
    private var sources: [any DispatchSourceSignal] = []

    init() {
        for signalNumber in [SIGINT, SIGTERM, SIGHUP] {
            signal(signalNumber, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: signalNumber, queue: .global())
            // Active from the start: libdispatch traps when a source that was never resumed is
            // released (as it was when a child failed to start before anyone waited for a signal).
            source.resume()
            self.sources.append(source)
        }
    }

    func onSignal(_ handler: @escaping @Sendable (String) -> Void) {
        for (source, name) in zip(self.sources, ["SIGINT", "SIGTERM", "SIGHUP"]) {
            source.setEventHandler { handler(name) }
        }
    }

    deinit {
        for source in self.sources { source.cancel() }
    }
}
