import CoreMetrics
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Logging
import NIOConcurrencyHelpers
import NIOSSL
import X509

/// The TLS context of one identity, rebuilt when its files change: what lets certificates rotate
/// without a restart.
///
/// Every new connection asks for ``current()``, which compares the files' fingerprints (device,
/// inode, size, modification and change times: one `stat` each) with those the context was built from and
/// rebuilds it when one moved. Connections already open keep the context they started with.
/// A rebuild that fails (a certificate written before its key, a half-copied file) keeps the
/// previous context and is tried again once the files change again (or on SIGHUP), so a
/// rotation never leaves a process without an identity. SIGHUP forces a rebuild of every context (``reloadAll()``).
///
/// Contexts are shared per identity and role within a process (``server(_:peerAuthentication:)``,
/// ``client(_:)``): every client of one pool uses one context.
public final class ReloadingTLSContext: Sendable {
    public enum Role: Hashable, Sendable, CustomStringConvertible {
        case server(PeerAuthentication)
        case client

        public var description: String {
            switch self {
            case .server: "server"
            case .client: "client"
            }
        }
    }

    public let identity: TLSIdentity
    public let role: Role
    private let state: NIOLockedValueBox<State>

    private struct State {
        var context: NIOSSLContext
        var revoked: RevocationList
        var fingerprint: [FileFingerprint?]
        /// The fingerprint of the last rebuild that failed: it is not retried until the files move again.
        var failedFingerprint: [FileFingerprint?]?
        var certificateSerial: String?
    }

    static let logger = Logger(label: "concord.tls")
    private static let reloadsOK = Counter(label: "concord_tls_reloads_total", dimensions: [("result", "ok")])
    private static let reloadsFailed = Counter(label: "concord_tls_reloads_total", dimensions: [("result", "failed")])

    /// When the certificate it presents expires, as a gauge (seconds since 1970) an alert can
    /// watch: `concord_tls_certificate_expiry_timestamp_seconds{certificate,role}`.
    private static func recordExpiry(of identity: TLSIdentity, role: Role, notValidAfter: Int?) {
        guard let notValidAfter, let path = identity.certificatePath else { return }
        let file = path.split(separator: "/").last.map(String.init) ?? path
        Gauge(label: "concord_tls_certificate_expiry_timestamp_seconds", dimensions: [("certificate", file), ("role", "\(role)")])
            .record(notValidAfter)
    }

    private init(identity: TLSIdentity, role: Role) throws {
        self.identity = identity
        self.role = role
        let fingerprint = Self.fingerprint(of: identity)
        let (context, revoked, serial, notValidAfter) = try Self.build(identity: identity, role: role)
        self.state = NIOLockedValueBox(State(context: context, revoked: revoked, fingerprint: fingerprint, certificateSerial: serial))
        Self.recordExpiry(of: identity, role: role, notValidAfter: notValidAfter)
    }

    // MARK: Shared per process

    private struct Key: Hashable {
        var identity: TLSIdentity
        var role: Role
    }

    private static let registry = NIOLockedValueBox<[Key: ReloadingTLSContext]>([:])

    /// The context a server with this identity accepts connections with.
    public static func server(_ identity: TLSIdentity, peerAuthentication: PeerAuthentication) throws -> ReloadingTLSContext {
        try Self.shared(Key(identity: identity, role: .server(peerAuthentication)))
    }

    /// The context a client with this identity connects with.
    public static func client(_ identity: TLSIdentity) throws -> ReloadingTLSContext {
        try Self.shared(Key(identity: identity, role: .client))
    }

    private static func shared(_ key: Key) throws -> ReloadingTLSContext {
        if let existing = Self.registry.withLockedValue({ $0[key] }) {
            return existing
        }
        // Built outside the lock (it reads files); a racing builder's copy is dropped.
        let made = try ReloadingTLSContext(identity: key.identity, role: key.role)
        return Self.registry.withLockedValue { registry in
            if let existing = registry[key] { return existing }
            registry[key] = made
            return made
        }
    }

    /// Rebuilds every context of this process from its files (what SIGHUP does), whether or not
    /// they look changed. Returns one line per context saying what it now uses or why it kept
    /// the previous identity.
    @discardableResult
    public static func reloadAll() -> [String] {
        let contexts = Self.registry.withLockedValue { Array($0.values) }
        return contexts.map { $0.reload(force: true) }
    }

    // MARK: Use

    /// The context for a new connection, rebuilt first if the files changed since it was built.
    public func current() -> NIOSSLContext {
        self.reload(force: false)
        return self.state.withLockedValue { $0.context }
    }

