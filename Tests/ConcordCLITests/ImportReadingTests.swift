import CompressNIO
import ConcordComtrade
import Foundation
import NIOCore
import Testing

@testable import ConcordCLI

/// How `concord trade import` reads a file: gzip inflated chunk by chunk, and the first pass
/// over both cores giving what one reader gives.
@Suite("Reading an import's file", .timeLimit(.minutes(1)))
struct ImportReadingTests {
    func temporaryFile(_ name: String) -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("import-\(UUID().uuidString)-\(name)").path
    }

    /// Text that compresses poorly, so its gzip spans many of the reader's 256 KiB chunks.
    func noise(lines: Int) -> String {
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        var text = ""
        for line in 0..<lines {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            text += "\(line),\(String(state, radix: 36)),\(String(state >> 7, radix: 36))\n"
        }
        return text
    }

    @Test func aGzipFileInflatesToItsBytesOnceEach() async throws {
        let text = self.noise(lines: 120_000)
        var plain = ByteBuffer(string: text)
        let compressed = try plain.compress(with: .gzip)
        #expect(compressed.readableBytes > 3 * (1 << 18))
        let path = self.temporaryFile("noise.csv.gz")
        try Data(compressed.readableBytesView).write(to: URL(fileURLWithPath: path))
        defer { try? FileManager.default.removeItem(atPath: path) }
        var chunks = try FileChunks(path: path)
        var inflated: [UInt8] = []
        try await chunks.forEach { inflated += $0.readableBytesView }
        #expect(inflated.count == text.utf8.count)
        #expect(inflated == Array(text.utf8))
    }

    static let header = "freqCode,refYear,refMonth,period,reporterISO,partnerISO,partner2Code,flowCode,classificationCode,cmdCode,customsCode,motCode,primaryValue,qtyUnitAbbr"

    /// A file of `rows` rows over 8 MiB, bad at `bad` (row numbers), with a unit quoted over
    /// several lines at the rows in `quoted`.
    func comtrade(rows: Int, bad: Set<Int>, quoted: Set<Int>) -> String {
        var text = Self.header + "\n"
        for row in 0..<rows {
            let value = bad.contains(row) ? "a lot" : "\(1000 + row).5"
            let unit = quoted.contains(row) ? "\"k\ng\n\"\"net\"\"\"" : "kg"
            text += "M,2025,\(row % 12 + 1),2025\(String(format: "%02d", row % 12 + 1)),RUS,IRN,0,X,H6,\(String(format: "%02d", row % 97 + 1)),C00,0,\(value),\(unit)\n"
        }
        return text
    }

    func check(_ text: String, split: Bool) async throws -> CheckPass.Tally {
        let path = self.temporaryFile("rows.csv")
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let headerEnd = Self.header.utf8.count + 1
        let columns = try ComtradeColumns(header: Self.header.split(separator: ",").map(String.init))
        let pass = CheckPass(path: path, columns: columns, source: "test", published: "2026-01-01", keepBreakdowns: false, splitAbove: split ? 1 << 20 : .max)
        return try await pass.run(bodyStart: headerEnd, bodyLine: 2, size: text.utf8.count)
    }

    func lines(_ tally: CheckPass.Tally) -> [Int] { tally.problems.map(\.line) }

    @Test func bothHalvesGiveWhatOneReaderGivesWithTheLinesOfTheWholeFile() async throws {
        let text = self.comtrade(rows: 80_000, bad: [3, 41_000, 79_999], quoted: [10, 20_000, 60_000])
        let whole = try await self.check(text, split: false)
        let halves = try await self.check(text, split: true)
        #expect(whole.valid == 80_000 - 3 && whole.breakdowns == 0)
        #expect(halves.valid == whole.valid)
        // Each quoted unit adds two lines to the rows after it.
        #expect(self.lines(whole) == [3 + 2, 41_000 + 2 + 4, 79_999 + 2 + 6])
        #expect(self.lines(halves) == self.lines(whole))
    }

    @Test func aSplitInsideAQuotedFieldIsReadAgainAsOneReaderReadsIt() async throws {
        // The middle of the file falls inside the quoted units of a run of rows.
        let rows = 80_000
        let text = self.comtrade(rows: rows, bad: [39_990, 40_010], quoted: Set(39_900..<40_100))
        let whole = try await self.check(text, split: false)
        let halves = try await self.check(text, split: true)
        #expect(whole.valid == rows - 2)
        #expect(halves.valid == whole.valid && self.lines(halves) == self.lines(whole))
    }
}
