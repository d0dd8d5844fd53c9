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
        subcommands: [Init.self, Rotate.self, Show.self, CABegin.self, CAFinish.self, KubernetesSecrets.self]
    )

    struct Init: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create a private CA and a certificate and key for every service, the gateway and a client.",
            discussion: "Writes ca.pem, ca-key.pem and NAME.pem, NAME-key.pem for: \(CertificateAuthority.standardIdentities.joined(separator: ", ")). SANs: the name, localhost, 127.0.0.1, ::1."
        )

        @OptionGroup var certs: CertsDirectory

        @Option(help: "Extra DNS name for every certificate, repeatable (e.g. a container host name).")
        var name: [String] = []

        @Option(help: "Extra IP address for every certificate, repeatable.")
        var address: [String] = []

        @Flag(help: "Replace an existing set.")
        var force = false

        func run() throws {
            try self.certs.perform(creating: true) { directory in
                try CertificateAuthority.initialize(directory: directory, extraNames: self.name, extraAddresses: self.address, force: self.force)
                print("wrote a CA and certificates for \(CertificateAuthority.standardIdentities.joined(separator: ", ")) to \(directory.path)")
            }
        }
    }

    struct Rotate: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Issue new leaf certificates and keys from the same CA, replacing the files atomically.",
            discussion: """
                Each new certificate keeps the subject and alternative names of the one it replaces and is \
                valid for two years. Running services, the gateway and clients notice the changed files at \
                their next connection (or at once on SIGHUP) and use the new identity for new connections; \
                connections already open carry on. With --revoke, the replaced serials go into DIR/revoked \
                and servers refuse them from then on (for a leaked key).
                """
        )

        @OptionGroup var certs: CertsDirectory

        @Argument(help: "Leaf names to rotate (e.g. gateway participants); all of them when none is given.")
        var names: [String] = []

        @Flag(help: "Refuse the replaced certificates from now on (append their serials to DIR/revoked).")
        var revoke = false

        func run() throws {
            let rotations = try self.certs.perform { directory in
                try CertificateAuthority.rotate(in: directory, names: self.names, revoke: self.revoke)
            }
            for rotation in rotations {
                let revoked = rotation.revoked ? ", old one revoked" : ""
                print("\(rotation.name): serial \(rotation.previousSerial) -> \(rotation.serial), valid until \(rotation.notValidAfter.formatted(.iso8601))\(revoked)")
            }
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List the CA and leaf certificates of a directory: identity, serial, expiry, revoked or not."
        )

        @OptionGroup var certs: CertsDirectory

        func run() throws {
            try self.certs.perform { directory in
                let revoked = try RevocationList.load(directory.appendingPathComponent("revoked").path)
                for entry in try CertificateAuthority.inventory(of: directory) {
                    let mark = revoked.contains(entry.serial) ? "  REVOKED" : ""
                    print("\(entry.file.padding(18))  \(entry.subject.padding(40))  serial \(entry.serial)  until \(entry.notValidAfter.formatted(.iso8601))\(mark)")
                }
            }
        }
    }

    struct CABegin: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "ca-begin",
            abstract: "Step 1 of a CA change: make a new CA and trust both (ca.pem holds the old and the new).",
            discussion: "Then: wait until every process has made a new connection or send them SIGHUP; `concord certs rotate DIR` (issues from the new CA); `concord certs ca-finish DIR`. See deploy/README.md."
        )

        @OptionGroup var certs: CertsDirectory

        func run() throws {
            try self.certs.perform { directory in
                let incoming = try CertificateAuthority.beginAuthorityChange(in: directory)
                print("new CA '\(incoming.certificate.subject)' in ca-next.pem; ca.pem now trusts both. Next: concord certs rotate \(directory.path)")
            }
        }
    }

    struct CAFinish: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "ca-finish",
            abstract: "Step 3 of a CA change: the new CA alone in ca.pem and ca-key.pem (refused while a leaf is the old CA's)."
        )

        @OptionGroup var certs: CertsDirectory

        func run() throws {
            try self.certs.perform { directory in
                try CertificateAuthority.finishAuthorityChange(in: directory)
                print("the new CA is now the only one trusted in \(directory.appendingPathComponent("ca.pem").path)")
            }
        }
    }
}

/// The directory a `certs` command works in, and how it says what is wrong there.
struct CertsDirectory: ParsableArguments {
    @Argument(help: "Directory written by `concord certs init` (created by init if missing).")
    var directory: String

    /// Runs `body` on the directory, which must be there unless `creating`. What is wrong with
    /// it or its files is a `TLSSetupError`, said as one line (`Error: ...`), without the usage
    /// that a `ValidationError` would print under it: the command was typed right.
    func perform<Result>(creating: Bool = false, _ body: (URL) throws -> Result) throws -> Result {
        var isDirectory = false
        if !creating, !FileManager.default.fileExists(atPath: self.directory, isDirectory: &isDirectory) || !isDirectory {
            throw TLSSetupError(message: "no directory \(self.directory) to read: create the set with `concord certs init \(self.directory)`")
        }
        return try body(URL(fileURLWithPath: self.directory))
    }
}

