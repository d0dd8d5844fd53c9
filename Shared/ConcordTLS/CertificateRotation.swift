import Crypto
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import SwiftASN1
import X509

/// Leaf rotation and CA change for a certificates directory written by `concord certs init`.
///
/// Every file is replaced atomically (written beside, then renamed), and running processes pick the
/// new files up at their next connection (``ReloadingTLSContext``). A CA change goes in three
/// steps so no process ever meets a certificate it does not trust:
///
/// 1. ``beginAuthorityChange(in:now:)``: a new CA in `ca-next.pem`/`ca-next-key.pem`, and `ca.pem`
///    becomes a bundle of the old and the new: every process trusts both.
/// 2. ``rotate(in:names:revoke:now:)``: every leaf re-issued, by the new CA now that it exists.
/// 3. ``finishAuthorityChange(in:)``: the new CA alone in `ca.pem`/`ca-key.pem`; refused while a
///    leaf in the directory is still the old CA's.
extension CertificateAuthority {
    /// One leaf replaced by ``rotate(in:names:revoke:now:)``.
    public struct Rotation: Sendable, Hashable {
        public var name: String
        public var previousSerial: String
        public var serial: String
        public var notValidAfter: Date
        public var revoked: Bool
    }

    static let nextCertificateFile = "ca-next.pem"
    static let nextKeyFile = "ca-next-key.pem"
    static let revocationFile = "revoked"

    /// The authority that issues leaves now: the incoming one during a CA change, else the current one.
    public static func issuing(in directory: URL) throws -> CertificateAuthority {
        let next = directory.appendingPathComponent(Self.nextCertificateFile)
        do {
            if FileManager.default.fileExists(atPath: next.path) {
                return try Self.load(certificate: next, key: directory.appendingPathComponent(Self.nextKeyFile))
            }
            return try Self.load(certificate: directory.appendingPathComponent("ca.pem"), key: directory.appendingPathComponent("ca-key.pem"))
        } catch let error as TLSSetupError {
            throw error
        } catch {
            throw TLSSetupError(message: "cannot load the CA from \(directory.path): \(TLSSetupError.reason(error)) (rotation needs ca-key.pem, written by `concord certs init`)")
        }
    }

    /// The first certificate of a PEM file (`ca.pem` holds two during a CA change) and its key.
    static func load(certificate: URL, key: URL) throws -> CertificateAuthority {
        let pem = try String(contentsOf: certificate, encoding: .utf8)
        guard let first = try PEMDocument.parseMultiple(pemString: pem).first else {
            throw TLSSetupError(message: "no certificate in \(certificate.path)")
        }
        let keyPEM = try String(contentsOf: key, encoding: .utf8)
        let authority = CertificateAuthority(
            certificate: try Certificate(pemDocument: first),
            privateKey: try P256.Signing.PrivateKey(pemRepresentation: keyPEM)
        )
        guard authority.certificate.publicKey == Certificate.PublicKey(authority.privateKey.publicKey) else {
            throw TLSSetupError(message: "\(key.path) is not the key of \(certificate.path)")
        }
        return authority
    }

    /// The leaf certificates of a directory: every `NAME.pem` with a `NAME-key.pem`, CA files aside.
    public static func leafNames(in directory: URL) throws -> [String] {
        let files: [String]
        do {
            files = try FileManager.default.contentsOfDirectory(atPath: directory.path)
        } catch {
            throw TLSSetupError(message: "cannot read the directory \(directory.path): \(TLSSetupError.reason(error, path: directory.path))")
        }
        let keys = Set(files.filter { $0.hasSuffix("-key.pem") })
        return files.filter { file in
            file.hasSuffix(".pem") && !file.hasSuffix("-key.pem") && !file.hasPrefix("ca")
                && keys.contains(String(file.dropLast(4)) + "-key.pem")
        }.map { String($0.dropLast(4)) }.sorted()
    }

