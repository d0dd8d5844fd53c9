#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// The serial numbers of leaf certificates the deployment no longer accepts: the `revoked` file of
/// a certificates directory, one serial a line in lowercase hex, `#` starting a comment.
///
/// `concord certs rotate --revoke` appends the serials it replaces; every server reads the file
/// again when it changes (``ReloadingTLSContext``) and refuses a peer presenting a listed
/// certificate right after the handshake, with `unauthorized`. A missing file lists nothing.
public struct RevocationList: Sendable, Hashable {
    public private(set) var serials: Set<String>

    public init(serials: Set<String> = []) {
        self.serials = serials
    }

    public var count: Int { self.serials.count }

    public func contains(_ serial: String) -> Bool { self.serials.contains(serial) }

    /// Reads `path`; nil or a missing file is an empty list. A line that is not a serial is an
    /// error naming the line, so a damaged file is noticed rather than half-applied.
    public static func load(_ path: String?) throws -> RevocationList {
        guard let path, FileManager.default.fileExists(atPath: path) else { return RevocationList() }
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw TLSSetupError(message: "cannot read the revocation list \(path): \(TLSSetupError.reason(error))")
        }
        return try Self.parse(text, path: path)
    }

    public static func parse(_ text: String, path: String) throws -> RevocationList {
        var serials = Set<String>()
        for (index, rawLine) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = rawLine.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
            let serial = String(line.drop(while: { $0 == " " || $0 == "\t" || $0 == "\r" })
                .reversed().drop(while: { $0 == " " || $0 == "\t" || $0 == "\r" }).reversed()).lowercased()
            guard !serial.isEmpty else { continue }
            guard serial.count <= 64, serial.allSatisfy({ $0.isHexDigit }) else {
                throw TLSSetupError(message: "\(path) line \(index + 1): '\(serial.prefix(80))' is not a certificate serial (hex digits)")
            }
            serials.insert(serial)
        }
        return RevocationList(serials: serials)
    }

    static func hex(_ bytes: [UInt8]) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count * 2)
        for byte in bytes {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0x0F)])
        }
        return String(decoding: out, as: UTF8.self)
    }
}
