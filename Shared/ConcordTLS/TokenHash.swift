import Crypto

/// How a gateway token is stored and recognised: the SHA-256 of its UTF-8 bytes in lower-case
/// hex. `concord tokens` writes it; the gateway compares against it.
public enum TokenHash {
    public static func of(_ token: String) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var hex = [UInt8]()
        hex.reserveCapacity(64)
        for byte in SHA256.hash(data: Array(token.utf8)) {
            hex.append(digits[Int(byte >> 4)])
            hex.append(digits[Int(byte & 0x0F)])
        }
        return String(decoding: hex, as: UTF8.self)
    }
}
