import ConcordTLS
import Foundation

/// A throwaway CA and the standard identities, made once per test process in a temp directory.
public enum TestCertificates {
    /// The directory holding `ca.pem`, `NAME.pem` and `NAME-key.pem` for every standard identity.
    public static let directory: String = {
        let directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("concord-test-certs-\(ProcessInfo.processInfo.processIdentifier)-\(UUID().uuidString.prefix(8))")
        do {
            try CertificateAuthority.initialize(directory: directory)
        } catch {
            fatalError("cannot create test certificates in \(directory.path): \(error)")
        }
        return directory.path
    }()

    public static func identity(_ name: String?) -> TLSIdentity {
        TLSIdentity.standard(directory: Self.directory, name: name)
    }

    /// A second, unrelated CA with a client identity: its certificates must be refused.
    public static let foreignDirectory: String = {
        let directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("concord-foreign-certs-\(ProcessInfo.processInfo.processIdentifier)-\(UUID().uuidString.prefix(8))")
        do {
            try CertificateAuthority.initialize(directory: directory, identities: ["client"])
        } catch {
            fatalError("cannot create foreign certificates: \(error)")
        }
        return directory.path
    }()
}
