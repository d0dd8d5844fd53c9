/// A streaming CSV reader (RFC 4180): fields separated by commas, records by LF or CRLF, quoted
/// fields with `""` for a quote and line breaks inside, a UTF-8 byte order mark skipped. Bytes
/// go in as they are read; records come out with the line they started on. Memory is bounded by
/// one record. The text must be UTF-8: a field that is not is refused with its line and column,
/// never stored with replacement characters (`Transcoder` reads other encodings into UTF-8).
///
/// Hand-written rather than yaslab/CSV.swift (the listed streaming reader): that one reads
/// through Foundation's InputStream, and the CLI links FoundationEssentials only (docker/README.md
/// says why). It is also the hot path of a 10-million-row import.
public struct CSVReader: Sendable {
    public struct Record: Sendable {
        public var fields: [String]
        /// The line the record starts on, from 1.
        public var line: Int
    }

    public struct Failure: Error, CustomStringConvertible {
        public var line: Int
        /// In English, for a log or a terminal.
        public var reason: String
        /// The field, from 1, when the failure is one field's.
        public var column: Int?
        /// What went wrong as data, for saying it in a reader's language.
        public var kind: Kind?

        /// What makes a file unreadable as CSV.
        public enum Kind: Hashable, Sendable {
            case fieldTooLong(maxBytes: Int)
            case unclosedQuote
            case tooManyFields(max: Int)
            /// Text that is not UTF-8: its first byte that is not.
            case notUTF8(byte: UInt8)
        }

        public init(line: Int, reason: String, column: Int? = nil, kind: Kind? = nil) {
            self.line = line
            self.reason = reason
            self.column = column
            self.kind = kind
        }

        public var description: String { "line \(self.line)\(self.column.map { ", column \($0)" } ?? ""): \(self.reason)" }
    }

    public static let maxFieldBytes = 64 * 1024
    public static let maxFields = 256

    public init() {}

    /// A reader that starts at `line` of a file, at the start of a record (a part of a file
    /// read on its own; no byte order mark is looked for).
    public init(line: Int) {
        self.line = line
        self.recordLine = line
        self.atStart = false
    }

    /// The line the next record starts on.
    public var nextLine: Int { self.line }

    /// Whether what was fed ended exactly at the end of a record (outside quotes, nothing of a
    /// next record read): where another reader may take over.
    public var atRecordBoundary: Bool {
        !self.inQuotes && !self.quotePending && !self.afterCR && self.field.isEmpty && self.fields.isEmpty && !self.recordHasContent
    }

    private var fields: [String] = []
    private var field: [UInt8] = []
    private var inQuotes = false
    /// Just read a quote inside a quoted field: the next byte says whether it closed the field.
    private var quotePending = false
    private var afterCR = false
    private var line = 1
    private var recordLine = 1
    private var atStart = true
    private var bomBytes = 0
    private var recordHasContent = false

    /// Feeds `bytes`, calling `emit` for every record they complete.
    public mutating func feed(_ bytes: some Sequence<UInt8>, emit: (Record) throws -> Void) throws {
        let done: Bool? = try bytes.withContiguousStorageIfAvailable { buffer in
            try self.feedContiguous(buffer, emit: emit)
            return true
        }
        if done == nil { try self.feedBytes(bytes, emit: emit) }
    }

    /// The same, over contiguous bytes: the run of plain bytes up to the next comma, line
    /// break or quote (most of a file) is copied at once rather than a byte at a time.
    private mutating func feedContiguous(_ buffer: UnsafeBufferPointer<UInt8>, emit: (Record) throws -> Void) throws {
        let quote = UInt8(ascii: "\""), comma = UInt8(ascii: ","), newline = UInt8(ascii: "\n"), carriage = UInt8(ascii: "\r")
        var index = 0
        while index < buffer.count {
            if self.atStart || self.afterCR || self.inQuotes {
                try self.feedBytes(CollectionOfOne(buffer[index]), emit: emit)
                index += 1
                continue
            }
            let start = index
            while index < buffer.count {
                let byte = buffer[index]
                if byte == comma || byte == newline || byte == carriage || byte == quote { break }
                index += 1
            }
            if index > start {
                guard self.field.count + (index - start) <= Self.maxFieldBytes else {
                    throw Failure(line: self.recordLine, reason: "a field is longer than \(Self.maxFieldBytes) bytes", kind: .fieldTooLong(maxBytes: Self.maxFieldBytes))
                }
                self.field.append(contentsOf: UnsafeBufferPointer(rebasing: buffer[start..<index]))
                self.recordHasContent = true
            }
            if index < buffer.count {
                try self.consume(buffer[index], emit: emit)
                index += 1
            }
        }
    }

