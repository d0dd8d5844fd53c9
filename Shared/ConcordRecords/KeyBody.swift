import ConcordProtocol
import ConcordStorage
import NIOCore

/// The body of a get, `{"<keyField>": KEY}`, decoded straight to the key: the hot read decodes
/// one string or integer, not a tree of `JSONValue`s (whose decoder tries each JSON type in
/// turn and builds an error for every miss).
struct KeyBody<Record: StoredRecord>: Decodable {
    let key: SQLValue

    private struct FieldName: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: FieldName.self)
        if let other = container.allKeys.first(where: { $0.stringValue != Record.keyField }) {
            throw ConcordError(.badRequest, "unknown field '\(other.stringValue)'; this verb takes \(Record.keyField)", field: other.stringValue)
        }
        let field = FieldName(stringValue: Record.keyField)
        guard container.contains(field), !(try container.decodeNil(forKey: field)) else {
            throw ConcordError(.badRequest, "\(Record.keyField) is required to name the \(Record.noun)", field: Record.keyField)
        }
        let wrongType = ConcordError(
            .badRequest, "\(Record.keyField) must be \(Record.keyIsInteger ? "an integer" : "a non-empty string")", field: Record.keyField
        )
        if Record.keyIsInteger {
            guard let value = try? container.decode(Int64.self, forKey: field) else { throw wrongType }
            self.key = .integer(value)
        } else {
            guard let text = try? container.decode(String.self, forKey: field), !text.isEmpty else { throw wrongType }
            self.key = .text(Record.normaliseKey(text))
        }
    }

    /// The key a get body names, each fault a `bad_request` naming its field.
    static func key(in body: ByteBuffer) throws(ConcordError) -> SQLValue {
        if let key = Self.plainKey(in: body) { return key }
        do {
            return try JSONBody.decode(KeyBody<Record>.self, from: body).key
        } catch let error as ConcordError {
            throw error
        } catch let error as DecodingError {
            throw ConcordError(decoding: error)
        } catch {
            throw ConcordError(.badRequest, "body is not a JSON object", field: "body")
        }
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
