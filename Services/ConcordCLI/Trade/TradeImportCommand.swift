import ArgumentParser
import ConcordClient
import ConcordComtrade
import ConcordProtocol
#if canImport(Glibc)
import Glibc
#endif
import NIOCore
import ConcordWire
import ConcordWords

/// `concord trade import FILE.csv[.gz]`: UN Comtrade's CSV into trade-metrics, through the
/// gateway. The whole file is checked first; a file with bad rows imports nothing unless
/// `--skip-invalid`. Then it is sent in batches, each all or nothing and idempotent by row, so
/// an interrupted import run again duplicates nothing.
struct TradeImportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import",
        abstract: "Import a Comtrade bulk or API CSV (or .csv.gz) into trade-metrics.",
        discussion: """
            Columns are read by name (refYear, refMonth, period, freqCode, reporterCode/reporterISO, partnerCode/partnerISO, \
            partner2Code, flowCode, classificationCode, cmdCode, customsCode, motCode, primaryValue, cifvalue, fobvalue, netWgt, \
            qty, qtyUnitAbbr, isEstimated, synthetic). Only rows with partner2 = world, mode of transport = all and customs \
            procedure = all are kept (unless --keep-breakdowns): the breakdowns repeat the same trade.
            """
    )

    @OptionGroup var endpoint: EndpointOptions
    @Argument(help: "The CSV file, or .csv.gz.")
    var file: String
    @Option(help: "Who published the figures (default: UN Comtrade).")
    var source: String = "UN Comtrade"
    @Option(help: "The day the source published them, YYYY-MM-DD: revisions are told apart by it.")
    var published: String
    @Flag(help: "Import the valid rows of a file with bad rows, and list the rows skipped.")
    var skipInvalid = false
    @Flag(help: "Keep rows broken down by second partner, mode of transport or customs procedure.")
    var keepBreakdowns = false
    @Option(help: "Rows per request (at most 10000).")
    var batch: Int = 10_000
    @Option(help: "The file's text encoding when it is not UTF-8: windows-1251, iso-8859-1, utf-16, or any iconv knows. A UTF-16 file with its byte order mark is read as such without it.")
    var encoding: String?
    @OptionGroup var language: LanguageOptions

    func validate() throws {
        guard (1...10_000).contains(self.batch) else {
            throw UsageErrors.refusal("--batch must be from 1 to 10000", option: "--batch", rule: .range(low: "1", high: "10000", got: "\(self.batch)"))
        }
        if let encoding = self.encoding {
            do {
                _ = try Transcoder(from: encoding)
            } catch {
                throw ValidationError("--encoding: \(error)")
            }
        }
        guard UsageErrors.isDay(self.published) else {
            throw UsageErrors.refusal(
                "--published must be a day, YYYY-MM-DD: when the source published the figures", option: "--published", rule: .form(.day, got: self.published)
            )
        }
    }

    struct Problem {
        var line: Int
        var column: String
        var reason: String
        /// What the row broke, for saying it in the reader's language.
        var rule: Rule?
    }

    func run() async throws {
        let interactive = isatty(STDERR_FILENO) == 1
        let words = self.language.words
        // 1. Check every row; import nothing from a file with bad rows.
        let (valid, breakdowns, problems) = try await self.checkEveryRow()
        complain(words(.cliImportChecked, self.file, words.integer(valid), words.integer(breakdowns), words.integer(problems.count)))
        if !problems.isEmpty {
            for problem in problems.prefix(50) {
                // The column is named as the file does; the reason from its rule, where it has one.
                let reason = problem.rule.map { words.said($0, field: problem.column, message: problem.reason, isolate: { $0 }) } ?? problem.reason
                complain(words(.cliImportBadRow, words.integer(problem.line), problem.column, reason))
            }
            if problems.count > 50 { complain(words(.cliImportMoreBad, words.integer(problems.count - 50))) }
            guard self.skipInvalid else {
                complain(words(.cliImportNothing))
                throw ExitCode(2)
            }
        }
        // 2. Send them in batches, up to four at a time: the service writes one while the next ones are read
        // and sent. Each batch is all or nothing and idempotent, so the order they commit in
        // does not matter, and a run stopped half-way is run again to finish.
        let client = try self.endpoint.makeClient()
        let progress = Progress(total: valid, interactive: interactive)
        let metadata = Metadata(deadlineMilliseconds: 120_000, auth: self.endpoint.resolvedToken)
        var created = 0
        var present = 0
        var inFlight: [(rows: Int, task: Task<ByteBuffer, any Error>)] = []
        func settle(keeping: Int) async throws {
            while inFlight.count > keeping {
                let (count, task) = inFlight.removeFirst()
                let answer: ByteBuffer
                do {
                    answer = try await task.value
                } catch {
                    for other in inFlight { _ = try? await other.task.value }
                    await client.close()
                    progress.finish()
                    let failure = error as? ConcordError ?? ConcordError(.unavailable, "\(error)")
                    complain(errorLine(failure, words: words))
                    complain(words(.cliImportResume, words.integer(created + present)))
                    throw ExitCode(2)
                }
                let outcome = try JSONBody.decode(ImportOutcome.self, from: answer)
                created += outcome.created
                present += outcome.present
                progress.advance(by: count)
            }
        }
        // Streamed: at most a few batches and one chunk of the file are held at a time. A batch
        // is bounded in bytes too (ImportBatches).
        func send(_ batch: (body: ByteBuffer, rows: Int)?) async throws {
            guard let (request, rows) = batch else { return }
            inFlight.append((rows, Task { try await client.call("trade.observations.import", body: request, metadata: metadata) }))
            try await settle(keeping: 3)
        }
        var batches = ImportBatches(rowsPerBatch: self.batch)
        try await self.readRows { _, outcome in
            guard case .success(.observation(let row)) = outcome else { return }
            try await send(batches.add(row))
        }
        try await send(batches.finish())
        try await settle(keeping: 0)
        await client.close()
        progress.finish()
        print(words(.cliImportDone, words.integer(created), words.integer(present), words.integer(valid)))
        if self.skipInvalid, !problems.isEmpty {
            print(words(.cliImportSkipped, words.integer(problems.count), problems.map { words.integer($0.line) }.joined(separator: ", ")))
        }
    }

    /// The first pass: how many rows are observations and breakdowns, and the bad ones. A large
    /// plain UTF-8 file is read on both cores (`CheckPass`); any other by one reader.
    private func checkEveryRow() async throws -> (valid: Int, breakdowns: Int, problems: [Problem]) {
        if self.encoding == nil, !self.file.hasSuffix(".gz"), let (columns, header, bodyStart, bodyLine, size) = self.plainHeader(),
           size - bodyStart > CheckPass.splitAbove {
            let pass = CheckPass(path: self.file, columns: columns, source: self.source, published: self.published, keepBreakdowns: self.keepBreakdowns)
            do {
                let tally = try await pass.run(bodyStart: bodyStart, bodyLine: bodyLine, size: size)
                return (tally.valid, tally.breakdowns, tally.problems.map { Problem(line: $0.line, column: $0.problem.column, reason: $0.problem.reason, rule: $0.problem.rule) })
            } catch .csv(let failure) {
                throw self.refusal(failure, header: header, transcoded: false)
            } catch .io(let message) {
                throw ValidationError(message)
            }
        }
        var problems: [Problem] = []
        var valid = 0
        var breakdowns = 0
        try await self.readRows { line, outcome in
            switch outcome {
            case .success(.observation): valid += 1
            case .success(.breakdown): breakdowns += 1
            case .failure(let problem): problems.append(Problem(line: line, column: problem.column, reason: problem.reason, rule: problem.rule))
            }
        }
        return (valid, breakdowns, problems)
    }

    /// The header of a plain file (UTF-8, no other byte order mark), when it is one line: its
    /// columns and names, where the rows begin and on which line, and the file's size. Nil for any other
    /// file, which `readRows` reads (and refuses with the reason, if it must).
    private func plainHeader() -> (ComtradeColumns, [String], Int, Int, Int)? {
        let descriptor = open(self.file, O_RDONLY)
        guard descriptor >= 0 else { return nil }
        defer { close(descriptor) }
        var status = stat()
        guard fstat(descriptor, &status) == 0 else { return nil }
        var head = [UInt8](repeating: 0, count: 1 << 16)
        let count = head.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
        guard count > 0, Transcoder.encoding(ofMark: head[0..<count]) == nil,
              let end = head[0..<count].firstIndex(of: UInt8(ascii: "\n")) else { return nil }
        var reader = CSVReader()
        var records: [CSVReader.Record] = []
        guard (try? reader.feed(head[0...end], emit: { records.append($0) })) != nil, records.count == 1, reader.atRecordBoundary,
              let columns = try? ComtradeColumns(header: records[0].fields) else { return nil }
        return (columns, records[0].fields, end + 1, reader.nextLine, Int(status.st_size))
    }

    /// A file the CSV reader cannot read, refused with the line, the column by number and name,
    /// and, for bytes that are not UTF-8 in a file read as such, the flag that reads another
    /// encoding.
    private func refusal(_ failure: CSVReader.Failure, header: [String], transcoded: Bool) -> any Error {
        var place = "line \(failure.line)"
        let name = failure.column.flatMap { header.indices.contains($0 - 1) ? " (\(header[$0 - 1]))" : nil } ?? ""
        if let column = failure.column { place += ", column \(column)\(name)" }
        var message = "\(self.file) \(place): \(failure.reason)"
        let hint: Bool
        if case .notUTF8? = failure.kind, !transcoded { hint = true } else { hint = false }
        if hint { message += ". If the file is in another encoding, say which: --encoding windows-1251 (or iso-8859-1, utf-16)" }
        return self.unreadable(english: message) { words in
            let reason = switch failure.kind {
            case .fieldTooLong(let max)?: words(.csvFieldTooLong, words.integer(max))
            case .unclosedQuote?: words(.csvUnclosedQuote)
            case .tooManyFields(let max)?: words(.csvTooManyFields, words.integer(max))
            case .notUTF8(let byte)?:
                hint ? words(.cliAndThen, words(.csvNotUTF8, CSVReader.hex(byte)), words(.cliEncodingHint)) : words(.csvNotUTF8, CSVReader.hex(byte))
            case nil: failure.reason
            }
            let line = words.integer(failure.line)
            return failure.column.map { words(.cliLineColumn, line, words.integer($0) + name, reason) } ?? words(.importFileLine, line, reason)
        }
    }

    /// A file the import cannot read at all. In English as it always was (ArgumentParser's
    /// `Error: ...`); in Persian or Russian said whole on standard error. The exit status is the
    /// same either way.
    private func unreadable(english: String, said: (Words) -> String) -> any Error {
        let words = self.language.words
        guard words.language != .en else { return ValidationError(english) }
        complain(words(.cliUnreadableFile, self.file, said(words)))
        return ExitCode.validationFailure
    }

    /// Reads the file's rows, each as an observation, a breakdown, or a problem, chunk by chunk.
    private func readRows(_ body: (Int, Result<ComtradeRow.Outcome, ComtradeProblem>) async throws -> Void) async throws {
        // Read once: an option's wrapper costs a lookup on every access, and this runs a row at a time.
        let (source, published, keepBreakdowns) = (self.source, self.published, self.keepBreakdowns)
        var chunks = try FileChunks(path: self.file)
        var reader = CSVReader()
        var header: [String] = []
        var columns: ComtradeColumns?
        var records: [CSVReader.Record] = []
        func process() async throws {
            for record in records {
                guard let known = columns else {
                    do {
                        columns = try ComtradeColumns(header: record.fields)
                        header = record.fields
                    } catch {
                        throw self.unreadable(english: "\(self.file) line \(record.line): \(error.reason)") { words in
                            let reason = error.rule.map { words.said($0, field: error.column, message: error.reason, isolate: { $0 }) } ?? error.reason
                            return words(.importFileLine, words.integer(record.line), reason)
                        }
                    }
                    continue
                }
                do {
                    let outcome = try ComtradeRow.read(record.fields, columns: known, source: source, published: published, keepBreakdowns: keepBreakdowns)
                    try await body(record.line, .success(outcome))
                } catch let problem as ComtradeProblem {
                    try await body(record.line, .failure(problem))
                }
            }
            records.removeAll(keepingCapacity: true)
        }
        // Text in another encoding is read into UTF-8 first: as asked, or as its byte order mark says.
        var transcoder = try self.encoding.map { name throws(Transcoder.Failure) in try Transcoder(from: name) }
        var first = true
        do {
            try await chunks.forEach { chunk in
                if first {
                    first = false
                    if transcoder == nil, let marked = Transcoder.encoding(ofMark: chunk.readableBytesView) {
                        transcoder = try Transcoder(from: marked)
                    }
                }
                if let transcoder {
                    try reader.feed(try transcoder.convert(chunk.readableBytesView)) { records.append($0) }
                } else {
                    try reader.feed(chunk.readableBytesView) { records.append($0) }
                }
                try await process()
            }
            if let transcoder { try reader.feed(try transcoder.convert([], final: true)) { records.append($0) } }
            try reader.finish { records.append($0) }
            try await process()
        } catch let failure as CSVReader.Failure {
            // The header may still wait, unread, with the record that failed.
            if header.isEmpty, columns == nil, let first = records.first { header = first.fields }
            throw self.refusal(failure, header: header, transcoded: transcoder != nil)
        } catch let failure as Transcoder.Failure {
            throw ValidationError("\(self.file) as \(transcoder?.encoding ?? self.encoding ?? "?"): \(failure)")
        }
        if columns == nil { throw self.unreadable(english: "\(self.file) is empty: no header row") { $0(.importEmptyFile) } }
    }
}