    private mutating func feedBytes(_ bytes: some Sequence<UInt8>, emit: (Record) throws -> Void) throws {
        for byte in bytes {
            if self.atStart {
                // EF BB BF at the very start is a byte order mark, not data.
                let bom: [UInt8] = [0xEF, 0xBB, 0xBF]
                if byte == bom[self.bomBytes] {
                    self.bomBytes += 1
                    if self.bomBytes == 3 { self.atStart = false }
                    continue
                }
                self.atStart = false
                if self.bomBytes > 0 {
                    self.field.append(contentsOf: bom.prefix(self.bomBytes))
                    self.recordHasContent = true
                }
            }
            try self.consume(byte, emit: emit)
        }
    }

    /// The end of the input: the last record, if it had no line break after it.
    public mutating func finish(emit: (Record) throws -> Void) throws {
        if self.inQuotes, !self.quotePending {
            throw Failure(line: self.recordLine, reason: "a quoted field is not closed before the end of the file", kind: .unclosedQuote)
        }
        self.quotePending = false
        self.inQuotes = false
        if self.recordHasContent || !self.fields.isEmpty {
            try self.endRecord(emit: emit)
        }
    }

    private mutating func consume(_ byte: UInt8, emit: (Record) throws -> Void) throws {
        let quote = UInt8(ascii: "\""), comma = UInt8(ascii: ","), newline = UInt8(ascii: "\n"), carriage = UInt8(ascii: "\r")
        if self.afterCR {
            self.afterCR = false
            if byte == newline { return }
        }
        if self.inQuotes {
            if self.quotePending {
                self.quotePending = false
                if byte == quote {
                    try self.append(quote)
                    return
                }
                self.inQuotes = false
                // Falls through: the byte after a closing quote is read as outside quotes.
            } else if byte == quote {
                self.quotePending = true
                return
            } else {
                if byte == newline { self.line += 1 }
                try self.append(byte)
                return
            }
        }
        switch byte {
        case comma:
            try self.endField()
        case newline, carriage:
            if byte == carriage { self.afterCR = true }
            if self.recordHasContent || !self.fields.isEmpty { try self.endRecord(emit: emit) }
            self.line += 1
            self.recordLine = self.line
        case quote where self.field.isEmpty:
            self.inQuotes = true
            self.recordHasContent = true
        default:
            try self.append(byte)
        }
    }

    private mutating func append(_ byte: UInt8) throws {
        guard self.field.count < Self.maxFieldBytes else {
            throw Failure(line: self.recordLine, reason: "a field is longer than \(Self.maxFieldBytes) bytes", kind: .fieldTooLong(maxBytes: Self.maxFieldBytes))
        }
        self.field.append(byte)
        self.recordHasContent = true
    }

    private mutating func endField() throws {
        guard self.fields.count < Self.maxFields else {
            throw Failure(line: self.recordLine, reason: "more than \(Self.maxFields) fields", kind: .tooManyFields(max: Self.maxFields))
        }
        // Most fields are ASCII, which is UTF-8 as it is; the generic validation costs a
        // look-up of type metadata for every field (a tenth of the CLI's time, perf).
        let ascii = !self.field.contains(where: { $0 >= 0x80 })
        guard let text = ascii ? String(decoding: self.field, as: UTF8.self) : String(validating: self.field, as: UTF8.self) else {
            let bad = Self.firstInvalidByte(self.field)
            throw Failure(
                line: self.recordLine,
                reason: "not UTF-8 text (byte \(Self.hex(bad)))",
                column: self.fields.count + 1, kind: .notUTF8(byte: bad)
            )
        }
        self.fields.append(text)
        self.field.removeAll(keepingCapacity: true)
        self.recordHasContent = true
    }

    private mutating func endRecord(emit: (Record) throws -> Void) throws {
        try self.endField()
        let record = Record(fields: self.fields, line: self.recordLine)
        self.fields.removeAll(keepingCapacity: true)
        self.recordHasContent = false
        try emit(record)
    }

    /// The first byte of `bytes` that does not begin or continue a valid UTF-8 sequence there.
    /// A byte as a failure names it: 0xD0.
    public static func hex(_ byte: UInt8) -> String {
        "0x" + String(byte, radix: 16, uppercase: true)
    }

    static func firstInvalidByte(_ bytes: [UInt8]) -> UInt8 {
        var index = 0
        while index < bytes.count {
            let lead = bytes[index]
            let length = lead < 0x80 ? 1 : lead >> 5 == 0b110 ? 2 : lead >> 4 == 0b1110 ? 3 : lead >> 3 == 0b11110 ? 4 : 0
            guard length > 0, index + length <= bytes.count,
                  String(validating: bytes[index..<index + length], as: UTF8.self) != nil
            else { return lead }
            index += length
        }
        return bytes.last ?? 0
    }
}
