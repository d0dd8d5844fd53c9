
/// On whose behalf a request acts, as an audit trail records it.
///
/// The gateway sends the name and role of the token's holder in metadata (`actor=`, `role=`);
/// that is believed only when the connection's certificate is the gateway's. Any other caller is
/// recorded as its certificate's identity, whatever metadata it sends (`Principal(peer:metadata:)`,
/// in ConcordServer, which knows the connection).
public struct Principal: Sendable, Hashable, Codable, CustomStringConvertible {
    /// The token holder's name, or the peer's identity URI, or `anonymous`.
    public var name: String
    /// The token's role, when the gateway vouches for it.
    public var role: String?
    /// The certificate identity of the connection the request came on.
    public var via: String?

    public init(name: String, role: String? = nil, via: String? = nil) {
        self.name = name
        self.role = role
        self.via = via
    }

    public var description: String { self.name + (self.role.map { " (\($0))" } ?? "") }

    /// A name as metadata carries it: visible ASCII kept, anything else (and `%`) as %XX.
    public static func encodeForMetadata(_ name: String) -> String {
        var encoded = ""
        for byte in name.utf8 {
            if byte > 0x20, byte < 0x7F, byte != UInt8(ascii: "%") {
                encoded.unicodeScalars.append(Unicode.Scalar(byte))
            } else {
                let hex = Array("0123456789ABCDEF".utf8)
                encoded.unicodeScalars.append("%")
                encoded.unicodeScalars.append(Unicode.Scalar(hex[Int(byte >> 4)]))
                encoded.unicodeScalars.append(Unicode.Scalar(hex[Int(byte & 0x0F)]))
            }
        }
        return encoded
    }

    public static func decodePercent(_ text: String) -> String {
        guard text.utf8.contains(UInt8(ascii: "%")) else { return text }
        var bytes: [UInt8] = []
        var iterator = Array(text.utf8)[...]
        while let byte = iterator.popFirst() {
            if byte == UInt8(ascii: "%"), iterator.count >= 2,
               let value = UInt8(String(decoding: iterator.prefix(2), as: UTF8.self), radix: 16) {
                bytes.append(value)
                iterator = iterator.dropFirst(2)
            } else {
                bytes.append(byte)
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
