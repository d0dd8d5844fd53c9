import ArgumentParser
import ConcordDataService

@main
struct AgreementsCommand: AsyncParsableCommand {
    static let configuration = Agreements.commandConfiguration
}
