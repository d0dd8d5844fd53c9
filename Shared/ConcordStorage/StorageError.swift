/// What went wrong in the store, as data. The code is stable; the message is for people.
public struct StorageError: Error, Sendable, Hashable, CustomStringConvertible {
    public struct Code: Sendable, Hashable, CustomStringConvertible {
        private enum Base: String, Sendable, Hashable {
            case uniqueViolation = "unique_violation"
            case foreignKeyViolation = "foreign_key_violation"
            case unavailable
            case configuration
            case migration
            case corrupt
            case failed
        }

        private let base: Base
        private init(_ base: Base) { self.base = base }

        /// A row with the same key or unique value already exists.
        public static let uniqueViolation = Self(.uniqueViolation)
        /// A row refers to one that does not exist, or a referenced row would be removed.
        public static let foreignKeyViolation = Self(.foreignKeyViolation)
        /// The engine cannot be reached, or is shutting down.
        public static let unavailable = Self(.unavailable)
        /// The database setting is malformed.
        public static let configuration = Self(.configuration)
        /// A migration could not be applied.
        public static let migration = Self(.migration)
        /// Stored data does not have the expected shape.
        public static let corrupt = Self(.corrupt)
        /// Any other failure reported by the engine.
        public static let failed = Self(.failed)

        public var description: String { self.base.rawValue }
    }

    public var code: Code
    public var message: String
    /// The constraint or column the engine named, when it named one.
    public var constraint: String?

    public init(_ code: Code, _ message: String, constraint: String? = nil) {
        (self.code, self.message, self.constraint) = (code, message, constraint)
    }

    public var description: String { "\(self.code): \(self.message)" }
}
