/// An empty JSON object, for verbs that take or return nothing.
public struct Empty: Codable, Sendable, Hashable {
    public init() {}
}
