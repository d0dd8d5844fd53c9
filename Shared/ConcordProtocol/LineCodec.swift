import NIOCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Parses and writes protocol lines. Pure: bytes in, values out, no I/O.
///
/// The grammar is specified in docs/protocol.md. Bodies are never decoded here: a request body is
/// handed on as the exact bytes received, so a proxy routes on verb and metadata alone.
public enum LineCodec {
    public static let maxIDLength = 64
    public static let maxVerbLength = 128
    public static let maxMetadataEntries = 16
    public static let maxMetadataValueLength = 512

    // MARK: Reading

    /// Reads one line sent by a client (no terminator).
    ///
    /// - Parameter knownVerb: a verb this reader has already accepted (the previous line's):
    ///   when the line names it again, the request takes that string as it is, without checking
    ///   and copying the bytes again. A connection mostly repeats one verb.
    public static func parseClientLine(_ line: ByteBuffer, knownVerb: String? = nil) -> ClientLine {
        // Over the raw bytes: every request passes here, and walking a ByteBufferView costs
        // several times as much per byte.
        line.withUnsafeReadableBytes { bytes in
            Self.parseClientLine(bytes, of: line, knownVerb: knownVerb, request: { .request($0) }, other: { $0 })
        }
    }

    /// Reads one line sent by a client, handing a request to `request` as it is built, and
    /// returning any other line (nil when it was a request). A server's hot path: a request
    /// wrapped in a `ClientLine` and taken out again was copied once and destroyed twice
    /// (docs/performance.md).
    ///
    /// - Parameter knownAuth: as `knownVerb`, for the `auth` token (the previous line's): a
    ///   caller sends one token with every request, and a new string of it costs an allocation.
    public static func parseClientLine(
        _ line: ByteBuffer, knownVerb: String?, knownAuth: String? = nil, request: (Request) -> Void
    ) -> ClientLine? {
        line.withUnsafeReadableBytes { bytes in
            Self.parseClientLine(
                bytes, of: line, knownVerb: knownVerb, knownAuth: knownAuth, request: { request($0); return ClientLine?.none },
                other: { Optional($0) }
            )
        }
    }

    private static func parseClientLine<Outcome>(
        _ bytes: UnsafeRawBufferPointer, of line: ByteBuffer, knownVerb: String?, knownAuth: String? = nil,
        request: (Request) -> Outcome, other: (ClientLine) -> Outcome
    ) -> Outcome {
        var cursor = Cursor(bytes)
        cursor.skipSpaces()
        if cursor.atEnd { return other(.empty) }

        let idRange = cursor.token()
        let id = cursor.string(idRange)
        if id == unsolicitedID {
            cursor.skipSpaces()
            let control = cursor.string(cursor.token())
            cursor.skipSpaces()
            if control == "pong" { return other(.pong) }
            return other(.invalid(id: nil, ConcordError(.badRequest, "a line with id '*' must be '* pong'", field: "id")))
        }
        guard Self.isValidID(cursor.view[idRange]) else {
            return other(.invalid(
                id: nil,
                ConcordError(
                    .badRequest,
                    "request id must be 1 to \(Self.maxIDLength) characters of letters, digits, '-', '_', '.', ':'; a line is: ID VERB [key=value ...] [JSON]",
                    field: "id"
                )
            ))
        }

        cursor.skipSpaces()
        let verbRange = cursor.token()
        guard !verbRange.isEmpty else {
            return other(.invalid(id: id, ConcordError(.badRequest, "missing verb after id '\(id)'", field: "verb")))
        }
        let verb: String
        if let knownVerb, Self.bytes(cursor.view[verbRange], equal: knownVerb) {
            verb = knownVerb
        } else {
            guard Self.isValidVerb(cursor.view[verbRange]) else {
                return other(.invalid(
                    id: id,
                    ConcordError(
                        .badRequest,
                        "verb must be lowercase dot-separated words like 'participants.sessions.list' (at most \(Self.maxVerbLength) bytes)",
                        field: "verb"
                    )
                ))
            }
            verb = cursor.string(verbRange)
        }

        var metadata = Metadata()
        var entries = 0
        var body = Request.emptyBody
        while true {
            cursor.skipSpaces()
            guard let next = cursor.peek else { break }
            if next == UInt8(ascii: "{") || next == UInt8(ascii: "[") {
                let bodyRange = cursor.rest()
                guard Self.isValidUTF8(cursor.view[bodyRange]) else {
                    return other(.invalid(id: id, ConcordError(.badRequest, "body is not valid UTF-8", field: "body")))
                }
                body = line.getSlice(at: line.readerIndex + bodyRange.lowerBound, length: bodyRange.count)!
                break
            }
            let tokenRange = cursor.token()
            entries += 1
            guard entries <= Self.maxMetadataEntries else {
                return other(.invalid(id: id, ConcordError(.badRequest, "more than \(Self.maxMetadataEntries) metadata entries", field: "metadata")))
            }
            if let error = Self.parseMetadata(cursor.view[tokenRange], into: &metadata, knownAuth: knownAuth) {
                return other(.invalid(id: id, error))
            }
        }
        return request(Request(id: id, verb: verb, metadata: metadata, body: body))
    }