    /// Issues a new certificate and key for each leaf `names` (every leaf when empty) from the
    /// issuing authority, with the subject and alternative names of the one it replaces, and
    /// replaces both files atomically. With `revoke`, the replaced serials are appended to the
    /// directory's `revoked` list, so servers refuse them from their next connection on.
    @discardableResult
    public static func rotate(in directory: URL, names: [String] = [], revoke: Bool = false, now: Date = Date()) throws -> [Rotation] {
        let authority = try Self.issuing(in: directory)
        let known = try Self.leafNames(in: directory)
        let chosen = names.isEmpty ? known : names
        for name in chosen where !known.contains(name) {
            throw TLSSetupError(
                message: "no leaf certificate '\(name)' in \(directory.path) (it has: \(known.joined(separator: ", ")))"
            )
        }
        guard !chosen.isEmpty else { throw TLSSetupError(message: "no leaf certificates in \(directory.path) to rotate") }
        // Everything is issued before anything is written: a failure leaves the directory as it was.
        var issued: [(IssuedIdentity, Rotation)] = []
        for name in chosen {
            let file = directory.appendingPathComponent("\(name).pem")
            let previous: Certificate
            do {
                previous = try Certificate(pemEncoded: String(contentsOf: file, encoding: .utf8))
            } catch {
                throw TLSSetupError(message: "cannot read \(file.path): \(TLSSetupError.reason(error))")
            }
            let replacement = try authority.reissue(previous, name: name, now: now)
            issued.append((replacement, Rotation(
                name: name,
                previousSerial: ReloadingTLSContext.serial(of: previous),
                serial: ReloadingTLSContext.serial(of: replacement.certificate),
                notValidAfter: replacement.certificate.notValidAfter,
                revoked: revoke
            )))
        }
        if revoke {
            try Self.appendRevocations(issued.map { ($0.1.previousSerial, "\($0.1.name), replaced \(now.formatted(.iso8601))") }, in: directory)
        }
        for (replacement, _) in issued {
            try replacement.write(to: directory)
        }
        return issued.map(\.1)
    }

    /// A new certificate and key with the subject, alternative names and usages of `previous`.
    func reissue(_ previous: Certificate, name: String, now: Date) throws -> IssuedIdentity {
        let key = P256.Signing.PrivateKey()
        let alternativeNames = try previous.extensions.subjectAlternativeNames
            ?? SubjectAlternativeNames([.dnsName(name), .uniformResourceIdentifier(PeerIdentity.standard(forCertificateName: name).uri)])
        let certificate = try self.signLeaf(key: key, subject: previous.subject, alternativeNames: alternativeNames, now: now)
        return IssuedIdentity(name: name, certificate: certificate, privateKey: key)
    }

    /// Appends serials to the directory's `revoked` file (rewritten whole, atomically).
    public static func appendRevocations(_ entries: [(serial: String, comment: String)], in directory: URL) throws {
        let file = directory.appendingPathComponent(Self.revocationFile)
        var text = (try? String(contentsOf: file, encoding: .utf8)) ?? "# Serials of certificates this deployment refuses (concord certs rotate --revoke).\n"
        if !text.isEmpty && !text.hasSuffix("\n") { text += "\n" }
        for entry in entries {
            text += "\(entry.serial)  # \(entry.comment)\n"
        }
        _ = try RevocationList.parse(text, path: file.path)
        try Self.writeFile(text, to: file, private: false)
    }

