import ArgumentParser

@main
struct ConcordCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "concord",
        abstract: "Run, call and measure Concord, the secretariat's system for the interregional committee.",
        subcommands: [UpCommand.self, CallCommand.self, SessionsCommand.self, AttendeesCommand.self, RegionsCommand.self, InstrumentsCommand.self, ActionsCommand.self, ObstaclesCommand.self, FollowUpCommand.self, TradeCommand.self, BriefCommand.self, TokensCommand.self, UsersCommand.self, DoctorCommand.self, CertsCommand.self, BenchCommand.self, ReferenceProxyCommand.self, SoakLoadCommand.self, WatchCommand.self, DigestCommand.self]
    )
}
