import NIOSSL
import X509

/// Who a certificate says its holder is, in a form a program checks: a SPIFFE-style URI name in
/// the certificate's subject alternative names, such as `spiffe://concord/gateway`,
/// `spiffe://concord/service/agreements` or `spiffe://concord/client/operator`.
///
/// Authentication (the CA signed it) says the peer belongs to the deployment; the identity says
/// which part of it the peer is, and so what it may call (see `PeerPolicy` in ConcordServer).
public struct PeerIdentity: Sendable, Hashable, CustomStringConvertible {
    public static let scheme = "spiffe://"
    public static let trustDomain = "concord"
    static let prefix = Self.scheme + Self.trustDomain + "/"

    /// The whole URI, e.g. `spiffe://concord/service/participants`.
    public let uri: String

    /// Accepts only URIs of this deployment's trust domain with a non-empty path.
    public init?(uri: String) {
        guard uri.hasPrefix(Self.prefix), uri.utf8.count > Self.prefix.utf8.count, uri.utf8.count <= 256,
              uri.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F })
        else { return nil }
        self.uri = uri
    }

    private init(path: String) {
        self.uri = Self.prefix + path
    }

    public static let gateway = PeerIdentity(path: "gateway")
    /// The console, the browsers' edge: a client of the gateway that signs people in.
    public static let console = PeerIdentity(path: "console")
    public static func service(_ name: String) -> PeerIdentity { PeerIdentity(path: "service/" + name) }
    public static func client(_ name: String) -> PeerIdentity { PeerIdentity(path: "client/" + name) }

    /// The path after the trust domain: `gateway`, `service/agreements`, `client/operator`.
    public var path: Substring { self.uri.dropFirst(Self.prefix.count) }
    public var isGateway: Bool { self == .gateway }
    /// The service's name when this is a service's identity.
    public var serviceName: Substring? {
        self.path.hasPrefix("service/") ? self.path.dropFirst("service/".count) : nil
    }
    public var description: String { self.uri }

    /// The services `concord certs init` issues certificates for.
    public static let standardServices = ["participants", "agreements", "trade-metrics"]

    /// The identity `concord certs` writes into the certificate named `name`: the gateway, a
    /// service, or a client (the operator's `client` certificate is `client/operator`).
    public static func standard(forCertificateName name: String) -> PeerIdentity {
        if name == "gateway" { return .gateway }
        if name == "console" { return .console }
        if Self.standardServices.contains(name) { return .service(name) }
        return .client(name == "client" ? "operator" : name)
    }

    /// The first URI name of this trust domain in a certificate, or nil when it has none
    /// (a certificate issued before identities existed, or by hand).
    public init?(certificate: NIOSSLCertificate) {
        guard let parsed = try? Certificate(derEncoded: certificate.toDERBytes()) else { return nil }
        self.init(certificate: parsed)
    }

    public init?(certificate: Certificate) {
        guard let names = try? certificate.extensions.subjectAlternativeNames else { return nil }
        for name in names {
            if case .uniformResourceIdentifier(let uri) = name, let identity = PeerIdentity(uri: uri) {
                self = identity
                return
            }
        }
        return nil
    }
}
