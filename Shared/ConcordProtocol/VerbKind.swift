/// What a verb does to the service's data, declared by the service that registers it. The
/// gateway learns it (the `verbs` built-in) and uses it for roles and for retry safety; a peer
/// policy uses it for what a certificate may call. Nobody guesses it from a verb's name.
public enum VerbKind: String, Sendable, Hashable, Codable, CaseIterable {
    /// Changes nothing: safe to send again, and open to readers.
    case read
    /// May change data: needs a writer's role, and is repeated only with an idempotency key.
    case write
    /// The protocol's own verbs (`ping`, `health`, `ready`, `hello`, `verbs`): open to every
    /// authenticated peer, and safe to repeat.
    case builtin
}

/// The answer of the `verbs` built-in: every verb a server serves, with its kind.
public struct VerbCatalogue: Codable, Sendable, Hashable {
    public var service: String
    public var verbs: [String: VerbKind]

    public init(service: String, verbs: [String: VerbKind]) {
        self.service = service
        self.verbs = verbs
    }
}
