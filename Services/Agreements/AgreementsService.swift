import ArgumentParser
import ConcordDataService
import ConcordRecords

/// What the `agreements` executable, and the fuzz targets, see of this module.
public enum AgreementsService {
    /// `agreements`'s command line: serve (the default), seed, health, ready.
    public static var commandConfiguration: CommandConfiguration { Agreements.commandConfiguration }
    /// The record kinds it keeps.
    public static var kinds: [any StoredRecord.Type] { Agreements.kinds }
}