    /// Whether a peer certificate with this serial (lowercase hex, as ``serial(of:)`` writes it)
    /// is listed in the revocation file, as last read by ``current()``.
    public func isRevoked(serial: String) -> Bool {
        self.state.withLockedValue { $0.revoked.contains(serial) }
    }

    /// The serial number of the certificate this context presents, lowercase hex.
    public var certificateSerial: String? {
        self.state.withLockedValue { $0.certificateSerial }
    }

    @discardableResult
    private func reload(force: Bool) -> String {
        let fingerprint = Self.fingerprint(of: self.identity)
        let name = self.identity.certificatePath ?? self.identity.caPath
        let skip = !force && self.state.withLockedValue { state in
            state.fingerprint == fingerprint || state.failedFingerprint == fingerprint
        }
        if skip {
            return "\(name): unchanged"
        }
        do {
            let (context, revoked, serial, notValidAfter) = try Self.build(identity: self.identity, role: self.role)
            Self.reloadsOK.increment()
            Self.recordExpiry(of: self.identity, role: self.role, notValidAfter: notValidAfter)
            let previous = self.state.withLockedValue { state -> String? in
                let previous = state.certificateSerial
                state = State(context: context, revoked: revoked, fingerprint: fingerprint, certificateSerial: serial)
                return previous
            }
            var metadata: Logger.Metadata = ["file": "\(name)", "role": "\(self.role)", "revoked": "\(revoked.count)"]
            if let serial { metadata["serial"] = "\(serial)" }
            if let previous, previous != serial { metadata["previous_serial"] = "\(previous)" }
            Self.logger.notice("TLS identity loaded", metadata: metadata)
            return "\(name): serial \(serial ?? "none"), \(revoked.count) revoked"
        } catch {
            self.state.withLockedValue { $0.failedFingerprint = fingerprint }
            Self.reloadsFailed.increment()
            Self.logger.warning("TLS identity not reloaded; keeping the previous one", metadata: [
                "file": "\(name)", "error": "\(error)",
            ])
            return "\(name): kept the previous identity: \(error)"
        }
    }

    private static func build(identity: TLSIdentity, role: Role) throws -> (NIOSSLContext, RevocationList, String?, notValidAfter: Int?) {
        let configuration = switch role {
        case .server(let peerAuthentication): try ConcordTLSConfiguration.server(identity: identity, peerAuthentication: peerAuthentication)
        case .client: try ConcordTLSConfiguration.client(identity: identity)
        }
        let context: NIOSSLContext
        do {
            context = try NIOSSLContext(configuration: configuration)
        } catch {
            throw TLSSetupError(message: "cannot use \(identity.certificatePath ?? identity.caPath) with its key: \(error)")
        }
        let revoked = try RevocationList.load(identity.revocationPath)
        guard case .certificate(let first)? = configuration.certificateChain.first else { return (context, revoked, nil, nil) }
        return (context, revoked, Self.serial(of: first), Int(first.notValidAfter))
    }

    /// A certificate's serial number as lowercase hex without separators, as `revoked` lists it.
    public static func serial(of certificate: NIOSSLCertificate) -> String? {
        guard let parsed = try? Certificate(derEncoded: certificate.toDERBytes()) else { return nil }
        return Self.serial(of: parsed)
    }

    public static func serial(of certificate: Certificate) -> String {
        RevocationList.hex(Array(certificate.serialNumber.bytes))
    }

    // MARK: Fingerprints

    struct FileFingerprint: Hashable {
        var device: UInt64
        var inode: UInt64
        var size: Int64
        var modifiedSeconds: Int64
        var modifiedNanoseconds: Int64
        /// Changed by chown and chmod too: a key made readable after a failed rebuild is noticed.
        var changedSeconds: Int64
        var changedNanoseconds: Int64
    }

    /// One `stat` per file (following symbolic links, so a Kubernetes Secret's swapped `..data`
    /// link counts as a change); nil for a file that is missing.
    static func fingerprint(of identity: TLSIdentity) -> [FileFingerprint?] {
        [identity.caPath, identity.certificatePath, identity.keyPath, identity.revocationPath].map { path in
            guard let path else { return nil }
            var info = stat()
            guard stat(path, &info) == 0 else { return nil }
            #if canImport(Darwin)
            let (modified, changed) = (info.st_mtimespec, info.st_ctimespec)
            #else
            let (modified, changed) = (info.st_mtim, info.st_ctim)
            #endif
            return FileFingerprint(
                device: UInt64(info.st_dev), inode: UInt64(info.st_ino), size: Int64(info.st_size),
                modifiedSeconds: Int64(modified.tv_sec), modifiedNanoseconds: Int64(modified.tv_nsec),
                changedSeconds: Int64(changed.tv_sec), changedNanoseconds: Int64(changed.tv_nsec)
            )
        }
    }
}
