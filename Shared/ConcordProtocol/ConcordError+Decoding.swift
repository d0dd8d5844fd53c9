extension ConcordError {
    /// A `bad_request` that names the body field at fault and what was wrong with it.
    public init(decoding error: DecodingError) {
        func path(_ codingPath: [any CodingKey]) -> String {
            (["body"] + codingPath.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }).joined(separator: ".")
        }
        switch error {
        case .keyNotFound(let key, let context):
            let field = path(context.codingPath + [key])
            self.init(.badRequest, "missing required field '\(field)'", field: field)
        case .typeMismatch(let type, let context):
            let field = path(context.codingPath)
            self.init(.badRequest, "field '\(field)' must be \(Self.describe(type))", field: field)
        case .valueNotFound(let type, let context):
            let field = path(context.codingPath)
            self.init(.badRequest, "field '\(field)' must be \(Self.describe(type)), not null", field: field)
        case .dataCorrupted(let context):
            if context.codingPath.isEmpty {
                self.init(.badRequest, "body is not valid JSON", field: "body")
            } else {
                let field = path(context.codingPath)
                self.init(.badRequest, "field '\(field)': \(context.debugDescription)", field: field)
            }
        @unknown default:
            self.init(.badRequest, "body could not be decoded", field: "body")
        }
    }

    private static func describe(_ type: Any.Type) -> String {
        switch type {
        case is String.Type: "a string"
        case is Int.Type, is Int64.Type, is Int32.Type: "an integer"
        case is Double.Type, is Float.Type: "a number"
        case is Bool.Type: "true or false"
        default:
            String(describing: type).hasPrefix("Array") ? "an array" : "an object"
        }
    }
}
