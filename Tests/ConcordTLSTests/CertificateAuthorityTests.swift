import ConcordTLS
import Foundation
import Testing
import X509

@Suite struct CertificateAuthorityTests {
    func temporaryDirectory() -> URL {
        FileManager.default.temporaryDirectory.appendingPathComponent("concord-ca-test-\(UUID().uuidString)")
    }

    @Test func initializeWritesEveryIdentityWithItsNamesAndLoopback() throws {
        let directory = self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        try CertificateAuthority.initialize(directory: directory, extraNames: ["participants.internal"], extraAddresses: ["127.0.0.2"])

        let ca = try Certificate(pemEncoded: String(contentsOf: directory.appendingPathComponent("ca.pem"), encoding: .utf8))
        #expect(try ca.extensions.basicConstraints == .isCertificateAuthority(maxPathLength: 0))
        for name in CertificateAuthority.standardIdentities {
            let pem = try String(contentsOf: directory.appendingPathComponent("\(name).pem"), encoding: .utf8)
            let certificate = try Certificate(pemEncoded: pem)
            #expect(certificate.issuer == ca.subject)
            let names = try #require(try certificate.extensions.subjectAlternativeNames)
            #expect(names.contains(.dnsName(name)))
            #expect(names.contains(.dnsName("localhost")))
            #expect(names.contains(.dnsName("participants.internal")))
            #expect(names.contains(.ipAddress(.init(contentBytes: [127, 0, 0, 1]))))
            #expect(names.contains(.ipAddress(.init(contentBytes: [127, 0, 0, 2]))))
            let usages = try #require(try certificate.extensions.extendedKeyUsage)
            #expect(usages.contains(.serverAuth) && usages.contains(.clientAuth))
            let keyPath = directory.appendingPathComponent("\(name)-key.pem").path
            let mode = try FileManager.default.attributesOfItem(atPath: keyPath)[.posixPermissions] as? Int
            #expect(mode == 0o600, "private keys are readable by their owner only")
        }
    }

    @Test func refusesToOverwriteWithoutForce() throws {
        let directory = self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        try CertificateAuthority.initialize(directory: directory, identities: ["client"])
        #expect(throws: TLSSetupError.self) {
            try CertificateAuthority.initialize(directory: directory, identities: ["client"])
        }
        try CertificateAuthority.initialize(directory: directory, identities: ["client"], force: true)
    }

    /// A file missing or unreadable is said in words, not as the file system's error dumped
    /// field by field.
    @Test func aMissingFileIsSaidInWords() throws {
        let directory = self.temporaryDirectory()
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let missing = directory.appendingPathComponent("none")
        let listing = #expect(throws: TLSSetupError.self) { try CertificateAuthority.leafNames(in: missing) }
        #expect(listing?.message == "cannot read the directory \(missing.path): no such file")
        let rotation = #expect(throws: TLSSetupError.self) { try CertificateAuthority.rotate(in: directory) }
        #expect(rotation?.message == "cannot load the CA from \(directory.path): no such file (rotation needs ca-key.pem, written by `concord certs init`)")
        try CertificateAuthority.initialize(directory: directory, identities: ["client"])
        try Data([0xFF, 0xFE, 0x00]).write(to: directory.appendingPathComponent("client.pem"))
        let reading = #expect(throws: TLSSetupError.self) { try CertificateAuthority.rotate(in: directory, names: ["client"]) }
        #expect(reading?.message == "cannot read \(directory.appendingPathComponent("client.pem").path): not UTF-8 text")

        let identity = TLSIdentity.standard(directory: directory.path, name: "client")
        try "junk\n".write(toFile: try #require(identity.keyPath), atomically: true, encoding: .utf8)
        // A certificate (the CA's) where the client's was, so that the key is what is read wrong.
        try Data(contentsOf: directory.appendingPathComponent("ca.pem")).write(to: directory.appendingPathComponent("client.pem"))
        let key = #expect(throws: TLSSetupError.self) { try ConcordTLSConfiguration.client(identity: identity) }
        #expect(key?.message == "cannot read private key \(identity.keyPath ?? ""): not a PEM private key")
        try FileManager.default.removeItem(atPath: identity.caPath)
        let ca = #expect(throws: TLSSetupError.self) { try ConcordTLSConfiguration.client(identity: identity) }
        #expect(ca?.message == "cannot read certificate \(identity.caPath): no such file (create a set with `concord certs init DIR`)")
    }

    @Test func badAddressIsNamed() throws {
        let authority = try CertificateAuthority.make()
        let error = #expect(throws: TLSSetupError.self) { try authority.issue(name: "x", extraAddresses: ["not-an-ip"]) }
        #expect(error?.message.contains("not-an-ip") == true)
    }
}
