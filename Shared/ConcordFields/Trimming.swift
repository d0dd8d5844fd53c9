extension String {
    /// Without leading and trailing spaces and tabs (Unicode category Zs and U+0009): what
    /// Foundation's `trimmingCharacters(in: .whitespaces)` removes, without linking Foundation.
    public func trimmingSpaces() -> String {
        self.trimming { $0 == "\t" || $0.properties.generalCategory == .spaceSeparator }
    }

    /// Without leading and trailing white space, line breaks included (the Unicode White_Space
    /// property): what `trimmingCharacters(in: .whitespacesAndNewlines)` removes.
    public func trimmingWhitespace() -> String {
        self.trimming { $0.properties.isWhitespace }
    }

    /// `uppercased()`, without its Unicode pass and copy when there is nothing to change: ASCII
    /// without a lower-case letter, as codes are mostly written (an import reads millions).
    public func uppercasedIfNeeded() -> String {
        var text = self
        let changes = text.withUTF8 { bytes in
            bytes.contains { $0 >= UInt8(ascii: "a") && ($0 <= UInt8(ascii: "z") || $0 >= 0x80) }
        }
        return changes ? self.uppercased() : self
    }

    private func trimming(_ isTrimmed: (Unicode.Scalar) -> Bool) -> String {
        // The common case, read in two bytes: visible ASCII at both ends, nothing to trim. Read
        // from the string's storage: the UTF-8 view's `last` walks back through its index.
        var text = self
        let visibleEnds = text.withUTF8 { bytes in
            guard let first = bytes.first, let last = bytes.last else { return false }
            return (0x21...0x7E).contains(first) && (0x21...0x7E).contains(last)
        }
        if visibleEnds { return self }
        let scalars = self.unicodeScalars
        guard let first = scalars.firstIndex(where: { !isTrimmed($0) }) else { return "" }
        let last = scalars.lastIndex(where: { !isTrimmed($0) })!
        return String(scalars[first...last])
    }
}
