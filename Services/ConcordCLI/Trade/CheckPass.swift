import ConcordComtrade
#if canImport(Glibc)
import Glibc
#endif

/// The import's first pass, every row checked before anything is sent, on both cores: a plain
/// UTF-8 file is read as two halves side by side, split after a line break, and the halves'
/// answers joined in file order. The split is only trusted when the first half's reader ends
/// exactly at a record's end there (not inside a quoted field); otherwise that reader reads on
/// through the second half, as one reader would. Line numbers of the second half are those the
/// first half's reader reached.
struct CheckPass {
    struct Tally: Sendable {
        var valid = 0
        var breakdowns = 0
        var problems: [(line: Int, problem: ComtradeProblem)] = []

        mutating func add(_ other: Tally, shiftingLinesBy shift: Int) {
            self.valid += other.valid
            self.breakdowns += other.breakdowns
            self.problems += other.problems.map { ($0.line + shift, $0.problem) }
        }
    }

    /// What a part of the file holds, and the reader that read it, where it stopped.
    struct Part: Sendable {
        var tally = Tally()
        var reader: CSVReader
    }

    enum Failure: Error {
        case csv(CSVReader.Failure)
        case io(String)
    }

    let path: String
    let columns: ComtradeColumns
    let source: String
    let published: String
    let keepBreakdowns: Bool

    /// Files smaller than this are read by one reader: the split costs more than it saves.
    static let splitAbove = 8 << 20
    var splitAbove = CheckPass.splitAbove

    /// Checks the rows after the header, which ends at `bodyStart` (line `bodyLine`), of a file
    /// of `size` bytes.
    func run(bodyStart: Int, bodyLine: Int, size: Int) async throws(Failure) -> Tally {
        guard size - bodyStart > self.splitAbove, let split = try self.splitPoint(after: bodyStart + (size - bodyStart) / 2, size: size) else {
            return try self.read(from: bodyStart, to: size, continuing: Part(reader: CSVReader(line: bodyLine))).tally
        }
        // The second half's lines are counted from an assumed start and shifted once the first
        // half's reader says where it ended.
        let assumed = 1_000_000_000
        let first = Task.detached { [self] () throws(Failure) -> Part in
            try self.read(from: bodyStart, to: split, continuing: Part(reader: CSVReader(line: bodyLine)), final: false)
        }
        let second = Task.detached { [self] () throws(Failure) -> Part in try self.read(from: split, to: size, continuing: Part(reader: CSVReader(line: assumed))) }
        let head: Part
        do {
            head = try await first.value
        } catch {
            second.cancel()
            throw error as! Failure
        }
        guard head.reader.atRecordBoundary else {
            // The split fell inside a quoted field: the first half's reader reads on.
            second.cancel()
            _ = try? await second.value
            return try self.read(from: split, to: size, continuing: head).tally
        }
        var tally = head.tally
        let nextLine = head.reader.nextLine
        do {
            tally.add(try await second.value.tally, shiftingLinesBy: nextLine - assumed)
        } catch {
            // A malformed record in the second half: its line, as one reader would give it.
            if case .csv(let failure) = error as! Failure {
                throw .csv(CSVReader.Failure(line: failure.line - assumed + nextLine, reason: failure.reason, column: failure.column, kind: failure.kind))
            }
            throw error as! Failure
        }
        return tally
    }

    /// The offset just after the first line break at or after `offset`, or nil if none.
    private func splitPoint(after offset: Int, size: Int) throws(Failure) -> Int? {
        let descriptor = open(self.path, O_RDONLY)
        guard descriptor >= 0 else { throw .io("cannot open \(self.path): \(String(cString: strerror(errno)))") }
        defer { close(descriptor) }
        var buffer = [UInt8](repeating: 0, count: 1 << 16)
        var position = offset
        while position < size {
            let count = buffer.withUnsafeMutableBytes { pread(descriptor, $0.baseAddress, $0.count, off_t(position)) }
            guard count > 0 else { return nil }
            if let index = buffer[0..<count].firstIndex(of: UInt8(ascii: "\n")) { return position + index + 1 < size ? position + index + 1 : nil }
            position += count
        }
        return nil
    }

    /// Reads bytes `start..<end` on from `part`, with its reader; `final` when `end` is the
    /// file's end (a last record without a line break is then read too).
    private func read(from start: Int, to end: Int, continuing part: Part, final: Bool = true) throws(Failure) -> Part {
        let descriptor = open(self.path, O_RDONLY)
        guard descriptor >= 0 else { throw .io("cannot open \(self.path): \(String(cString: strerror(errno)))") }
        defer { close(descriptor) }
        var part = part
        var reader = part.reader
        var buffer = [UInt8](repeating: 0, count: 1 << 18)
        var position = start
        let (columns, source, published, keepBreakdowns) = (self.columns, self.source, self.published, self.keepBreakdowns)
        func check(_ record: CSVReader.Record) {
            do throws(ComtradeProblem) {
                switch try ComtradeRow.read(record.fields, columns: columns, source: source, published: published, keepBreakdowns: keepBreakdowns) {
                case .observation: part.tally.valid += 1
                case .breakdown: part.tally.breakdowns += 1
                }
            } catch {
                part.tally.problems.append((record.line, error))
            }
        }
        do {
            while position < end {
                if Task.isCancelled { return part }
                let wanted = min(buffer.count, end - position)
                let count = buffer.withUnsafeMutableBytes { pread(descriptor, $0.baseAddress, wanted, off_t(position)) }
                if count < 0, errno == EINTR { continue }
                guard count > 0 else { throw Failure.io("cannot read \(self.path): \(String(cString: strerror(errno)))") }
                try reader.feed(buffer[0..<count]) { check($0) }
                position += count
            }
            if final { try reader.finish { check($0) } }
            part.reader = reader
        } catch let failure as CSVReader.Failure {
            throw .csv(failure)
        } catch let failure as Failure {
            throw failure
        } catch {
            throw .io("\(error)")
        }
        return part
    }
}
