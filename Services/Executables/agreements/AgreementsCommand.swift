import ArgumentParser
import Agreements

@main
struct AgreementsCommand: AsyncParsableCommand {
    static let configuration = AgreementsService.commandConfiguration
}