    /// Reads one line sent by a server (no terminator).
    public static func parseServerLine(_ line: ByteBuffer) throws(ConcordError) -> ServerLine {
        let parsed = line.withUnsafeReadableBytes { bytes in Result { () throws(ConcordError) in try Self.parseServerLine(bytes, of: line) } }
        return try parsed.get()
    }

    private static func parseServerLine(_ bytes: UnsafeRawBufferPointer, of line: ByteBuffer) throws(ConcordError) -> ServerLine {
        var cursor = Cursor(bytes)
        let id = cursor.string(cursor.token())
        cursor.skipSpaces()
        let kind = cursor.string(cursor.token())
        cursor.skipSpaces()
        guard !id.isEmpty, !kind.isEmpty else {
            throw ConcordError(.badRequest, "server line without id and status")
        }
        switch kind {
        case "ok":
            let range = cursor.rest()
            let body = range.isEmpty ? Request.emptyBody : line.getSlice(at: line.readerIndex + range.lowerBound, length: range.count)!
            return .response(.ok(id, body))
        case "err":
            let codeText = cursor.string(cursor.token())
            cursor.skipSpaces()
            guard let code = ErrorCode(wire: codeText) else {
                throw ConcordError(.badRequest, "unknown error code '\(codeText)'")
            }
            let fields = JSONFields.strings(in: cursor.view[cursor.rest()])
            let error = ConcordError(
                code, fields["message"] ?? "", field: fields["field"], rule: Rule(fields: fields),
                unprocessed: fields["unprocessed"] == "true", retryAfterMs: fields["retryAfterMs"].flatMap { Int64($0) }
            )
            return .response(.error(id, error))
        case "more" where id != unsolicitedID:
            let range = cursor.rest()
            let body = range.isEmpty ? Request.emptyBody : line.getSlice(at: line.readerIndex + range.lowerBound, length: range.count)!
            return .item(id: id, body: body)
        default:
            guard id == unsolicitedID else {
                throw ConcordError(.badRequest, "expected 'ok', 'err' or 'more' after id '\(id)', got '\(kind)'")
            }
            let range = cursor.rest()
            let body = range.isEmpty ? Request.emptyBody : line.getSlice(at: line.readerIndex + range.lowerBound, length: range.count)!
            return .event(ServerEvent(name: .init(rawValue: kind), body: body))
        }
    }

    /// Reads the request id at the start of a line that could not be framed, if it is a valid id.
    public static func leadingID(_ prefix: ByteBuffer) -> String? {
        prefix.withUnsafeReadableBytes { bytes in
            var cursor = Cursor(bytes)
            cursor.skipSpaces()
            let range = cursor.token()
            guard !cursor.atEnd, Self.isValidID(cursor.view[range]) else { return nil }
            return cursor.string(range)
        }
    }

