import ConcordProtocol
import ConcordStorage
import NIOCore

/// The body of a get, `{"<keyField>": KEY}`, read straight to the key on the hot path; anything
/// else goes through the same decoding and rules as every other record verb (`RecordBody`).
public enum KeyBody<Record: StoredRecord> {
    /// The key a get body names, each fault a `bad_request` naming its field.
    public static func key(in body: ByteBuffer) throws(ConcordError) -> SQLValue {
        if let key = Self.plainKey(in: body) { return key }
        let object = try RecordBody.decodeObject(body)
        try RecordBody.checkFields(object, allowed: [Record.keyField])
        return try RecordBody.key(Record.self, in: object)
    }

    /// The common body, `{"KEYFIELD":"text"}` or `{"KEYFIELD":123}` with optional spaces and a
    /// string without escapes, read without a JSON decoder; anything else (escapes, other
    /// fields, errors) returns nil and takes the decoder's path, which gives every error its
    /// message. Hand-written because Foundation's JSONDecoder cost about as much as the rest of a
    /// get: with it, 116k gets/s at 50 connections 16 deep on SQLite; with this, 243k
    /// (`scripts/bench-participants.sh`, one run each, docs/records.md). ASCII keys only; any
    /// other byte takes the decoder's path.
    static func plainKey(in body: ByteBuffer) -> SQLValue? {
        body.withUnsafeReadableBytes { bytes -> SQLValue? in
            var index = 0
            func skipSpaces() {
                while index < bytes.count, bytes[index] == UInt8(ascii: " ") || bytes[index] == UInt8(ascii: "\t") { index += 1 }
            }
            func expect(_ byte: UInt8) -> Bool {
                skipSpaces()
                guard index < bytes.count, bytes[index] == byte else { return false }
                index += 1
                return true
            }
            guard expect(UInt8(ascii: "{")), expect(UInt8(ascii: "\"")) else { return nil }
            for byte in Record.keyField.utf8 {
                guard index < bytes.count, bytes[index] == byte else { return nil }
                index += 1
            }
            guard index < bytes.count, bytes[index] == UInt8(ascii: "\""), { index += 1; return true }(), expect(UInt8(ascii: ":")) else {
                return nil
            }
            skipSpaces()
            let key: SQLValue
            if Record.keyIsInteger {
                let start = index
                while index < bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[index]) { index += 1 }
                guard index > start, index - start <= 18,
                      let value = Int64(String(decoding: UnsafeRawBufferPointer(rebasing: bytes[start..<index]), as: UTF8.self))
                else { return nil }
                key = .integer(value)
            } else {
                guard index < bytes.count, bytes[index] == UInt8(ascii: "\"") else { return nil }
                index += 1
                let start = index
                while index < bytes.count, bytes[index] != UInt8(ascii: "\""), bytes[index] != UInt8(ascii: "\\"), (0x20..<0x80).contains(bytes[index]) {
                    index += 1
                }
                guard index < bytes.count, bytes[index] == UInt8(ascii: "\""), index > start else { return nil }
                let text = String(decoding: UnsafeRawBufferPointer(rebasing: bytes[start..<index]), as: UTF8.self)
                index += 1
                key = .text(Record.normaliseKey(text))
            }
            guard expect(UInt8(ascii: "}")) else { return nil }
            skipSpaces()
            return index == bytes.count ? key : nil
        }
    }
}
