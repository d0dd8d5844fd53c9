import NIOCore

/// The little JSON the codec itself needs: writing a string, and reading the string members of a
/// flat error body. Request and response bodies are never parsed here.
enum JSONFields {
    static func writeString(_ string: String, into buffer: inout ByteBuffer) {
        buffer.writeInteger(UInt8(ascii: "\""))
        // Most text needs no escape: written whole, looked at in one pass over its bytes.
        var text = string
        let plain = text.withUTF8 { bytes in
            for byte in bytes where byte < 0x20 || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") { return false }
            buffer.writeBytes(bytes)
            return true
        }
        if plain {
            buffer.writeInteger(UInt8(ascii: "\""))
            return
        }
        for byte in string.utf8 {
            switch byte {
            case UInt8(ascii: "\""): buffer.writeString("\\\"")
            case UInt8(ascii: "\\"): buffer.writeString("\\\\")
            case UInt8(ascii: "\n"): buffer.writeString("\\n")
            case UInt8(ascii: "\r"): buffer.writeString("\\r")
            case UInt8(ascii: "\t"): buffer.writeString("\\t")
            case 0..<0x20:
                let hex: [UInt8] = Array("0123456789abcdef".utf8)
                buffer.writeString("\\u00")
                buffer.writeInteger(hex[Int(byte >> 4)])
                buffer.writeInteger(hex[Int(byte & 0xF)])
            default: buffer.writeInteger(byte)
            }
        }
        buffer.writeInteger(UInt8(ascii: "\""))
    }

    /// The top-level members of a JSON object whose values are strings, booleans or whole
    /// numbers, each as its text. Other members are skipped; anything malformed ends the scan
    /// with what was read so far.
    static func strings(in bytes: some Collection<UInt8>) -> [String: String] {
        var reader = Reader(bytes: Array(bytes))
        var result: [String: String] = [:]
        reader.skipWhitespace()
        guard reader.consume(UInt8(ascii: "{")) else { return result }
        while true {
            reader.skipWhitespace()
            guard let key = reader.readString() else { return result }
            reader.skipWhitespace()
            guard reader.consume(UInt8(ascii: ":")) else { return result }
            reader.skipWhitespace()
            if reader.peek == UInt8(ascii: "\"") {
                guard let value = reader.readString() else { return result }
                result[key] = value
            } else if let literal = reader.readBooleanLiteral() {
                result[key] = literal
            } else if let number = reader.readWholeNumber() {
                result[key] = number
            } else if !reader.skipValue() {
                return result
            }
            reader.skipWhitespace()
            guard reader.consume(UInt8(ascii: ",")) else { return result }
        }
    }

    private struct Reader {
        let bytes: [UInt8]
        var index = 0

        var peek: UInt8? { self.index < self.bytes.count ? self.bytes[self.index] : nil }

        /// `true` or `false`, as that text; nil (consuming nothing) for anything else.
        mutating func readBooleanLiteral() -> String? {
            for literal in ["true", "false"] {
                let utf8 = Array(literal.utf8)
                if self.bytes.count - self.index >= utf8.count, Array(self.bytes[self.index..<self.index + utf8.count]) == utf8 {
                    self.index += utf8.count
                    return literal
                }
            }
            return nil
        }

        /// Digits, perhaps after a minus, ending where the value ends; nil (consuming nothing) for
        /// anything else, a fraction or an exponent included.
        mutating func readWholeNumber() -> String? {
            var end = self.index
            if end < self.bytes.count, self.bytes[end] == UInt8(ascii: "-") { end += 1 }
            let digits = end
            while end < self.bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(self.bytes[end]) { end += 1 }
            guard end > digits, end - digits <= 18 else { return nil }
            if end < self.bytes.count, ![UInt8(ascii: ","), UInt8(ascii: "}"), 0x20, 0x09, 0x0A, 0x0D].contains(self.bytes[end]) { return nil }
            let text = String(decoding: self.bytes[self.index..<end], as: UTF8.self)
            self.index = end
            return text
        }

        mutating func consume(_ byte: UInt8) -> Bool {
            guard self.peek == byte else { return false }
            self.index += 1
            return true
        }

        mutating func skipWhitespace() {
            while let byte = self.peek, byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D { self.index += 1 }
        }

        /// A string literal's text; nil when it is not one or is malformed.
        mutating func readString() -> String? {
            guard self.consume(UInt8(ascii: "\"")) else { return nil }
            var index = self.index
            let text = self.bytes.withUnsafeBytes { bytes in try? JSONStringReader.read(bytes, at: &index).get() }
            self.index = index
            return text
        }

        /// Skips a non-string value (number, literal, object or array), balancing brackets.
        mutating func skipValue() -> Bool {
            var depth = 0
            while let byte = self.peek {
                switch byte {
                case UInt8(ascii: "\""):
                    guard self.readString() != nil else { return false }
                    continue
                case UInt8(ascii: "{"), UInt8(ascii: "["): depth += 1
                case UInt8(ascii: "}"), UInt8(ascii: "]"):
                    if depth == 0 { return true }
                    depth -= 1
                case UInt8(ascii: ","):
                    if depth == 0 { return true }
                default: break
                }
                self.index += 1
            }
            return depth == 0
        }
    }
}

/// Writes a Swift string as a JSON string literal, for the few bodies built without an encoder.
public enum JSONString {
    public static func write(_ string: String, into buffer: inout ByteBuffer) {
        JSONFields.writeString(string, into: &buffer)
    }
}
