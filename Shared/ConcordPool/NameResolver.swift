#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import NIOPosix
#if canImport(Glibc)
import Glibc
#endif

/// Turns a service's configured endpoints into replica addresses. A name that resolves to
/// several addresses (as `docker compose --scale` presents replicas) is several replicas.
public protocol NameResolver: Sendable {
    func resolve(_ host: String) async throws -> [String]
}

public struct ResolutionError: Error, CustomStringConvertible {
    public var host: String
    public var reason: String
    public init(host: String, reason: String) {
        self.host = host
        self.reason = reason
    }
    public var description: String { "cannot resolve '\(self.host)': \(self.reason)" }
}

/// The system resolver (getaddrinfo, which reads /etc/hosts and DNS), run off the event loops.
public struct SystemResolver: NameResolver {
    public init() {}
    public func resolve(_ host: String) async throws -> [String] {
        try await NIOThreadPool.singleton.runIfActive {
            var hints = addrinfo()
            hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
            hints.ai_family = AF_UNSPEC
            var result: UnsafeMutablePointer<addrinfo>?
            let status = getaddrinfo(host, nil, &hints, &result)
            guard status == 0, let first = result else {
                throw ResolutionError(host: host, reason: "getaddrinfo error \(status)")
            }
            defer { freeaddrinfo(first) }
            var addresses: [String] = []
            var cursor: UnsafeMutablePointer<addrinfo>? = first
            while let entry = cursor {
                if let text = Self.text(of: entry.pointee), !addresses.contains(text) { addresses.append(text) }
                cursor = entry.pointee.ai_next
            }
            return addresses
        }
    }

    private static func string(_ buffer: [CChar]) -> String {
        String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    private static func text(of info: addrinfo) -> String? {
        var buffer = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
        switch info.ai_family {
        case AF_INET:
            return info.ai_addr.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { pointer in
                var address = pointer.pointee.sin_addr
                return inet_ntop(AF_INET, &address, &buffer, socklen_t(buffer.count)).map { _ in Self.string(buffer) }
            }
        case AF_INET6:
            return info.ai_addr.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { pointer in
                var address = pointer.pointee.sin6_addr
                return inet_ntop(AF_INET6, &address, &buffer, socklen_t(buffer.count)).map { _ in Self.string(buffer) }
            }
        default:
            return nil
        }
    }
}
