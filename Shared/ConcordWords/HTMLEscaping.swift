/// Text made safe to write into HTML, as every page of Concord's writes it (the CLI's briefs and
/// the console's pages): `&`, `<`, `>`, `"` and `'` become entities.
public enum HTMLEscaping {
    public static func escape(_ text: String) -> String {
        // The five are ASCII, so never part of another character's bytes: a text without
        // them is its own escape, and one with them is rewritten byte by byte.
        guard text.utf8.contains(where: Self.isSpecial) else { return text }
        var out: [UInt8] = []
        out.reserveCapacity(text.utf8.count + 16)
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "&"): out += "&amp;".utf8
            case UInt8(ascii: "<"): out += "&lt;".utf8
            case UInt8(ascii: ">"): out += "&gt;".utf8
            case UInt8(ascii: "\""): out += "&quot;".utf8
            case UInt8(ascii: "'"): out += "&#39;".utf8
            default: out.append(byte)
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    private static func isSpecial(_ byte: UInt8) -> Bool {
        byte == UInt8(ascii: "&") || byte == UInt8(ascii: "<") || byte == UInt8(ascii: ">") || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "'")
    }
}
