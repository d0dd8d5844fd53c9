import ConcordProtocol
import ConcordTLS

/// What each certificate identity may call on one server: authorisation by identity, on top of
/// the CA's authentication. Decided once per connection, checked per request with no lookup.
///
/// The default for a data service: the gateway may call every verb (and its `actor` metadata is
/// believed); another service of the deployment may call reads (agreements checks references in
/// participants); any other certificate, the operator's included, only the protocol's
/// built-ins, which health checks and people at a terminal need. `grants` widens it for named
/// identities, e.g. a trusted diagnostics certificate (`--peer-allow URI=read`).
public struct PeerPolicy: Sendable, Hashable {
    /// What one peer may call.
    public enum Access: String, Sendable, Hashable, CaseIterable, Comparable {
        case builtins
        case read
        case all

        public func permits(_ kind: VerbKind) -> Bool {
            switch (self, kind) {
            case (_, .builtin), (.all, _), (.read, .read): true
            default: false
            }
        }

        public static func < (lhs: Access, rhs: Access) -> Bool {
            Self.allCases.firstIndex(of: lhs)! < Self.allCases.firstIndex(of: rhs)!
        }
    }

    /// Everyone may call everything: a server whose callers authorise otherwise (the gateway,
    /// with tokens) or a test.
    public static let open = PeerPolicy(gateway: .all, services: .all, others: .all)
    /// The default for a data service.
    public static let dataService = PeerPolicy(gateway: .all, services: .read, others: .builtins)

    public var gateway: Access
    public var services: Access
    public var others: Access
    /// Identities given more (or less) than their class: by URI.
    public var grants: [String: Access]

    public init(gateway: Access, services: Access, others: Access, grants: [String: Access] = [:]) {
        self.gateway = gateway
        self.services = services
        self.others = others
        self.grants = grants
    }

    /// The access of a peer with `identity`; nil is a peer with no identity (no certificate, or
    /// one without a URI name of this deployment).
    public func access(for identity: PeerIdentity?) -> Access {
        guard let identity else { return self.others }
        if let granted = self.grants[identity.uri] { return granted }
        if identity.isGateway { return self.gateway }
        if identity.serviceName != nil { return self.services }
        return self.others
    }

    /// Parses `URI=ACCESS` entries (`spiffe://concord/client/diagnostics=read`), as
    /// `--peer-allow` and `CONCORD_PEER_ALLOW` (separated by `;`) give them.
    public static func grants(parsing entries: [String]) throws(ConcordError) -> [String: Access] {
        var grants: [String: Access] = [:]
        for entry in entries {
            guard let equals = entry.lastIndex(of: "="),
                  let identity = PeerIdentity(uri: String(entry[..<equals])),
                  let access = Access(rawValue: String(entry[entry.index(after: equals)...]))
            else {
                throw ConcordError(
                    .badRequest,
                    "peer grant '\(entry)' must look like spiffe://concord/client/NAME=read (access: builtins, read or all)"
                )
            }
            grants[identity.uri] = access
        }
        return grants
    }
}
