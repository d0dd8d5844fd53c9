import ConcordFields
import ConcordProtocol
import ConcordStorage
import NIOCore
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Reading the common parts of record verbs' bodies, each error naming its field.
public enum RecordBody {
    public static let defaultLimit = 50
    public static let maximumLimit = 500

    public static func decodeObject(_ body: ByteBuffer) throws(ConcordError) -> JSONObject {
        do {
            return try JSONBody.decode(JSONObject.self, from: body)
        } catch let error as DecodingError {
            throw ConcordError(decoding: error)
        } catch {
            throw ConcordError(.badRequest, "body is not a JSON object", field: "body", rule: .type(expected: .object))
        }
    }

    /// Decodes client-supplied fields, naming the field at fault and refusing unknown ones.
    public static func record<Record: StoredRecord>(_ type: Record.Type, from object: JSONObject) throws(ConcordError) -> Record {
        try Self.checkFieldNames(Record.self, in: object)
        do {
            let data = try JSONEncoder().encode(object)
            return try JSONDecoder().decode(Record.self, from: data)
        } catch let error as DecodingError {
            throw ConcordError(decoding: error)
        } catch {
            throw ConcordError(.badRequest, "body could not be read as a \(Record.noun): \(error)", field: "body")
        }
    }

    /// Refuses fields the record does not have, so a misspelt field is an error, not silently dropped.
    public static func checkFieldNames<Record: StoredRecord>(_ type: Record.Type, in object: JSONObject) throws(ConcordError) {
        if let field = Set(object.keys).subtracting(Record.fieldNames).sorted().first {
            throw ConcordError(
                .badRequest,
                "unknown field '\(field)' for a \(Record.noun); known fields: \(Record.fieldNames.sorted().joined(separator: ", "))",
                field: field
            )
        }
    }

    /// Refuses fields a verb does not take, naming the first and listing the rest.
    public static func checkFields(_ body: JSONObject, allowed: Set<String>) throws(ConcordError) {
        if let field = Set(body.keys).subtracting(allowed).sorted().first {
            throw ConcordError(.badRequest, "unknown field '\(field)'; this verb takes \(allowed.sorted().joined(separator: ", "))", field: field,
                rule: .unknownField(allowed: allowed.sorted()))
        }
    }

    /// The record key the body names, in stored form.
    public static func key<Record: StoredRecord>(_ type: Record.Type, in body: JSONObject) throws(ConcordError) -> SQLValue {
        switch body[Record.keyField] {
        case .integer(let value)? where Record.keyIsInteger:
            return .integer(value)
        case .string(let text)? where !Record.keyIsInteger && !text.isEmpty:
            return .text(Record.normaliseKey(text))
        case nil, .null?:
            throw ConcordError(.badRequest, "\(Record.keyField) is required to name the \(Record.noun)", field: Record.keyField, rule: .required)
        case .string(let text)? where text.isEmpty && !Record.keyIsInteger:
            throw ConcordError(.badRequest, "\(Record.keyField) must be a non-empty string", field: Record.keyField, rule: .empty)
        default:
            throw ConcordError(
                .badRequest, "\(Record.keyField) must be \(Record.keyIsInteger ? "an integer" : "a non-empty string")", field: Record.keyField,
                rule: .type(expected: Record.keyIsInteger ? .integer : .string)
            )
        }
    }

    /// The `version` a write names: required for an update, optional for a delete.
    public static func version(in body: JSONObject, required: Bool) throws(ConcordError) -> Int64? {
        switch body["version"] {
        case .integer(let value)?: return value
        case nil, .null?:
            guard !required else {
                throw ConcordError(.badRequest, "version is required: the version you read, so a stale update is refused", field: "version", rule: .required)
            }
            return nil
        default: throw ConcordError(.badRequest, "version must be an integer", field: "version", rule: .type(expected: .integer))
        }
    }

    public static func limit(in body: JSONObject) throws(ConcordError) -> Int {
        switch body["limit"] {
        case nil, .null?: return Self.defaultLimit
        case .integer(let value)? where (1...Int64(Self.maximumLimit)).contains(value): return Int(value)
        case .integer(let value)?:
            throw ConcordError(
                .badRequest, "limit must be an integer from 1 to \(Self.maximumLimit)", field: "limit",
                rule: .range(low: "1", high: String(Self.maximumLimit), got: String(value))
            )
        default: throw ConcordError(.badRequest, "limit must be an integer from 1 to \(Self.maximumLimit)", field: "limit", rule: .type(expected: .integer))
        }
    }

    public static func cursor(in body: JSONObject, integerKey: Bool) throws(ConcordError) -> SQLValue? {
        switch body["cursor"] {
        case nil, .null?: return nil
        case .string(let text)?: return try Cursor.decode(text, integerKey: integerKey)
        default: throw ConcordError(.badRequest, "cursor must be the nextCursor string of the previous page", field: "cursor")
        }
    }

    /// An optional full date field (YYYY-MM-DD), as written: a month or a year alone is refused.
    public static func day(_ field: String, in body: JSONObject) throws(ConcordError) -> String? {
        guard let text = try Self.string(field, in: body) else { return nil }
        let date = try PartialDate(parsing: text, field: field)
        guard date.day != nil else {
            throw ConcordError(.badRequest, "\(field) must be a full date, YYYY-MM-DD; got '\(text)'", field: field, rule: .form(.day, got: text))
        }
        return date.description
    }

    /// An optional string field.
    public static func string(_ field: String, in body: JSONObject) throws(ConcordError) -> String? {
        switch body[field] {
        case nil, .null?: return nil
        case .string(let text)?: return text
        default: throw ConcordError(.badRequest, "\(field) must be a string", field: field, rule: .type(expected: .string))
        }
    }
}