/// A progress line on a terminal: rows, rows per second, time left. Nothing when not a terminal.
final class Progress {
    let total: Int
    let interactive: Bool
    private var done = 0
    private let start = ContinuousClock.now
    private var lastDrawn = ContinuousClock.now - .seconds(1)

    init(total: Int, interactive: Bool) {
        self.total = total
        self.interactive = interactive
    }

    func advance(by count: Int) {
        self.done += count
        let now = ContinuousClock.now
        guard self.interactive, now - self.lastDrawn >= .milliseconds(100) || self.done == self.total else { return }
        self.lastDrawn = now
        let seconds = max(0.001, Double((now - self.start).components.attoseconds) / 1e18 + Double((now - self.start).components.seconds))
        let rate = Double(self.done) / seconds
        let left = rate > 0 ? Int(Double(self.total - self.done) / rate) : 0
        let width = 30
        let filled = self.total == 0 ? width : width * self.done / self.total
        let bar = String(repeating: "#", count: filled) + String(repeating: "-", count: width - filled)
        writeAll("\r[\(bar)] \(self.done)/\(self.total) rows  \(Int(rate)) rows/s  \(left / 60)m\(left % 60)s left ", to: STDERR_FILENO)
    }

    func finish() {
        if self.interactive, self.done > 0 { writeAll("\n", to: STDERR_FILENO) }
    }
}
