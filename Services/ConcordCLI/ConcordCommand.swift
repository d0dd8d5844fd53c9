import ArgumentParser

@main
struct ConcordCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "concord",
        abstract: "Run, call and measure Concord, the secretariat's system for the interregional committee.",
        subcommands: [UpCommand.self, CallCommand.self, SessionsCommand.self, AttendeesCommand.self, RegionsCommand.self, InstrumentsCommand.self, ActionsCommand.self, ObstaclesCommand.self, FollowUpCommand.self, TradeCommand.self, BriefCommand.self, TokensCommand.self, UsersCommand.self, DoctorCommand.self, CertsCommand.self, BenchCommand.self, ReferenceProxyCommand.self, SoakLoadCommand.self, WatchCommand.self, DigestCommand.self]
    )

    /// ArgumentParser's `main`, with its usage errors said in the reader's language (`--lang`,
    /// CONCORD_LANG, the locale) where that is not English. Help, `ExitCode` and everything
    /// else are ArgumentParser's, unchanged.
    static func main() async {
        do {
            var command = try await Self.asyncParseAsRoot(nil)
            if var asyncCommand = command as? any AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch {
            let words = LanguageOptions.words(arguments: CommandLine.arguments)
            guard words.language != .en, !(error is ExitCode), Self.exitCode(for: error) == .validationFailure else {
                Self.exit(withError: error)
            }
            complain(UsageErrors.said(Self.fullMessage(for: error), words: words))
            Self.exit(withError: ExitCode.validationFailure)
        }
    }
}