    // MARK: Writing

    /// Writes `request`, with `id` in place of its own when given (a client multiplexing
    /// calls gives each its wire id without copying the request), and with `relay`'s envelope
    /// in place of its own when passed on by a proxy (see `Metadata.Relay`).
    public static func write(_ request: Request, id: String? = nil, relay: Metadata.Relay? = nil, into buffer: inout ByteBuffer) {
        let id = id ?? request.id
        let metadata = request.metadata
        // The relay looked at once: each look copies it.
        let deadline: Int64?, trace: String?, auth: String?, actor: String?, role: String?
        switch relay {
        case .some(let relay):
            (deadline, trace, auth, actor, role) = (relay.deadlineMilliseconds, metadata.trace ?? relay.trace, nil, relay.actor, relay.actorRole)
        case .none:
            (deadline, trace, auth, actor, role) = (metadata.deadlineMilliseconds, metadata.trace, metadata.auth, metadata.actor, metadata.actorRole)
        }
        // Counted first, then written in one pass (`LineWriter`).
        var capacity = id.utf8.count + request.verb.utf8.count + request.body.readableBytes + 3
        if deadline != nil { capacity += 2 + Metadata.Key.deadline.utf8.count + LineWriter.maxDecimalLength }
        if let trace { capacity += LineWriter.entryLength(Metadata.Key.trace, trace) }
        if let key = metadata.idempotencyKey { capacity += LineWriter.entryLength(Metadata.Key.idempotencyKey, key) }
        if let auth { capacity += LineWriter.entryLength(Metadata.Key.auth, auth) }
        if let actor { capacity += LineWriter.entryLength(Metadata.Key.actor, actor) }
        if let role { capacity += LineWriter.entryLength(Metadata.Key.actorRole, role) }
        for entry in metadata.extensions { capacity += LineWriter.entryLength(entry.key, entry.value) }
        LineWriter.write(into: &buffer, capacity: capacity) { line in
            line.put(id)
            line.put(UInt8(ascii: " "))
            line.put(request.verb)
            if let deadline {
                line.put(UInt8(ascii: " "))
                line.put(Metadata.Key.deadline)
                line.put(UInt8(ascii: "="))
                line.putDecimal(UInt64(clamping: deadline))
            }
            if let trace { line.putEntry(Metadata.Key.trace, trace) }
            if let key = metadata.idempotencyKey { line.putEntry(Metadata.Key.idempotencyKey, key) }
            if let auth { line.putEntry(Metadata.Key.auth, auth) }
            if let actor { line.putEntry(Metadata.Key.actor, actor) }
            if let role { line.putEntry(Metadata.Key.actorRole, role) }
            for entry in metadata.extensions { line.putEntry(entry.key, entry.value) }
            line.put(UInt8(ascii: " "))
            line.put(request.body)
            line.put(UInt8(ascii: "\n"))
        }
    }

    public static func write(_ response: Response, into buffer: inout ByteBuffer) {
        Self.write(id: response.id, response.outcome, into: &buffer)
    }

