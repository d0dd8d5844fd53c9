/// What `SERVICE.references.named` and `SERVICE.references.dangling` answer, a record of another
/// service named here: the data service writes it, `concord doctor` reads it.
public struct NamedRecord: Codable, Sendable, Hashable {
    public var service: String
    public var kind: String
    public var key: String
    /// How many records here name it.
    public var holders: Int64

    public init(service: String, kind: String, key: String, holders: Int64) {
        (self.service, self.kind, self.key, self.holders) = (service, kind, key, holders)
    }
}