    /// Step 1 of a CA change: a new authority beside the old, trusted by every process from its
    /// next connection on (`ca.pem` holds both). Refused while a change is under way.
    @discardableResult
    public static func beginAuthorityChange(in directory: URL, now: Date = Date()) throws -> CertificateAuthority {
        let next = directory.appendingPathComponent(Self.nextCertificateFile)
        guard !FileManager.default.fileExists(atPath: next.path) else {
            throw TLSSetupError(message: "a CA change is already under way (\(next.path) exists); finish it with `concord certs ca-finish`")
        }
        let current = try Self.issuing(in: directory)
        let day = now.formatted(.iso8601.year().month().day())
        let incoming = try Self.make(commonName: "Concord private CA \(day)", now: now)
        let incomingPEM = try incoming.certificate.serializeAsPEM().pemString
        // The key first: a certificate without its key would make rotation fail.
        try Self.writeFile(incoming.privateKey.pemRepresentation, to: directory.appendingPathComponent(Self.nextKeyFile), private: true)
        try Self.writeFile(incomingPEM, to: next, private: false)
        let bundle = try current.certificate.serializeAsPEM().pemString + "\n" + incomingPEM + "\n"
        try Self.writeFile(bundle, to: directory.appendingPathComponent("ca.pem"), private: false)
        return incoming
    }

    /// Step 3 of a CA change: the incoming authority becomes the only one. Refused, naming them,
    /// while leaves in the directory were issued by the outgoing one.
    public static func finishAuthorityChange(in directory: URL) throws {
        let next = directory.appendingPathComponent(Self.nextCertificateFile)
        guard FileManager.default.fileExists(atPath: next.path) else {
            throw TLSSetupError(message: "no CA change is under way in \(directory.path) (begin one with `concord certs ca-begin`)")
        }
        let incoming = try Self.issuing(in: directory)
        let incomingKeyID = try incoming.certificate.extensions.subjectKeyIdentifier?.keyIdentifier
        var stale: [String] = []
        for name in try Self.leafNames(in: directory) {
            let leaf = try Certificate(pemEncoded: String(contentsOf: directory.appendingPathComponent("\(name).pem"), encoding: .utf8))
            let keyID = try leaf.extensions.authorityKeyIdentifier?.keyIdentifier
            if leaf.issuer != incoming.certificate.subject || keyID != incomingKeyID { stale.append(name) }
        }
        guard stale.isEmpty else {
            throw TLSSetupError(
                message: "still issued by the outgoing CA: \(stale.joined(separator: ", ")); run `concord certs rotate \(directory.path)` first"
            )
        }
        try Self.writeFile(incoming.privateKey.pemRepresentation, to: directory.appendingPathComponent("ca-key.pem"), private: true)
        try Self.writeFile(try incoming.certificate.serializeAsPEM().pemString, to: directory.appendingPathComponent("ca.pem"), private: false)
        try FileManager.default.removeItem(at: next)
        try FileManager.default.removeItem(at: directory.appendingPathComponent(Self.nextKeyFile))
    }
}

extension CertificateAuthority {
    /// One certificate file of a directory, as `concord certs show` lists it.
    public struct InventoryEntry: Sendable {
        public var file: String
        public var subject: String
        public var serial: String
        public var notValidAfter: Date
    }

    /// The certificates of a directory: the CA file (each certificate of a bundle), the incoming CA
    /// during a change, then every leaf, with the identity a leaf carries.
    public static func inventory(of directory: URL) throws -> [InventoryEntry] {
        var entries: [InventoryEntry] = []
        var files = ["ca.pem"]
        if FileManager.default.fileExists(atPath: directory.appendingPathComponent(Self.nextCertificateFile).path) {
            files.append(Self.nextCertificateFile)
        }
        files += try Self.leafNames(in: directory).map { "\($0).pem" }
        for file in files {
            let path = directory.appendingPathComponent(file)
            do {
                for document in try PEMDocument.parseMultiple(pemString: String(contentsOf: path, encoding: .utf8)) {
                    let certificate = try Certificate(pemDocument: document)
                    let who = PeerIdentity(certificate: certificate)?.uri ?? "\(certificate.subject)"
                    entries.append(InventoryEntry(
                        file: file, subject: who, serial: ReloadingTLSContext.serial(of: certificate), notValidAfter: certificate.notValidAfter
                    ))
                }
            } catch {
                throw TLSSetupError(message: "cannot read \(path.path): \(TLSSetupError.reason(error))")
            }
        }
        return entries
    }
}
