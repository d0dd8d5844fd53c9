import ConcordProtocol
import NIOCore

/// Rows for `trade.observations.import` gathered into request bodies (`TableBody`, in
/// `ComtradeRow.columns` order) of at most `rowsPerBatch` rows and `maximumBytes` bytes: under
/// the gateway's line limit (1 MiB by default), which would refuse a longer line and close the
/// connection. What `concord trade import` streams and the console's upload sends.
public struct ImportBatches {
    /// Bytes of rows a request carries at most, well under the default 1 MiB line.
    public static let maximumBytes = 960 * 1024

    public let rowsPerBatch: Int
    private var body = ByteBuffer()
    private var rows = 0

    public init(rowsPerBatch: Int = 10_000) {
        self.rowsPerBatch = rowsPerBatch
        self.start()
    }

    /// Adds a row. When the body is full, returns it, with its number of rows; a row that would
    /// make it too long starts the next one.
    public mutating func add(_ row: [TableBody.Cell]) -> (body: ByteBuffer, rows: Int)? {
        var full: (body: ByteBuffer, rows: Int)?
        let before = self.body.writerIndex
        if self.rows > 0 { self.body.writeInteger(UInt8(ascii: ",")) }
        TableBody.write(row: row, into: &self.body)
        if self.rows > 0, self.body.readableBytes > Self.maximumBytes {
            self.body.moveWriterIndex(to: before)
            full = self.finish()
            TableBody.write(row: row, into: &self.body)
        }
        self.rows += 1
        if self.rows == self.rowsPerBatch { full = self.finish() }
        return full
    }

    /// The body being gathered, with its number of rows, if it holds any; the next starts empty.
    public mutating func finish() -> (body: ByteBuffer, rows: Int)? {
        guard self.rows > 0 else { return nil }
        TableBody.writeTail(into: &self.body)
        let full = (self.body, self.rows)
        self.start()
        return full
    }

    private mutating func start() {
        self.body = ByteBuffer()
        TableBody.writeHead(columns: ComtradeRow.columns, into: &self.body)
        self.rows = 0
    }
}
