extension ConcordError {
    /// A `bad_request` that names the body field at fault and what was wrong with it.
    public init(decoding error: DecodingError) {
        func path(_ codingPath: [any CodingKey]) -> String {
            (["body"] + codingPath.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }).joined(separator: ".")
        }
        switch error {
        case .keyNotFound(let key, let context):
            let field = path(context.codingPath + [key])
            self.init(.badRequest, "missing required field '\(field)'", field: field, rule: .required)
        case .typeMismatch(let type, let context):
            let field = path(context.codingPath)
            self.init(.badRequest, "field '\(field)' must be \(Self.describe(type))", field: field, rule: .type(expected: Self.valueType(type)))
        case .valueNotFound(let type, let context):
            let field = path(context.codingPath)
            self.init(.badRequest, "field '\(field)' must be \(Self.describe(type)), not null", field: field, rule: .type(expected: Self.valueType(type)))
        case .dataCorrupted(let context):
            if context.codingPath.isEmpty {
                self.init(.badRequest, "body is not valid JSON", field: "body", rule: .json)
            } else {
                let field = path(context.codingPath)
                self.init(.badRequest, "field '\(field)': \(context.debugDescription)", field: field)
            }
        @unknown default:
            self.init(.badRequest, "body could not be decoded", field: "body")
        }
    }

    private static func describe(_ type: Any.Type) -> String {
        switch Self.valueType(type) {
        case .string: "a string"
        case .integer: "an integer"
        case .number: "a number"
        case .boolean: "true or false"
        case .array: "an array"
        case .object: "an object"
        }
    }

    private static func valueType(_ type: Any.Type) -> Rule.ValueType {
        switch type {
        case is String.Type: .string
        case is Int.Type, is Int64.Type, is Int32.Type: .integer
        case is Double.Type, is Float.Type: .number
        case is Bool.Type: .boolean
        default: String(describing: type).hasPrefix("Array") ? .array : .object
        }
    }
}