    /// Writes the answer `outcome` to the request `id`, without building a `Response`.
    public static func write(id: String, _ outcome: Response.Outcome, into buffer: inout ByteBuffer) {
        switch outcome {
        case .ok(let body):
            // The common answer, in one pass (`LineWriter`).
            LineWriter.write(into: &buffer, capacity: id.utf8.count + body.readableBytes + 5) { line in
                line.put(id)
                line.put(" ok ")
                line.put(body)
                line.put(UInt8(ascii: "\n"))
            }
        case .error(let error):
            buffer.writeString(id)
            buffer.writeString(" err ")
            buffer.writeString(error.code.wire)
            buffer.writeString(" {\"message\":")
            JSONFields.writeString(error.message, into: &buffer)
            if let field = error.field {
                buffer.writeString(",\"field\":")
                JSONFields.writeString(field, into: &buffer)
            }
            if let rule = error.rule {
                buffer.writeString(",\"rule\":")
                JSONFields.writeString(rule.name, into: &buffer)
                for (key, value) in rule.fields {
                    buffer.writeInteger(UInt8(ascii: ","))
                    JSONFields.writeString(key, into: &buffer)
                    buffer.writeInteger(UInt8(ascii: ":"))
                    JSONFields.writeString(value, into: &buffer)
                }
            }
            if error.unprocessed {
                buffer.writeString(",\"unprocessed\":true")
            }
            if let retryAfterMs = error.retryAfterMs {
                buffer.writeString(",\"retryAfterMs\":\(retryAfterMs)")
            }
            buffer.writeInteger(UInt8(ascii: "}"))
            buffer.writeInteger(UInt8(ascii: "\n"))
        }
    }

    public static func write(_ event: ServerEvent, into buffer: inout ByteBuffer) {
        buffer.writeString(unsolicitedID)
        buffer.writeInteger(UInt8(ascii: " "))
        buffer.writeString(event.name.rawValue)
        buffer.writeInteger(UInt8(ascii: " "))
        var body = event.body
        buffer.writeBuffer(&body)
        buffer.writeInteger(UInt8(ascii: "\n"))
    }

    /// `ID more BODY`: an item of the streaming request `id`.
    public static func writeItem(id: String, body: ByteBuffer, into buffer: inout ByteBuffer) {
        buffer.writeString(id)
        buffer.writeString(" more ")
        var body = body
        buffer.writeBuffer(&body)
        buffer.writeInteger(UInt8(ascii: "\n"))
    }

    public static func writePong(into buffer: inout ByteBuffer) {
        buffer.writeString("* pong\n")
    }

    // MARK: Grammar

    public static func isValidID(_ bytes: some Collection<UInt8>) -> Bool {
        guard !bytes.isEmpty, bytes.count <= Self.maxIDLength else { return false }
        return bytes.allSatisfy { byte in
            Self.isAlphanumeric(byte) || byte == UInt8(ascii: "-") || byte == UInt8(ascii: "_")
                || byte == UInt8(ascii: ".") || byte == UInt8(ascii: ":")
        }
    }

    public static func isValidVerb(_ bytes: some Collection<UInt8>) -> Bool {
        guard !bytes.isEmpty, bytes.count <= Self.maxVerbLength else { return false }
        var atSegmentStart = true
        for byte in bytes {
            if atSegmentStart {
                guard byte >= UInt8(ascii: "a"), byte <= UInt8(ascii: "z") else { return false }
                atSegmentStart = false
            } else if byte == UInt8(ascii: ".") {
                atSegmentStart = true
            } else {
                guard Self.isLowerOrDigit(byte) || byte == UInt8(ascii: "_") || byte == UInt8(ascii: "-") else { return false }
            }
        }
        return !atSegmentStart
    }

