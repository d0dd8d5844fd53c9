import ConcordProtocol
import ConcordTLS

extension Principal {
    /// Who acts for a request that came on a connection whose certificate says `peer`: the
    /// gateway's `actor=` and `role=` when the peer is the gateway, else the peer itself.
    public init(peer: PeerIdentity?, metadata: Metadata) {
        if let peer, peer.isGateway, let actor = metadata.actor, !actor.isEmpty {
            self.init(name: Self.decodePercent(actor), role: metadata.actorRole, via: peer.uri)
        } else {
            self.init(name: peer?.uri ?? "anonymous", role: nil, via: peer?.uri)
        }
    }
}
