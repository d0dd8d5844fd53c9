/// What a batch import did (`trade.import`): records created, and records already there with the
/// same content. The store returns it; the CLI's importer adds up the batches.
public struct ImportOutcome: Codable, Sendable, Equatable {
    public var created: Int
    public var present: Int

    public init(created: Int, present: Int) {
        self.created = created
        self.present = present
    }
}
