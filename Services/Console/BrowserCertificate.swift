import ConcordTLS
#if canImport(Glibc)
import Glibc
#endif
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOSSL
import ServiceLifecycle
import UnixSignals

/// The certificate the console shows browsers, read again when its files change: each TLS
/// hello asks for it (`sslContextCallback`), which compares the files' modification times with
/// those it was read at. A certificate written before its key fails to load and the previous
/// pair stays until both are read together, so a rotation never leaves the console without one.
final class BrowserCertificate: Sendable {
    let certificatePath: String
    let keyPath: String
    private struct Loaded {
        var chain: [NIOSSLCertificate]
        var key: NIOSSLPrivateKey
        var stamp: [Int]
        var serial: String
    }

    private let loaded: NIOLockedValueBox<Loaded>

    init(certificate: String, key: String) throws {
        self.certificatePath = certificate
        self.keyPath = key
        self.loaded = NIOLockedValueBox(try Self.load(certificate, key))
    }

    static func stamp(_ paths: String...) -> [Int] {
        paths.flatMap { path -> [Int] in
            var info = stat()
            guard stat(path, &info) == 0 else { return [0, 0] }
            return [Int(info.st_mtim.tv_sec) * 1_000_000_000 + Int(info.st_mtim.tv_nsec), Int(info.st_ino)]
        }
    }

    private static func load(_ certificate: String, _ key: String) throws -> Loaded {
        let stamp = Self.stamp(certificate, key)
        let chain = try NIOSSLCertificate.fromPEMFile(certificate)
        let privateKey = try NIOSSLPrivateKey(file: key, format: .pem)
        guard let first = chain.first else { throw NIOSSLError.failedToLoadCertificate }
        // The key must be the certificate's: a half-rotated pair is not taken.
        _ = try NIOSSLContext(configuration: .makeServerConfiguration(certificateChain: chain.map { .certificate($0) }, privateKey: .privateKey(privateKey)))
        return Loaded(chain: chain, key: privateKey, stamp: stamp, serial: ReloadingTLSContext.serial(of: first) ?? "?")
    }

    /// The pair to present now: read again when a file moved, else the one held.
    func current(force: Bool = false) -> (override: NIOSSLContextConfigurationOverride, serial: String, reloaded: Bool) {
        self.loaded.withLockedValue { loaded in
            var reloaded = false
            if force || Self.stamp(self.certificatePath, self.keyPath) != loaded.stamp, let fresh = try? Self.load(self.certificatePath, self.keyPath) {
                reloaded = fresh.serial != loaded.serial
                loaded = fresh
            }
            var override = NIOSSLContextConfigurationOverride()
            override.certificateChain = loaded.chain.map { .certificate($0) }
            override.privateKey = .privateKey(loaded.key)
            return (override, loaded.serial, reloaded)
        }
    }

    /// The server's TLS configuration: the pair read at start, and the callback that swaps in a
    /// newer one at each handshake.
    func configuration() -> TLSConfiguration {
        let (override, _, _) = self.current()
        var configuration = TLSConfiguration.makeServerConfiguration(certificateChain: override.certificateChain ?? [], privateKey: override.privateKey!)
        configuration.sslContextCallback = { [self] _, promise in
            promise.succeed(self.current().override)
        }
        return configuration
    }
}

/// SIGHUP: the console reads its certificates again now (the one browsers see, and the one it
/// presents to the gateway), and logs what each now is.
struct ReloadOnHangup: Service {
    let browser: BrowserCertificate
    let logger: Logger

    func run() async throws {
        for await _ in await UnixSignalsSequence(trapping: .sighup).cancelOnGracefulShutdown() {
            let (_, serial, _) = self.browser.current(force: true)
            self.logger.notice("SIGHUP: TLS identity", metadata: ["result": "browsers: \(self.browser.certificatePath) serial \(serial)"])
            for line in ReloadingTLSContext.reloadAll() {
                self.logger.notice("SIGHUP: TLS identity", metadata: ["result": "\(line)"])
            }
        }
    }
}
