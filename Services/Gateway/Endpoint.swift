import ArgumentParser

/// One replica's address: an IP address (or a name, before resolution) and a port.
struct Endpoint: Hashable, Sendable, CustomStringConvertible {
    var host: String
    var port: Int

    var description: String { self.host.contains(":") ? "[\(self.host)]:\(self.port)" : "\(self.host):\(self.port)" }

    /// True for an IPv4 or IPv6 literal, which needs no resolution.
    var isAddressLiteral: Bool {
        let ipv4 = self.host.split(separator: ".", omittingEmptySubsequences: false)
        if ipv4.count == 4, ipv4.allSatisfy({ UInt8($0) != nil }) { return true }
        return self.host.contains(":")
    }

    /// `HOST:PORT` or `[IPV6]:PORT`.
    init(parsing text: Substring, in spec: String) throws {
        guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]), (1...65535).contains(port) else {
            throw ValidationError("endpoint '\(text)' in route '\(spec)' must be HOST:PORT")
        }
        var host = String(text[..<colon])
        if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        guard !host.isEmpty else { throw ValidationError("endpoint '\(text)' in route '\(spec)' names no host") }
        self.host = host
        self.port = port
    }

    init(host: String, port: Int) {
        self.host = host
        self.port = port
    }
}
