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
}
