import NIOCore

/// A bulk body in table form, `{"columns": ["reporter", ...], "rows": [["RU", ...], ...]}`:
/// the field names once, then each row's values in that order, strings, `true`, `false` or
/// `null`. Fewer bytes than a list of objects (the field names once), and read here by a
/// scanner over the bytes rather than by JSONDecoder, which was an import's largest single cost
/// (docs/performance.md).
public struct TableBody: Sendable {
    public enum Cell: Sendable, Equatable {
        case text(String)
        case flag(Bool)
        case null
    }

    public var columns: [String]
    public var rows: [[Cell]]

    public init(columns: [String], rows: [[Cell]]) {
        self.columns = columns
        self.rows = rows
    }

    /// Whether `body` is in table form (its first key is `columns`), without reading it.
    public static func looksLikeTable(_ body: ByteBuffer) -> Bool {
        body.withUnsafeReadableBytes { bytes in
            var index = 0
            while index < bytes.count, [0x20, 0x09, 0x0A, 0x0D, UInt8(ascii: "{")].contains(bytes[index]) { index += 1 }
            let key = Array("\"columns\"".utf8)
            return bytes.count - index >= key.count && zip(bytes[index...], key).allSatisfy { $0 == $1 }
        }
    }

    /// Reads a table body; every fault is a `bad_request` naming where it is (`rows[12]`,
    /// `columns[3]`).
    public static func decode(_ body: ByteBuffer, maximumRows: Int) throws(ConcordError) -> TableBody {
        let result: Result<TableBody, ConcordError> = body.withUnsafeReadableBytes { bytes in
            var scanner = Scanner(bytes: bytes)
            return Result { () throws(ConcordError) in try scanner.table(maximumRows: maximumRows) }
        }
        return try result.get()
    }

    /// Writes a table body; values are JSON-escaped.
    public static func encode(columns: [String], rows: some Sequence<[Cell]>, into buffer: inout ByteBuffer) {
        Self.writeHead(columns: columns, into: &buffer)
        var firstRow = true
        for row in rows {
            if !firstRow { buffer.writeInteger(UInt8(ascii: ",")) }
            firstRow = false
            Self.write(row: row, into: &buffer)
        }
        Self.writeTail(into: &buffer)
    }

    /// The start of a body written row by row: `{"columns":[...],"rows":[`. Rows follow,
    /// separated by commas, then `writeTail`.
    public static func writeHead(columns: [String], into buffer: inout ByteBuffer) {
        buffer.writeString("{\"columns\":[")
        for (index, column) in columns.enumerated() {
            if index > 0 { buffer.writeInteger(UInt8(ascii: ",")) }
            JSONString.write(column, into: &buffer)
        }
        buffer.writeString("],\"rows\":[")
    }

    public static func writeTail(into buffer: inout ByteBuffer) {
        buffer.writeString("]}")
    }

    /// One row, `["RU",null,true]`.
    public static func write(row: [Cell], into buffer: inout ByteBuffer) {
        buffer.writeInteger(UInt8(ascii: "["))
        for (index, cell) in row.enumerated() {
            if index > 0 { buffer.writeInteger(UInt8(ascii: ",")) }
            switch cell {
            case .text(let text): JSONString.write(text, into: &buffer)
            case .flag(let flag): buffer.writeString(flag ? "true" : "false")
            case .null: buffer.writeString("null")
            }
        }
        buffer.writeInteger(UInt8(ascii: "]"))
    }

    private struct Scanner {
        let bytes: UnsafeRawBufferPointer
        var index = 0

        init(bytes: UnsafeRawBufferPointer) { self.bytes = bytes }

        static let shape = "body must be {\"columns\": [field names], \"rows\": [[values], ...]}"

