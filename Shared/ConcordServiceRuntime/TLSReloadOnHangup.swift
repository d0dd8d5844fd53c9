import ConcordTLS
import Logging
import ServiceLifecycle
import UnixSignals

/// Rebuilds every TLS context of the process from its files on SIGHUP, and logs what each now
/// uses. Contexts also rebuild by themselves when their files change (``ReloadingTLSContext``);
/// SIGHUP is for an operator who wants it now and a line in the log saying so.
struct TLSReloadOnHangup: Service {
    let logger: Logger

    func run() async throws {
        for await _ in await UnixSignalsSequence(trapping: .sighup).cancelOnGracefulShutdown() {
            for line in ReloadingTLSContext.reloadAll() {
                self.logger.notice("SIGHUP: TLS identity", metadata: ["result": "\(line)"])
            }
        }
    }
}
