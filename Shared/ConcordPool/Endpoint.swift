
/// One replica's address: an IP address (or a name, before resolution) and a port.
public struct Endpoint: Hashable, Sendable, CustomStringConvertible {
    public var host: String
    public var port: Int

    public var description: String { self.host.contains(":") ? "[\(self.host)]:\(self.port)" : "\(self.host):\(self.port)" }

    /// True for an IPv4 or IPv6 literal, which needs no resolution.
    public var isAddressLiteral: Bool {
        let ipv4 = self.host.split(separator: ".", omittingEmptySubsequences: false)
        if ipv4.count == 4, ipv4.allSatisfy({ UInt8($0) != nil }) { return true }
        return self.host.contains(":")
    }

    /// `HOST:PORT` or `[IPV6]:PORT`.
    public init(parsing text: Substring, in spec: String) throws(EndpointError) {
        guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]), (1...65535).contains(port) else {
            throw EndpointError(message: "endpoint '\(text)' in '\(spec)' must be HOST:PORT")
        }
        var host = String(text[..<colon])
        if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        guard !host.isEmpty else { throw EndpointError(message: "endpoint '\(text)' in '\(spec)' names no host") }
        self.host = host
        self.port = port
    }

    public init(host: String, port: Int) {
        self.host = host
        self.port = port
    }
}

/// An address that is not `HOST:PORT`.
public struct EndpointError: Error, CustomStringConvertible, Sendable {
    public var message: String
    public var description: String { self.message }
}
