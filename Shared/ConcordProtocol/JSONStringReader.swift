/// Reads the text of one JSON string literal, for the two readers this module has without a
/// decoder: a table body's cells (`TableBody`) and a flat error body's members (`JSONFields`).
/// Strict as RFC 8259 is: a control character must be escaped, an escape is one of the eight, and
/// a `\u` escape of a UTF-16 high surrogate must be followed by its low one.
enum JSONStringReader {
    /// What is wrong with a string literal, said after the field it was read for.
    enum Fault: Error, Equatable, CustomStringConvertible {
        case notClosed
        case controlCharacter
        case unknownEscape(UInt8)
        case notFourHexDigits
        case loneSurrogate
        case notACharacter

        var description: String {
            switch self {
            case .notClosed: "a string is not closed"
            case .controlCharacter: "a control character inside a string must be escaped"
            case .unknownEscape(let byte): "unknown escape \\\(Character(Unicode.Scalar(byte)))"
            case .notFourHexDigits: "a \\u escape needs four hex digits"
            case .loneSurrogate: "a lone surrogate in \\u escape"
            case .notACharacter: "\\u escape is not a character"
            }
        }
    }

    /// The string whose text starts at `index` (just after its opening quote); `index` ends just
    /// after its closing quote. Text without escapes is read as one slice.
    static func read(_ bytes: UnsafeRawBufferPointer, at index: inout Int) -> Result<String, Fault> {
        let start = index
        while index < bytes.count, bytes[index] != UInt8(ascii: "\""), bytes[index] != UInt8(ascii: "\\") {
            guard bytes[index] >= 0x20 else { return .failure(.controlCharacter) }
            index += 1
        }
        guard index < bytes.count else { return .failure(.notClosed) }
        if bytes[index] == UInt8(ascii: "\"") {
            index += 1
            return .success(String(decoding: UnsafeRawBufferPointer(rebasing: bytes[start..<index - 1]), as: UTF8.self))
        }
        var utf8 = Array(UnsafeRawBufferPointer(rebasing: bytes[start..<index]))
        while true {
            guard index < bytes.count else { return .failure(.notClosed) }
            let byte = bytes[index]
            index += 1
            if byte == UInt8(ascii: "\"") { break }
            guard byte >= 0x20 else { return .failure(.controlCharacter) }
            guard byte == UInt8(ascii: "\\") else {
                utf8.append(byte)
                continue
            }
            guard index < bytes.count else { return .failure(.notClosed) }
            let escape = bytes[index]
            index += 1
            switch escape {
            case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): utf8.append(escape)
            case UInt8(ascii: "b"): utf8.append(0x08)
            case UInt8(ascii: "f"): utf8.append(0x0C)
            case UInt8(ascii: "n"): utf8.append(0x0A)
            case UInt8(ascii: "r"): utf8.append(0x0D)
            case UInt8(ascii: "t"): utf8.append(0x09)
            case UInt8(ascii: "u"):
                guard var scalar = Self.hex4(bytes, at: &index) else { return .failure(.notFourHexDigits) }
                if (0xD800..<0xDC00).contains(scalar) {
                    guard bytes.count - index >= 2, bytes[index] == UInt8(ascii: "\\"), bytes[index + 1] == UInt8(ascii: "u") else {
                        return .failure(.loneSurrogate)
                    }
                    index += 2
                    guard let low = Self.hex4(bytes, at: &index) else { return .failure(.notFourHexDigits) }
                    guard (0xDC00..<0xE000).contains(low) else { return .failure(.loneSurrogate) }
                    scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                }
                guard let unicode = Unicode.Scalar(scalar) else { return .failure(.notACharacter) }
                UTF8.encode(unicode) { utf8.append($0) }
            default:
                return .failure(.unknownEscape(escape))
            }
        }
        return .success(String(decoding: utf8, as: UTF8.self))
    }

    /// Four hex digits as a number; nil, with `index` anywhere, when they are not.
    private static func hex4(_ bytes: UnsafeRawBufferPointer, at index: inout Int) -> UInt32? {
        guard bytes.count - index >= 4 else { return nil }
        var value: UInt32 = 0
        for _ in 0..<4 {
            let byte = bytes[index]
            index += 1
            let digit: UInt8
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = byte - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = byte - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = byte - UInt8(ascii: "A") + 10
            default: return nil
            }
            value = value << 4 | UInt32(digit)
        }
        return value
    }
}
