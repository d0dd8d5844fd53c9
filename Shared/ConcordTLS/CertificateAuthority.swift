import Crypto
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import SwiftASN1
import X509

/// A private certificate authority for one Concord deployment, and the identities it issues.
///
/// `concord certs init DIR` writes `ca.pem` and `ca-key.pem`, then `NAME.pem` and `NAME-key.pem`
/// for every identity: each service, the gateway, and a client. All keys are P-256.
public struct CertificateAuthority: Sendable {
    /// The identities a deployment needs, named as their certificate files are.
    public static let standardIdentities = ["participants", "agreements", "trade-metrics", "gateway", "console", "client"]

    public let certificate: Certificate
    let privateKey: P256.Signing.PrivateKey

    /// Names a standard identity answers to besides its own: the gateway's route for
    /// trade-metrics is `trade` (its verbs' prefix), and it checks that name.
    static let aliases = ["trade-metrics": ["trade"]]

    /// Makes a new authority, valid for ten years.
    public static func make(commonName: String = "Concord private CA", now: Date = Date()) throws -> CertificateAuthority {
        let key = P256.Signing.PrivateKey()
        let name = try DistinguishedName {
            OrganizationName("Concord")
            CommonName(commonName)
        }
        let certificate = try Certificate(
            version: .v3,
            serialNumber: Certificate.SerialNumber(),
            publicKey: .init(key.publicKey),
            notValidBefore: now.addingTimeInterval(-300),
            notValidAfter: now.addingTimeInterval(10 * 365 * 86_400),
            issuer: name,
            subject: name,
            signatureAlgorithm: .ecdsaWithSHA256,
            extensions: try Certificate.Extensions {
                Critical(BasicConstraints.isCertificateAuthority(maxPathLength: 0))
                Critical(KeyUsage(digitalSignature: true, keyCertSign: true, cRLSign: true))
                SubjectKeyIdentifier(hash: .init(key.publicKey))
            },
            issuerPrivateKey: .init(key)
        )
        return CertificateAuthority(certificate: certificate, privateKey: key)
    }

    /// Loads an authority written by ``write(to:)``.
    public static func load(from directory: URL) throws -> CertificateAuthority {
        let certificatePEM = try String(contentsOf: directory.appendingPathComponent("ca.pem"), encoding: .utf8)
        let keyPEM = try String(contentsOf: directory.appendingPathComponent("ca-key.pem"), encoding: .utf8)
        return CertificateAuthority(
            certificate: try Certificate(pemEncoded: certificatePEM),
            privateKey: try P256.Signing.PrivateKey(pemRepresentation: keyPEM)
        )
    }

    /// Issues a certificate for `name`, valid for two years, usable as TLS server and client.
    ///
    /// Subject alternative names: `name`, `localhost`, any `extraNames`, the loopback
    /// addresses 127.0.0.1 and ::1 plus any `extraAddresses`, and the holder's identity as a URI
    /// (by default the standard one for `name`: ``PeerIdentity/standard(forCertificateName:)``).
    public func issue(
        name: String,
        identity: PeerIdentity? = nil,
        extraNames: [String] = [],
        extraAddresses: [String] = [],
        now: Date = Date()
    ) throws -> IssuedIdentity {
        let key = P256.Signing.PrivateKey()
        var alternativeNames: [GeneralName] = ([name, "localhost"] + (Self.aliases[name] ?? []) + extraNames).map { .dnsName($0) }
        alternativeNames.append(.uniformResourceIdentifier((identity ?? .standard(forCertificateName: name)).uri))
        for address in ["127.0.0.1", "::1"] + extraAddresses {
            guard let bytes = Self.addressBytes(address) else {
                throw TLSSetupError(message: "'\(address)' is not an IPv4 or IPv6 address")
            }
            alternativeNames.append(.ipAddress(ASN1OctetString(contentBytes: bytes[...])))
        }
        let subject = try DistinguishedName {
            OrganizationName("Concord")
            CommonName(name)
        }
        let certificate = try self.signLeaf(key: key, subject: subject, alternativeNames: SubjectAlternativeNames(alternativeNames), now: now)
        return IssuedIdentity(name: name, certificate: certificate, privateKey: key)
    }

