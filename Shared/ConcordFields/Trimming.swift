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
        for byte in self.utf8 where byte >= UInt8(ascii: "a") && (byte <= UInt8(ascii: "z") || byte >= 0x80) {
            return self.uppercased()
        }
        return self
    }

    private func trimming(_ isTrimmed: (Unicode.Scalar) -> Bool) -> String {
        // The common case, read in two bytes: visible ASCII at both ends, nothing to trim.
        if let first = self.utf8.first, let last = self.utf8.last, (0x21...0x7E).contains(first), (0x21...0x7E).contains(last) {
            return self
        }
        let scalars = self.unicodeScalars
        guard let first = scalars.firstIndex(where: { !isTrimmed($0) }) else { return "" }
        let last = scalars.lastIndex(where: { !isTrimmed($0) })!
        return String(scalars[first...last])
    }
}
