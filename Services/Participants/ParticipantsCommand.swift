import ArgumentParser
import ConcordDataService

@main
struct ParticipantsCommand: AsyncParsableCommand {
    static let configuration = Participants.commandConfiguration
}