extension CertsCommand {
    struct KubernetesSecrets: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "kube-secrets",
            abstract: "Print Kubernetes Secrets holding each service's certificate and key (and the gateway's tokens).",
            discussion: """
                One Secret per identity, named concord-certs-NAME, with ca.pem, NAME.pem, NAME-key.pem and \
                revoked: mounted at /var/lib/concord/certs, each pod sees its own key and no other, and never \
                the CA's key. The gateway's Secret also holds the tokens file; the console's (with --console-token) \
                its token, the users file and the key its sessions are signed with. Apply with \
                `concord certs kube-secrets DIR --tokens FILE | kubectl apply -f -`; after \
                `concord certs rotate`, applying again updates the mounted files and every pod takes the new \
                identity at its next connection, without a restart.
                """
        )

        @Argument(help: "Directory written by `concord certs init`.")
        var directory: String

        @Option(help: "The gateway's token file (written by `concord tokens add`).")
        var tokens: String?

        @Option(help: "Namespace of the Secrets; none by default (kubectl's current one).")
        var namespace: String?

        @Option(help: "Identities to include; default: the gateway and the three services, and the console when --console-token is given.")
        var identity: [String] = []

        @Option(help: "The console's gateway token, one line (`concord tokens add --role admin --name console`).")
        var consoleToken: String?

        @Option(help: "The users file the console signs people in from (`concord users add`).")
        var users: String?

        @Option(help: "The key the console signs sessions with: at least 32 bytes, the same for every replica.")
        var consoleSecret: String?

        func run() throws {
            let directory = URL(fileURLWithPath: self.directory)
            func read(_ file: String) throws -> Data {
                let url = directory.appendingPathComponent(file)
                do {
                    return try Data(contentsOf: url)
                } catch {
                    throw ValidationError("cannot read \(url.path): \(error) (create the set with `concord certs init \(self.directory)`)")
                }
            }
            let tokens = try self.tokens.map { path in
                do { return try Data(contentsOf: URL(fileURLWithPath: path)) } catch {
                    throw ValidationError("cannot read the token file \(path): \(error) (write one with `concord tokens add --file \(path)`)")
                }
            }
            let identities = self.identity.isEmpty
                ? ["gateway", "participants", "agreements", "trade-metrics"] + (self.consoleToken == nil ? [] : ["console"])
                : self.identity
            if identities.contains("gateway") && tokens == nil {
                throw ValidationError("the gateway's Secret needs its token file: --tokens FILE")
            }
            var consoleFiles: [(String, Data)] = []
            if identities.contains("console") {
                for (option, path, file) in [("--console-token", self.consoleToken, "console-token"), ("--users", self.users, "users"), ("--console-secret", self.consoleSecret, "console-secret")] {
                    guard let path else { throw ValidationError("the console's Secret needs \(option) FILE") }
                    guard let contents = FileManager.default.contents(atPath: path) else { throw ValidationError("cannot read \(path) (\(option))") }
                    if file == "console-secret", contents.count < 32 {
                        throw ValidationError("\(path) (--console-secret) holds \(contents.count) bytes; the key needs at least 32: head -c 32 /dev/urandom > \(path)")
                    }
                    consoleFiles.append((file, contents))
                }
            }
            let revoked = (try? Data(contentsOf: directory.appendingPathComponent("revoked"))) ?? Data("# nothing revoked\n".utf8)
            var documents: [String] = []
            for name in identities {
                var files: [(String, Data)] = [
                    ("ca.pem", try read("ca.pem")), ("\(name).pem", try read("\(name).pem")),
                    ("\(name)-key.pem", try read("\(name)-key.pem")), ("revoked", revoked),
                ]
                if name == "gateway", let tokens { files.append(("tokens", tokens)) }
                if name == "console" { files += consoleFiles }
                var lines = [
                    "apiVersion: v1", "kind: Secret", "metadata:", "  name: concord-certs-\(name)",
                ]
                if let namespace { lines.append("  namespace: \(namespace)") }
                lines += ["  labels:", "    app.kubernetes.io/part-of: concord", "    app.kubernetes.io/component: \(name)", "type: Opaque", "data:"]
                for (file, contents) in files {
                    lines.append("  \(file): \(contents.base64EncodedString())")
                }
                documents.append(lines.joined(separator: "\n"))
            }
            print(documents.joined(separator: "\n---\n"))
        }
    }
}

extension String {
    fileprivate func padding(_ width: Int) -> String {
        self.count >= width ? self : self + String(repeating: " ", count: width - self.count)
    }
}
