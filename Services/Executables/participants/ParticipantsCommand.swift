import ArgumentParser
import Participants

@main
struct ParticipantsCommand: AsyncParsableCommand {
    static let configuration = ParticipantsService.commandConfiguration
}