        mutating func table(maximumRows: Int) throws(ConcordError) -> TableBody {
            try self.expect("{", field: "body")
            try self.expectKey("columns")
            try self.expect("[", field: "columns")
            var columns: [String] = []
            if !self.take("]") {
                repeat {
                    guard case .text(let name) = try self.cell(field: "columns[\(columns.count)]") else {
                        throw ConcordError(.badRequest, "columns[\(columns.count)] must be a field name", field: "columns[\(columns.count)]")
                    }
                    columns.append(name)
                } while self.take(",")
                try self.expect("]", field: "columns")
            }
            guard !columns.isEmpty else { throw ConcordError(.badRequest, "columns is required: the rows' field names", field: "columns", rule: .required) }
            if let repeated = columns.enumerated().first(where: { columns[..<$0.offset].contains($0.element) }) {
                throw ConcordError(.badRequest, "column '\(repeated.element)' is named twice", field: "columns[\(repeated.offset)]")
            }
            try self.expect(",", field: "body")
            try self.expectKey("rows")
            try self.expect("[", field: "rows")
            var rows: [[Cell]] = []
            if !self.take("]") {
                repeat {
                    guard rows.count < maximumRows else {
                        throw ConcordError(.tooLarge, "rows has more than \(maximumRows) rows; send at most \(maximumRows) a batch", field: "rows")
                    }
                    let field = "rows[\(rows.count)]"
                    try self.expect("[", field: field)
                    var row: [Cell] = []
                    row.reserveCapacity(columns.count)
                    if !self.take("]") {
                        repeat {
                            row.append(try self.cell(field: field))
                        } while self.take(",")
                        try self.expect("]", field: field)
                    }
                    guard row.count == columns.count else {
                        throw ConcordError(.badRequest, "\(field) has \(row.count) values for \(columns.count) columns", field: field)
                    }
                    rows.append(row)
                } while self.take(",")
                try self.expect("]", field: "rows")
            }
            try self.expect("}", field: "body")
            self.skipSpaces()
            guard self.index == self.bytes.count else { throw ConcordError(.badRequest, "\(Self.shape); found more after it", field: "body") }
            return TableBody(columns: columns, rows: rows)
        }

        mutating func skipSpaces() {
            while self.index < self.bytes.count {
                switch self.bytes[self.index] {
                case 0x20, 0x09, 0x0A, 0x0D: self.index += 1
                default: return
                }
            }
        }

        mutating func take(_ character: Unicode.Scalar) -> Bool {
            self.skipSpaces()
            guard self.index < self.bytes.count, self.bytes[self.index] == UInt8(ascii: character) else { return false }
            self.index += 1
            return true
        }

        mutating func expect(_ character: Unicode.Scalar, field: String) throws(ConcordError) {
            guard self.take(character) else {
                throw ConcordError(.badRequest, "\(Self.shape); expected '\(character)' at byte \(self.index) (\(field))", field: field)
            }
        }

        mutating func expectKey(_ key: String) throws(ConcordError) {
            guard case .text(let found) = try self.cell(field: "body"), found == key else {
                throw ConcordError(.badRequest, "\(Self.shape); expected \"\(key)\" at byte \(self.index)", field: "body")
            }
            try self.expect(":", field: key)
        }

        mutating func literal(_ word: StaticString) -> Bool {
            let count = word.utf8CodeUnitCount
            guard self.bytes.count - self.index >= count else { return false }
            let start = word.utf8Start
            for offset in 0..<count where self.bytes[self.index + offset] != start[offset] { return false }
            self.index += count
            return true
        }

        /// A string, `true`, `false` or `null`.
        mutating func cell(field: String) throws(ConcordError) -> Cell {
            self.skipSpaces()
            guard self.index < self.bytes.count else { throw ConcordError(.badRequest, "\(Self.shape); the body ends early", field: field) }
            switch self.bytes[self.index] {
            case UInt8(ascii: "n") where self.literal("null"): return .null
            case UInt8(ascii: "t") where self.literal("true"): return .flag(true)
            case UInt8(ascii: "f") where self.literal("false"): return .flag(false)
            default: break
            }
            guard self.bytes[self.index] == UInt8(ascii: "\"") else {
                throw ConcordError(.badRequest, "\(field): values are strings, true, false or null (numbers as strings, to keep them exact)", field: field)
            }
            self.index += 1
            switch JSONStringReader.read(self.bytes, at: &self.index) {
            case .success(let text): return .text(text)
            case .failure(let fault): throw ConcordError(.badRequest, "\(field): \(fault)", field: field)
            }
        }
    }
}
