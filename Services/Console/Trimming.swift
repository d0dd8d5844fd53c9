extension StringProtocol {
    /// Without the spaces, tabs and line ends around it.
    var trimmed: String {
        let isSpace: (Character) -> Bool = { $0.isWhitespace }
        guard let first = self.firstIndex(where: { !isSpace($0) }), let last = self.lastIndex(where: { !isSpace($0) }) else { return "" }
        return String(self[first...last])
    }
}
