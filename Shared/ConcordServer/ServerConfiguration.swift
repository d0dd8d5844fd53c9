import ConcordProtocol
import ConcordTLS

/// How one protocol server listens and whom it admits.
public struct ServerConfiguration: Sendable {
    public var host: String
    /// 0 picks a free port; read the bound one from ``ConcordServer/localPort``.
    public var port: Int
    public var tls: TLSIdentity
    public var peerAuthentication: PeerAuthentication
    /// What each certificate identity may call (authorisation by identity).
    public var peerPolicy: PeerPolicy
    public var limits: ProtocolLimits
    /// Identity announced in `hello`: the service name and its version.
    public var serviceName: String
    public var serviceVersion: String
    /// On graceful shutdown, in-flight requests get this long to finish before connections are cut.
    public var drainTimeout: Duration

    public init(
        host: String = "127.0.0.1",
        port: Int = 0,
        tls: TLSIdentity,
        peerAuthentication: PeerAuthentication = .required,
        peerPolicy: PeerPolicy = .open,
        limits: ProtocolLimits = ProtocolLimits(),
        serviceName: String,
        serviceVersion: String = ConcordServer.version,
        drainTimeout: Duration = .seconds(10)
    ) {
        self.host = host
        self.port = port
        self.tls = tls
        self.peerAuthentication = peerAuthentication
        self.peerPolicy = peerPolicy
        self.limits = limits
        self.serviceName = serviceName
        self.serviceVersion = serviceVersion
        self.drainTimeout = drainTimeout
    }
}