    /// A leaf certificate for `key`, valid for two years from `now`, usable as TLS server and
    /// client: what ``issue(name:identity:extraNames:extraAddresses:now:)`` and rotation sign.
    func signLeaf(key: P256.Signing.PrivateKey, subject: DistinguishedName, alternativeNames: SubjectAlternativeNames, now: Date) throws -> Certificate {
        try Certificate(
            version: .v3,
            serialNumber: Certificate.SerialNumber(),
            publicKey: .init(key.publicKey),
            notValidBefore: now.addingTimeInterval(-300),
            notValidAfter: now.addingTimeInterval(2 * 365 * 86_400),
            issuer: self.certificate.subject,
            subject: subject,
            signatureAlgorithm: .ecdsaWithSHA256,
            extensions: try Certificate.Extensions {
                Critical(BasicConstraints.notCertificateAuthority)
                Critical(KeyUsage(digitalSignature: true))
                try ExtendedKeyUsage([.serverAuth, .clientAuth])
                alternativeNames
                SubjectKeyIdentifier(hash: .init(key.publicKey))
                AuthorityKeyIdentifier(keyIdentifier: try self.certificate.extensions.subjectKeyIdentifier?.keyIdentifier)
            },
            issuerPrivateKey: .init(self.privateKey)
        )
    }

    /// Writes `ca.pem` and `ca-key.pem` (mode 0600) into `directory`.
    public func write(to directory: URL) throws {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        try Self.writeFile(try self.certificate.serializeAsPEM().pemString, to: directory.appendingPathComponent("ca.pem"), private: false)
        try Self.writeFile(self.privateKey.pemRepresentation, to: directory.appendingPathComponent("ca-key.pem"), private: true)
    }

    /// Creates a complete set in `directory`: the authority and every standard identity.
    /// Refuses to overwrite an existing authority unless `force` is set.
    @discardableResult
    public static func initialize(
        directory: URL,
        identities: [String] = standardIdentities,
        extraNames: [String] = [],
        extraAddresses: [String] = [],
        force: Bool = false
    ) throws -> [URL] {
        let caFile = directory.appendingPathComponent("ca.pem")
        if FileManager.default.fileExists(atPath: caFile.path), !force {
            throw TLSSetupError(message: "\(caFile.path) already exists; pass --force to replace the whole set")
        }
        let authority = try CertificateAuthority.make()
        try authority.write(to: directory)
        var written = [caFile, directory.appendingPathComponent("ca-key.pem")]
        for identity in identities {
            written += try authority.issue(name: identity, extraNames: extraNames, extraAddresses: extraAddresses).write(to: directory)
        }
        return written
    }

    /// Re-issues, from the authority in `directory`, each standard leaf certificate that carries
    /// no identity (one written before certificates named their holder), keeping its file name.
    /// Returns the names re-issued.
    @discardableResult
    public static func upgradeLeaves(in directory: URL, identities: [String] = standardIdentities) throws -> [String] {
        var stale: [String] = []
        for name in identities {
            let file = directory.appendingPathComponent("\(name).pem")
            guard let pem = try? String(contentsOf: file, encoding: .utf8),
                  let certificate = try? Certificate(pemEncoded: pem)
            else { continue }
            if PeerIdentity(certificate: certificate) == nil { stale.append(name) }
        }
        guard !stale.isEmpty else { return [] }
        let authority = try Self.load(from: directory)
        for name in stale {
            try authority.issue(name: name).write(to: directory)
        }
        return stale
    }

    static func writeFile(_ contents: String, to url: URL, private isPrivate: Bool) throws {
        try Data(contents.utf8).write(to: url, options: .atomic)
        if isPrivate {
            try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: url.path)
        }
    }

    public static func addressBytes(_ address: String) -> [UInt8]? {
        var v4 = in_addr()
        if inet_pton(AF_INET, address, &v4) == 1 {
            return withUnsafeBytes(of: &v4) { Array($0) }
        }
        var v6 = in6_addr()
        if inet_pton(AF_INET6, address, &v6) == 1 {
            return withUnsafeBytes(of: &v6) { Array($0) }
        }
        return nil
    }
}

/// A certificate and key issued by a ``CertificateAuthority``.
public struct IssuedIdentity: Sendable {
    public let name: String
    public let certificate: Certificate
    let privateKey: P256.Signing.PrivateKey

    public var certificatePEM: String { get throws { try self.certificate.serializeAsPEM().pemString } }
    public var privateKeyPEM: String { self.privateKey.pemRepresentation }

    /// Writes `NAME.pem` and `NAME-key.pem` (mode 0600) into `directory`.
    @discardableResult
    public func write(to directory: URL) throws -> [URL] {
        let certificateFile = directory.appendingPathComponent("\(self.name).pem")
        let keyFile = directory.appendingPathComponent("\(self.name)-key.pem")
        try CertificateAuthority.writeFile(try self.certificatePEM, to: certificateFile, private: false)
        try CertificateAuthority.writeFile(self.privateKeyPEM, to: keyFile, private: true)
        return [certificateFile, keyFile]
    }
}

public struct TLSSetupError: Error, CustomStringConvertible, Sendable {
    public var message: String
    public var description: String { self.message }

    public init(message: String) {
        self.message = message
    }
}
