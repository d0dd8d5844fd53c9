import ConcordComtrade
import ConcordProtocol
import NIOCore
import Testing

@Suite("Import batches")
struct ImportBatchesTests {
    static func row(_ index: Int, padding: Int = 0) -> [TableBody.Cell] {
        ComtradeRow.columns.enumerated().map { column, _ in .text(column == 0 ? "R\(index)" + String(repeating: "x", count: padding) : "v") }
    }

    @Test func aBatchEndsAtItsRowCountAndEveryRowIsSentOnce() throws {
        var batches = ImportBatches(rowsPerBatch: 3)
        var sent: [(body: ByteBuffer, rows: Int)] = []
        for index in 0..<7 { if let full = batches.add(Self.row(index)) { sent.append(full) } }
        if let last = batches.finish() { sent.append(last) }
        #expect(sent.map(\.rows) == [3, 3, 1])
        #expect(batches.finish() == nil, "nothing is left after finish")
        let decoded = try sent.map { try TableBody.decode($0.body, maximumRows: 10) }
        #expect(decoded.map(\.rows.count) == [3, 3, 1])
        #expect(decoded.allSatisfy { $0.columns == ComtradeRow.columns })
    }

    @Test func aRowThatWouldPassTheByteBoundStartsTheNextBatch() throws {
        var batches = ImportBatches()
        var sent: [(body: ByteBuffer, rows: Int)] = []
        // Three rows of 400 KiB: two fit under 960 KiB, the third does not.
        for index in 0..<3 { if let full = batches.add(Self.row(index, padding: 400 * 1024)) { sent.append(full) } }
        if let last = batches.finish() { sent.append(last) }
        #expect(sent.map(\.rows) == [2, 1])
        #expect(sent.allSatisfy { $0.body.readableBytes <= ImportBatches.maximumBytes + 64 })
        #expect(try TableBody.decode(sent[1].body, maximumRows: 10).rows.count == 1)
    }
}