    private static func parseMetadata(
        _ token: Slice<UnsafeRawBufferPointer>, into metadata: inout Metadata, knownAuth: String?
    ) -> ConcordError? {
        guard let equals = token.firstIndex(of: UInt8(ascii: "=")), equals != token.startIndex else {
            let text = String(decoding: token.prefix(40), as: UTF8.self)
            return ConcordError(.badRequest, "expected key=value metadata or a JSON body starting with '{', got '\(text)'", field: "metadata")
        }
        let keyBytes = token[..<equals]
        let valueBytes = token[(equals + 1)...]
        guard keyBytes.count <= 32, keyBytes.allSatisfy({ Self.isLowerOrDigit($0) || $0 == UInt8(ascii: "-") }) else {
            return ConcordError(.badRequest, "metadata keys are lowercase letters, digits and '-'", field: "metadata")
        }
        let key = String(decoding: keyBytes, as: UTF8.self)
        guard !valueBytes.isEmpty, valueBytes.count <= Self.maxMetadataValueLength,
            valueBytes.allSatisfy({ $0 > 0x20 && $0 < 0x7F })
        else {
            return ConcordError(
                .badRequest,
                "metadata '\(key)' needs a value of 1 to \(Self.maxMetadataValueLength) visible ASCII characters",
                field: "metadata.\(key)"
            )
        }
        var value: String { String(decoding: valueBytes, as: UTF8.self) }
        switch key {
        case Metadata.Key.deadline:
            guard valueBytes.count <= 10, let milliseconds = Int64(value), milliseconds > 0 else {
                return ConcordError(.badRequest, "deadline is a positive number of milliseconds, e.g. deadline=2000", field: "metadata.deadline")
            }
            metadata.deadlineMilliseconds = milliseconds
        case Metadata.Key.trace: metadata.trace = value
        case Metadata.Key.idempotencyKey: metadata.idempotencyKey = value
        case Metadata.Key.auth:
            if let knownAuth, Self.bytes(valueBytes, equal: knownAuth) {
                metadata.auth = knownAuth
            } else {
                metadata.auth = value
            }
        case Metadata.Key.actor: metadata.actor = value
        case Metadata.Key.actorRole: metadata.actorRole = value
        default: metadata.extensions.append(.init(key: key, value: value))
        }
        return nil
    }

    private static func bytes(_ bytes: Slice<UnsafeRawBufferPointer>, equal string: String) -> Bool {
        guard string.utf8.count == bytes.count else { return false }
        var string = string
        return string.withUTF8 { stored in
            guard let a = stored.baseAddress, let b = UnsafeRawBufferPointer(rebasing: bytes).baseAddress else { return stored.isEmpty }
            return memcmp(a, b, stored.count) == 0
        }
    }

    /// Writes a number as its decimal digits, as a client writes the ids it counts up.
    public static func writeDecimal(_ value: UInt64, into buffer: inout ByteBuffer) {
        LineWriter.write(into: &buffer, capacity: LineWriter.maxDecimalLength) { $0.putDecimal(value) }
    }

    static func isValidUTF8(_ bytes: some Collection<UInt8>) -> Bool {
        if bytes.allSatisfy({ $0 < 0x80 }) { return true }
        return String(validating: bytes, as: UTF8.self) != nil
    }

    private static func isAlphanumeric(_ byte: UInt8) -> Bool {
        Self.isLowerOrDigit(byte) || (byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z"))
    }

    private static func isLowerOrDigit(_ byte: UInt8) -> Bool {
        (byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "z")) || (byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9"))
    }
}

/// A forward-only reader over the bytes of one line; offsets are from the line's first byte.
/// Lives only inside `withUnsafeReadableBytes`.
struct Cursor {
    let view: UnsafeRawBufferPointer
    var index: Int

    init(_ bytes: UnsafeRawBufferPointer) {
        self.view = bytes
        self.index = 0
    }

    var atEnd: Bool { self.index >= self.view.endIndex }
    var peek: UInt8? { self.atEnd ? nil : self.view[self.index] }

    mutating func skipSpaces() {
        while let byte = self.peek, byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t") {
            self.index += 1
        }
    }

    /// The bytes up to the next space or the end of the line.
    mutating func token() -> Range<Int> {
        let start = self.index
        while let byte = self.peek, byte != UInt8(ascii: " "), byte != UInt8(ascii: "\t") {
            self.index += 1
        }
        return start..<self.index
    }

    /// Everything left, without trailing spaces.
    mutating func rest() -> Range<Int> {
        let start = self.index
        var end = self.view.endIndex
        while end > start, self.view[end - 1] == UInt8(ascii: " ") || self.view[end - 1] == UInt8(ascii: "\t") {
            end -= 1
        }
        self.index = self.view.endIndex
        return start..<end
    }

    func string(_ range: Range<Int>) -> String {
        String(decoding: self.view[range], as: UTF8.self)
    }
}
