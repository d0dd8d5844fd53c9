import ConcordComtrade
import ConcordProtocol
import NIOCore

/// libFuzzer target (scripts/fuzz): a Comtrade CSV file as `concord trade import` reads it, fed in
/// two pieces split where the first byte says (the reader streams), every record after the header
/// mapped to an observation, and the observations sent as the table body the service scans.
/// Beyond "no crash": the service's scanner reads back exactly the rows written.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzComtrade(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    guard size > 0 else { return 0 }
    let bytes = UnsafeBufferPointer(start: data + 1, count: size - 1)
    let split = Int(data[0]) % (bytes.count + 1)
    var reader = CSVReader()
    var records: [CSVReader.Record] = []
    do {
        try reader.feed(bytes[..<split]) { records.append($0) }
        try reader.feed(bytes[split...]) { records.append($0) }
        try reader.finish { records.append($0) }
    } catch {
        // A refusal (it names the line) is an answer; the records before it still map.
    }
    guard let header = records.first, let columns = try? ComtradeColumns(header: header.fields) else { return 0 }
    var rows: [[TableBody.Cell]] = []
    for record in records.dropFirst() {
        if case .observation(let cells)? = try? ComtradeRow.read(
            record.fields, columns: columns, source: "fuzz", published: "2025-01-01", keepBreakdowns: false
        ) {
            rows.append(cells)
        }
    }
    guard !rows.isEmpty else { return 0 }
    var body = ByteBuffer()
    TableBody.encode(columns: ComtradeRow.columns, rows: rows, into: &body)
    let table: TableBody
    do throws(ConcordError) {
        table = try TableBody.decode(body, maximumRows: rows.count)
    } catch {
        fatalError("the table body of \(rows.count) rows is refused by its own scanner: \(error)")
    }
    guard table.columns == ComtradeRow.columns, table.rows == rows else {
        fatalError("the table body does not read back as written: \(String(buffer: body).prefix(300))")
    }
    return 0
}
