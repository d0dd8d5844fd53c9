import ArgumentParser
import ConcordTLS
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

struct CertsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "certs",
        abstract: "Manage the deployment's private CA and certificates.",
        subcommands: [Init.self]
    )

    struct Init: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create a private CA and a certificate and key for every service, the gateway and a client.",
            discussion: "Writes ca.pem, ca-key.pem and NAME.pem, NAME-key.pem for: \(CertificateAuthority.standardIdentities.joined(separator: ", ")). SANs: the name, localhost, 127.0.0.1, ::1."
        )

        @Argument(help: "Directory to write into (created if missing).")
        var directory: String

        @Option(help: "Extra DNS name for every certificate, repeatable (e.g. a container host name).")
        var name: [String] = []

        @Option(help: "Extra IP address for every certificate, repeatable.")
        var address: [String] = []

        @Flag(help: "Replace an existing set.")
        var force = false

        func run() throws {
            let directory = URL(fileURLWithPath: self.directory)
            do {
                try CertificateAuthority.initialize(directory: directory, extraNames: self.name, extraAddresses: self.address, force: self.force)
            } catch let error as TLSSetupError {
                throw ValidationError(error.message)
            }
            print("wrote a CA and certificates for \(CertificateAuthority.standardIdentities.joined(separator: ", ")) to \(directory.path)")
        }
    }
}
