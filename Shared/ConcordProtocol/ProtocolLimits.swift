/// The protocol's identity and the limits a server enforces and advertises in its `hello`.
public enum ConcordProtocolVersion {
    /// The ALPN identifier every endpoint offers and requires: protocol name and major version.
    public static let alpn = "concord/1"
}

/// Limits one endpoint enforces on its peers. Servers advertise them in the `hello` line.
public struct ProtocolLimits: Sendable, Hashable {
    /// Longest accepted line in bytes, not counting the LF or CRLF terminator.
    public var maxLineLength: Int
    /// Requests one connection may have in flight before the server stops reading from it.
    public var maxInFlight: Int
    /// A connection that sends no request for this long, with nothing in flight, is closed.
    public var idleTimeout: Duration
    /// After this long without any line from the peer the server sends `* ping`.
    public var pingInterval: Duration
    /// Unanswered pings allowed before the connection is considered dead and closed.
    public var maxUnansweredPings: Int
    /// How long the TLS handshake (and ALPN) may take before the connection is dropped.
    public var handshakeTimeout: Duration
    /// How long replies may stay unread (socket not writable) before the peer is disconnected.
    public var slowReaderTimeout: Duration
    /// The deadline applied to a request that carries none, and the cap on any deadline.
    public var maxDeadline: Duration

    public init(
        maxLineLength: Int = 1 << 20,
        maxInFlight: Int = 128,
        idleTimeout: Duration = .seconds(300),
        pingInterval: Duration = .seconds(30),
        maxUnansweredPings: Int = 2,
        handshakeTimeout: Duration = .seconds(10),
        slowReaderTimeout: Duration = .seconds(10),
        maxDeadline: Duration = .seconds(60)
    ) {
        self.maxLineLength = maxLineLength
        self.maxInFlight = maxInFlight
        self.idleTimeout = idleTimeout
        self.pingInterval = pingInterval
        self.maxUnansweredPings = maxUnansweredPings
        self.handshakeTimeout = handshakeTimeout
        self.slowReaderTimeout = slowReaderTimeout
        self.maxDeadline = maxDeadline
    }
}

extension Duration {
    /// Whole milliseconds, rounded down; what the wire carries.
    public var wholeMilliseconds: Int64 {
        let (seconds, attoseconds) = self.components
        return seconds * 1000 + attoseconds / 1_000_000_000_000_000
    }
}
