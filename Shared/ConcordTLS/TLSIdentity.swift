#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import NIOSSL
import ConcordProtocol

/// Where one process finds its TLS material: the deployment CA, and its own certificate and key.
public struct TLSIdentity: Sendable, Hashable {
    public var caPath: String
    public var certificatePath: String?
    public var keyPath: String?
    /// Serials of certificates no longer accepted from peers (``RevocationList``); nil for none.
    public var revocationPath: String?

    public init(caPath: String, certificatePath: String? = nil, keyPath: String? = nil, revocationPath: String? = nil) {
        self.caPath = caPath
        self.certificatePath = certificatePath
        self.keyPath = keyPath
        self.revocationPath = revocationPath
    }

    /// The standard file names in a directory written by `concord certs init`.
    public static func standard(directory: String, name: String?) -> TLSIdentity {
        let base = URL(fileURLWithPath: directory)
        return TLSIdentity(
            caPath: base.appendingPathComponent("ca.pem").path,
            certificatePath: name.map { base.appendingPathComponent("\($0).pem").path },
            keyPath: name.map { base.appendingPathComponent("\($0)-key.pem").path },
            revocationPath: base.appendingPathComponent("revoked").path
        )
    }
}

/// Whether a server asks its peers for a certificate signed by the deployment CA.
public enum PeerAuthentication: String, Sendable, Hashable, CaseIterable {
    /// Mutual TLS: a peer without a valid certificate is refused during the handshake.
    case required
    /// A certificate is verified if presented; peers without one are let in.
    case optional
}

/// TLS configurations for every Concord endpoint: TLS 1.3 preferred, 1.2 floor, ALPN `concord/1`.
public enum ConcordTLSConfiguration {
    public static func server(identity: TLSIdentity, peerAuthentication: PeerAuthentication) throws -> TLSConfiguration {
        guard let certificatePath = identity.certificatePath, let keyPath = identity.keyPath else {
            throw TLSSetupError(message: "a server needs a certificate and a key (--cert and --key)")
        }
        var configuration = TLSConfiguration.makeServerConfiguration(
            certificateChain: try Self.loadCertificates(certificatePath).map { .certificate($0) },
            privateKey: .privateKey(try Self.loadKey(keyPath))
        )
        configuration.minimumTLSVersion = .tlsv12
        configuration.applicationProtocols = [ConcordProtocolVersion.alpn]
        // A peer that never answers close_notify holds its connection this long at most.
        configuration.shutdownTimeout = .seconds(2)
        configuration.trustRoots = .certificates(try Self.loadCertificates(identity.caPath))
        configuration.certificateVerification = switch peerAuthentication {
        case .required: .noHostnameVerification
        case .optional: .optionalVerification
        }
        return configuration
    }

    public static func client(identity: TLSIdentity) throws -> TLSConfiguration {
        var configuration = TLSConfiguration.makeClientConfiguration()
        configuration.minimumTLSVersion = .tlsv12
        configuration.applicationProtocols = [ConcordProtocolVersion.alpn]
        configuration.trustRoots = .certificates(try Self.loadCertificates(identity.caPath))
        configuration.certificateVerification = .fullVerification
        if let certificatePath = identity.certificatePath, let keyPath = identity.keyPath {
            configuration.certificateChain = try Self.loadCertificates(certificatePath).map { .certificate($0) }
            configuration.privateKey = .privateKey(try Self.loadKey(keyPath))
        }
        return configuration
    }

    static func loadCertificates(_ path: String) throws -> [NIOSSLCertificate] {
        do {
            let certificates = try NIOSSLCertificate.fromPEMFile(path)
            guard !certificates.isEmpty else { throw TLSSetupError(message: "no certificate in \(path)") }
            return certificates
        } catch let error as TLSSetupError {
            throw error
        } catch {
            throw TLSSetupError(message: "cannot read certificate \(path): \(TLSSetupError.reason(error, path: path)) (create a set with `concord certs init DIR`)")
        }
    }

    static func loadKey(_ path: String) throws -> NIOSSLPrivateKey {
        do {
            return try NIOSSLPrivateKey(file: path, format: .pem)
        } catch {
            throw TLSSetupError(message: "cannot read private key \(path): \(TLSSetupError.reason(error, path: path))")
        }
    }
}

extension TLSSetupError {
    /// Why the file at `path` could not be read, in the words a person checks it by (no such
    /// file, permission denied, not PEM), rather than a dump of the error's fields.
    static func reason(_ error: any Error, path: String? = nil) -> String {
        if let path, !FileManager.default.fileExists(atPath: path) { return "no such file" }
        switch error {
        case let error as CocoaError:
            switch error.code {
            case .fileReadNoSuchFile, .fileNoSuchFile: return "no such file"
            case .fileReadNoPermission: return "permission denied"
            case .fileReadInapplicableStringEncoding, .fileReadCorruptFile: return "not UTF-8 text"
            default: return "\(error)"
            }
        case NIOSSLError.failedToLoadCertificate: return "not a PEM certificate"
        case NIOSSLError.failedToLoadPrivateKey: return "not a PEM private key"
        default: return "\(error)"
        }
    }
}
