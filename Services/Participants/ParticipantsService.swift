import ArgumentParser
import ConcordDataService
import ConcordRecords

/// What the `participants` executable, and the fuzz targets, see of this module.
public enum ParticipantsService {
    /// `participants`'s command line: serve (the default), seed, health, ready.
    public static var commandConfiguration: CommandConfiguration { Participants.commandConfiguration }
    /// The record kinds it keeps.
    public static var kinds: [any StoredRecord.Type] { Participants.kinds }
}
