/// A JSON object written by hand, member by member, in the form `JSONEncoder` writes with
/// `.sortedKeys` and `.withoutEscapingSlashes`, for the few values written so often that the
/// encoder's cost shows (an import's documents, the changes a gateway hands to its watchers).
/// The caller adds members in key order and leaves out text with a control character, which
/// the encoder escapes its own way (`needsEncoder`); a test beside each use checks that the
/// bytes are the encoder's.
public struct SortedJSONWriter {
    public private(set) var bytes: [UInt8] = []

    public init(capacity: Int = 256) {
        self.bytes.reserveCapacity(capacity)
    }

    /// Whether any of `texts` has a character this writer does not escape as the encoder would.
    public static func needsEncoder(_ texts: [String?]) -> Bool {
        !texts.allSatisfy { $0?.utf8.allSatisfy { $0 >= 0x20 } ?? true }
    }

    private mutating func key(_ name: StaticString) {
        self.bytes.append(self.bytes.isEmpty ? UInt8(ascii: "{") : UInt8(ascii: ","))
        self.bytes.append(UInt8(ascii: "\""))
        self.bytes.append(contentsOf: UnsafeBufferPointer(start: name.utf8Start, count: name.utf8CodeUnitCount))
        self.bytes.append(contentsOf: [UInt8(ascii: "\""), UInt8(ascii: ":")])
    }

    /// A text member; none when nil.
    public mutating func add(_ name: StaticString, _ text: String?) {
        guard let text else { return }
        self.key(name)
        self.bytes.append(UInt8(ascii: "\""))
        for byte in text.utf8 {
            if byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") { self.bytes.append(UInt8(ascii: "\\")) }
            self.bytes.append(byte)
        }
        self.bytes.append(UInt8(ascii: "\""))
    }

    /// A `true` or `false` member; none when nil.
    public mutating func add(_ name: StaticString, _ flag: Bool?) {
        guard let flag else { return }
        self.key(name)
        let word: StaticString = flag ? "true" : "false"
        self.bytes.append(contentsOf: UnsafeBufferPointer(start: word.utf8Start, count: word.utf8CodeUnitCount))
    }

    /// A whole-number member; none when nil.
    public mutating func add(_ name: StaticString, _ number: Int64?) {
        guard let number else { return }
        self.key(name)
        self.bytes.append(contentsOf: String(number).utf8)
    }

    /// The object, closed.
    public mutating func finish() -> [UInt8] {
        if self.bytes.isEmpty { self.bytes.append(UInt8(ascii: "{")) }
        self.bytes.append(UInt8(ascii: "}"))
        return self.bytes
    }
}
