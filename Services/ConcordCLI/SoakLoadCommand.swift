import ArgumentParser
import ConcordClient
import ConcordOptions
import ConcordProtocol
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Histogram
import NIOConcurrencyHelpers
import NIOCore

/// `concord soak-load`: the mixed load of `scripts/soak`, and its proof that nothing acknowledged
/// was lost or doubled.
///
/// Many connections through the gateway: reads (an official, a session's follow-up, a growth
/// figure), action creates with idempotency keys, and an import of a whole series every few
/// seconds, also keyed. A write that fails for a reason that may pass (unavailable, deadline,
/// rate limit, internal) is sent again with the same key until it is acknowledged or a minute
/// has passed, as a careful client does. Every request is counted under the phase the soak
/// script has written to `--phase-file` at that moment (steady, or the fault under way), with its
/// latency and error code. At the end every acknowledged write is read back: each action must
/// be there at version 1, each imported series with all its months, each at one revision.
struct SoakLoadCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "soak-load",
        abstract: "The mixed load of scripts/soak through the gateway, then a check of every acknowledged write.",
        shouldDisplay: false
    )

    @OptionGroup var endpoint: EndpointOptions

    @Option(help: "Connections to the gateway, each its own client.")
    var connections: Int = 16

    @Option(help: "How long to send load, in seconds.")
    var seconds: Int

    @Option(help: "A file holding the name of the current phase; re-read every 200 ms.")
    var phaseFile: String

    @Option(help: "Directory for errors.tsv (errors by second, phase and code).")
    var out: String

    @Option(help: "A name unique to this run, in every key written.")
    var run: String

    @Option(help: "Seconds between series imports.")
    var importEvery: Double = 2

    func validate() throws {
        try OptionRules.positive(["--connections": self.connections, "--seconds": self.seconds])
        guard self.importEvery > 0, self.importEvery.isFinite else {
            throw ValidationError("--import-every must be a positive number of seconds, got \(self.importEvery)")
        }
    }

    func run() async throws {
        let phase = NIOLockedValueBox("steady")
        let stats = SoakStats()
        let started = ContinuousClock.now
        let stopAt = started + .seconds(self.seconds)
        let token = self.endpoint.resolvedToken
        let clients = try (0..<self.connections).map { _ in try self.endpoint.makeClient(defaultDeadline: .seconds(5)) }
        let phaseFile = self.phaseFile

        let watcher = Task {
            while !Task.isCancelled {
                if let text = try? String(contentsOfFile: phaseFile, encoding: .utf8) {
                    let name = text.split(whereSeparator: \.isNewline).first.map(String.init) ?? ""
                    if !name.isEmpty { phase.withLockedValue { $0 = name } }
                }
                try? await Task.sleep(for: .milliseconds(200))
            }
        }
        let context = SoakContext(phase: phase, stats: stats, started: started, token: token)
        await withTaskGroup(of: Void.self) { group in
            for (worker, client) in clients.enumerated() {
                group.addTask { await Self.work(worker: worker, client: client, until: stopAt, run: self.run, context: context) }
            }
            let importEvery = self.importEvery
            group.addTask {
                await Self.importSeries(client: clients[0], every: importEvery, until: stopAt, run: self.run, context: context)
            }
        }
        watcher.cancel()
        phase.withLockedValue { $0 = "verify" }

        let verdict = await Self.verify(clients: clients, context: context)
        for client in clients { await client.close() }
        try stats.report(to: self.out, verdict: verdict)
        if !verdict.passed {
            throw ExitCode(1)
        }
    }

    // MARK: Load

    static let reads: [(verb: String, body: String)] = [
        ("participants.officials.get", #"{"id":"mehdi-dousti"}"#),
        ("agreements.followup", #"{"session":6}"#),
        ("trade.growth", #"{"reporter":"RU","partner":"IR","from":"2025-01","to":"2025-09"}"#),
    ]

    static func work(worker: Int, client: ConcordClient, until stopAt: ContinuousClock.Instant, run: String, context: SoakContext) async {
        var generator = SystemRandomNumberGenerator()
        var serial = 0
        while ContinuousClock.now < stopAt {
            if Int.random(in: 0..<100, using: &generator) < 75 {
                let read = Self.reads[Int.random(in: 0..<Self.reads.count, using: &generator)]
                _ = await context.call(client, verb: read.verb, body: read.body)
            } else {
                serial += 1
                let id = "soak-\(run)-w\(worker)-\(serial)"
                let body = #"{"id":"\#(id)","title":"Soak write \#(serial) of connection \#(worker)","owner":{"region":"IR-01"},"status":"planned"}"#
                if await context.write(client, verb: "agreements.actions.create", body: body, key: id) {
                    context.stats.acknowledged(action: id)
                }
            }
        }
    }

    /// Partners of the imported series: a series is (RU, partner, flow, chapter), each imported once.
    static let partners = ["IR", "CN", "TR", "IN", "KZ", "BY", "AM", "AZ", "UZ", "TM", "KG", "TJ", "AE", "EG", "SA", "IQ", "SY", "PK", "AF", "GE"]
    static let months = (0..<100).map { index in
        let year = 2001 + index / 12, month = index % 12 + 1
        return "\(year)\(month < 10 ? "0" : "")\(month)" // as Comtrade writes a month: YYYYMM
    }

    static func seriesKey(_ index: Int) -> (partner: String, flow: String, commodity: String) {
        let chapter = (index / 40) % 97 + 1
        return (Self.partners[index % 20], (index / 20) % 2 == 0 ? "X" : "M", chapter < 10 ? "0\(chapter)" : "\(chapter)")
    }

    static func importSeries(client: ConcordClient, every: Double, until stopAt: ContinuousClock.Instant, run: String, context: SoakContext) async {
        var index = 0
        while ContinuousClock.now < stopAt {
            let series = Self.seriesKey(index)
            var body = ByteBuffer()
            let rows: [[TableBody.Cell]] = Self.months.enumerated().map { offset, month in
                [.text("RU"), .text(series.partner), .text(series.flow), .text(month), .text(series.commodity), .text("HS"),
                 .text("\(1000 + index * 100 + offset).5"), .text("soak \(run)"), .text("2025-06-01")]
            }
            TableBody.encode(
                columns: ["reporter", "partner", "flow", "period", "commodity", "classification", "primaryValue", "source", "published"],
                rows: rows, into: &body
            )
            if await context.write(client, verb: "trade.observations.import", body: String(buffer: body), key: "soak-\(run)-import-\(index)") {
                context.stats.acknowledged(series: index)
            }
            index += 1
            try? await Task.sleep(for: .milliseconds(Int(every * 1000)))
        }
    }

    // MARK: Verification

    struct Verdict {
        var actions = 0, missingActions: [String] = [], doubledActions: [String] = []
        var series = 0, incompleteSeries: [String] = []
        var steadyErrors = 0
        var passed: Bool { self.missingActions.isEmpty && self.doubledActions.isEmpty && self.incompleteSeries.isEmpty && self.steadyErrors == 0 }
    }

    static func verify(clients: [ConcordClient], context: SoakContext) async -> Verdict {
        let (actions, series) = context.stats.acknowledgedWrites()
        var verdict = Verdict(actions: actions.count, series: series.count)
        verdict.steadyErrors = context.stats.errors(inPhase: "steady")
        let found = NIOLockedValueBox(Verdict())
        await withTaskGroup(of: Void.self) { group in
            for (lane, client) in clients.enumerated() {
                group.addTask {
                    for id in actions.enumerated().filter({ $0.offset % clients.count == lane }).map(\.element) {
                        guard let answer = await context.settledRead(client, verb: "agreements.actions.get", body: #"{"id":"\#(id)"}"#) else {
                            found.withLockedValue { $0.missingActions.append(id) }
                            continue
                        }
                        if !answer.contains(#""version":1,"#) && !answer.contains(#""version":1}"#) {
                            found.withLockedValue { $0.doubledActions.append(id) }
                        }
                    }
                    for index in series.enumerated().filter({ $0.offset % clients.count == lane }).map(\.element) {
                        let key = Self.seriesKey(index)
                        let body = #"{"reporter":"RU","partner":"\#(key.partner)","flow":"\#(key.flow)","commodity":"\#(key.commodity)","from":"2001-01","to":"2009-04"}"#
                        let answer = await context.settledRead(client, verb: "trade.series", body: body) ?? ""
                        let points = answer.occurrences(of: #""period":"#)
                        let once = answer.occurrences(of: #""revisions":1,"#)
                        if points != Self.months.count || once != Self.months.count {
                            found.withLockedValue { $0.incompleteSeries.append("RU-\(key.partner)-\(key.flow)-\(key.commodity): \(points) months, \(once) at one revision") }
                        }
                    }
                }
            }
        }
        let results = found.withLockedValue { $0 }
        verdict.missingActions = results.missingActions
        verdict.doubledActions = results.doubledActions
        verdict.incompleteSeries = results.incompleteSeries
        return verdict
    }
}

/// What every load task shares: the phase, the counters, the token.
struct SoakContext: Sendable {
    let phase: NIOLockedValueBox<String>
    let stats: SoakStats
    let started: ContinuousClock.Instant
    let token: String?

    /// One request, counted under the current phase.
    func call(_ client: ConcordClient, verb: String, body: String, key: String? = nil) async -> Result<String, ConcordError> {
        let phase = self.phase.withLockedValue { $0 }
        let metadata = Metadata(deadlineMilliseconds: 5000, idempotencyKey: key, auth: self.token)
        let start = ContinuousClock.now
        do {
            let answer = try await client.call(verb, body: ByteBuffer(string: body), metadata: metadata)
            self.stats.record(phase: phase, latency: ContinuousClock.now - start, error: nil, second: self.second(start))
            return .success(String(buffer: answer))
        } catch {
            let (latency, second) = (ContinuousClock.now - start, self.second(start))
            self.stats.record(phase: phase, latency: latency, error: error.code.description, second: second)
            self.stats.example(of: error, verb: verb, phase: phase, second: second, latency: latency)
            return .failure(error)
        }
    }

    init(phase: NIOLockedValueBox<String>, stats: SoakStats, started: ContinuousClock.Instant, token: String?) {
        self.phase = phase
        self.stats = stats
        self.started = started
        self.token = token
    }

    private func second(_ instant: ContinuousClock.Instant) -> Int {
        Int((instant - self.started).components.seconds)
    }

    /// A write, sent again with the same idempotency key while it fails for a reason that may pass,
    /// for up to a minute. True once acknowledged.
    func write(_ client: ConcordClient, verb: String, body: String, key: String) async -> Bool {
        let giveUp = ContinuousClock.now + .seconds(60)
        while ContinuousClock.now < giveUp {
            guard case .failure(let error) = await self.call(client, verb: verb, body: body, key: key) else { return true }
            guard [.unavailable, .deadlineExceeded, .rateLimited, .internal].contains(error.code) else {
                self.stats.unresolved(key, reason: "\(error)")
                return false
            }
            try? await Task.sleep(for: .milliseconds(250))
        }
        self.stats.unresolved(key, reason: "not acknowledged within a minute")
        return false
    }

    /// A read during verification, asked again while the system is settling (not counted).
    func settledRead(_ client: ConcordClient, verb: String, body: String) async -> String? {
        let metadata = Metadata(deadlineMilliseconds: 10_000, auth: self.token)
        for _ in 0..<20 {
            do {
                return String(buffer: try await client.call(verb, body: ByteBuffer(string: body), metadata: metadata))
            } catch where error.code == .notFound {
                return nil
            } catch {
                try? await Task.sleep(for: .milliseconds(500))
            }
        }
        return nil
    }
}

/// Counters per phase, errors per second, and the acknowledged writes.
final class SoakStats: Sendable {
    private struct PhaseStats {
        var histogram = Histogram<UInt64>(highestTrackableValue: 120_000_000, numberOfSignificantValueDigits: .three)
        var requests = 0
        var errors: [String: Int] = [:]
        var firstSeen: Int
    }

    private struct State {
        var phases: [String: PhaseStats] = [:]
        var order: [String] = []
        var errorsBySecond: [Int: [String: Int]] = [:]
        var phaseBySecond: [Int: String] = [:]
        var actions: [String] = []
        var series: [Int] = []
        var unresolved: [String: String] = [:]
        /// The first error of each code in each phase, with its verb, second and wait: what the
        /// counts are made of (a wait of about 2 s is a store's lease running out).
        var examples: [String: String] = [:]
    }

    private let state = NIOLockedValueBox(State())

    func record(phase: String, latency: Duration, error: String?, second: Int) {
        let micros = UInt64(max(0, latency.components.seconds * 1_000_000 + latency.components.attoseconds / 1_000_000_000_000))
        self.state.withLockedValue { state in
            if state.phases[phase] == nil {
                state.phases[phase] = PhaseStats(firstSeen: second)
                state.order.append(phase)
            }
            state.phases[phase]!.requests += 1
            state.phases[phase]!.histogram.record(micros)
            if let error {
                state.phases[phase]!.errors[error, default: 0] += 1
                state.errorsBySecond[second, default: [:]][error, default: 0] += 1
                state.phaseBySecond[second] = phase
            }
        }
    }

    func example(of error: ConcordError, verb: String, phase: String, second: Int, latency: Duration) {
        let key = "\(error.code) in \(phase)"
        self.state.withLockedValue { state in
            if state.examples[key] == nil {
                state.examples[key] = "at \(second) s, after \(latency.wholeMilliseconds) ms: \(verb): \(error.message)"
            }
        }
    }

    func acknowledged(action id: String) { self.state.withLockedValue { $0.actions.append(id) } }
    func acknowledged(series index: Int) { self.state.withLockedValue { $0.series.append(index) } }
    func unresolved(_ key: String, reason: String) { self.state.withLockedValue { $0.unresolved[key] = reason } }
    func acknowledgedWrites() -> ([String], [Int]) { self.state.withLockedValue { ($0.actions, $0.series) } }
    func errors(inPhase phase: String) -> Int {
        self.state.withLockedValue { $0.phases[phase]?.errors.values.reduce(0, +) ?? 0 }
    }

    func report(to directory: String, verdict: SoakLoadCommand.Verdict) throws {
        let state = self.state.withLockedValue { $0 }
        var lines = ["phase             requests      p50 ms      p99 ms  errors"]
        var total = 0
        for name in state.order {
            guard let phase = state.phases[name] else { continue }
            total += phase.requests
            let errors = phase.errors.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")
            lines.append(
                name.rightPadded(16)
                    + String(phase.requests).leftPadded(10)
                    + String(format3(Double(phase.histogram.valueAtPercentile(50)) / 1000)).leftPadded(12)
                    + String(format3(Double(phase.histogram.valueAtPercentile(99)) / 1000)).leftPadded(12)
                    + "  " + (errors.isEmpty ? "none" : errors)
            )
        }
        lines.append("requests: \(total)")
        for (code, example) in state.examples.sorted(by: { $0.key < $1.key }) {
            lines.append("first \(code): \(example.prefix(240))")
        }
        lines.append("acknowledged writes: \(verdict.actions) action creates, \(verdict.series) series imports of \(SoakLoadCommand.months.count) months")
        lines.append("writes never acknowledged (given up, so not required to exist): \(state.unresolved.count)")
        lines.append("acknowledged but missing: \(verdict.missingActions.count + verdict.incompleteSeries.count); doubled: \(verdict.doubledActions.count)")
        for problem in (verdict.missingActions.prefix(5) + verdict.incompleteSeries.prefix(5) + verdict.doubledActions.prefix(5)) {
            lines.append("  \(problem)")
        }
        lines.append("errors outside faults (phase steady): \(verdict.steadyErrors)")
        lines.append(verdict.passed ? "soak-load: passed" : "soak-load: FAILED")
        print(lines.joined(separator: "\n"))

        var tsv = "second\tphase\tcode\tcount\n"
        for second in state.errorsBySecond.keys.sorted() {
            for (code, count) in state.errorsBySecond[second]!.sorted(by: { $0.key < $1.key }) {
                tsv += "\(second)\t\(state.phaseBySecond[second] ?? "?")\t\(code)\t\(count)\n"
            }
        }
        try Data(tsv.utf8).write(to: URL(fileURLWithPath: directory).appendingPathComponent("errors.tsv"))
    }
}

private func format3(_ value: Double) -> String {
    let rounded = (value * 1000).rounded() / 1000
    let whole = Int(rounded)
    let fraction = Int(((rounded - Double(whole)) * 1000).rounded())
    return "\(whole).\(String(repeating: "0", count: 3 - String(fraction).count))\(fraction)"
}

extension String {
    fileprivate func leftPadded(_ width: Int) -> String {
        self.count >= width ? self : String(repeating: " ", count: width - self.count) + self
    }

    fileprivate func rightPadded(_ width: Int) -> String {
        self.count >= width ? self : self + String(repeating: " ", count: width - self.count)
    }

    /// How often `needle` occurs, not overlapping.
    fileprivate func occurrences(of needle: String) -> Int {
        let haystack = Array(self.utf8), pattern = Array(needle.utf8)
        guard !pattern.isEmpty, haystack.count >= pattern.count else { return 0 }
        var count = 0, index = 0
        while index <= haystack.count - pattern.count {
            if haystack[index..<(index + pattern.count)].elementsEqual(pattern) {
                count += 1
                index += pattern.count
            } else {
                index += 1
            }
        }
        return count
    }
}
