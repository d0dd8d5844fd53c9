import ConcordWords

/// A piece of HTML. Text interpolated into it is escaped; only another `HTML` goes in as it is.
/// So a page is written as `"<h1>\(title)</h1>"` and a record titled
/// `<img src=x onerror=alert(1)>` reads as that text, never as markup.
struct HTML: ExpressibleByStringInterpolation, Sendable {
    private(set) var markup: String

    init(stringLiteral value: String) {
        self.markup = value
    }

    init(stringInterpolation: Interpolation) {
        self.markup = stringInterpolation.markup
    }

    /// Markup trusted as it is: only for what this module writes itself.
    init(trusted markup: String) {
        self.markup = markup
    }

    struct Interpolation: StringInterpolationProtocol {
        var markup = ""

        init(literalCapacity: Int, interpolationCount: Int) {
            self.markup.reserveCapacity(literalCapacity + interpolationCount * 16)
        }

        mutating func appendLiteral(_ literal: String) {
            self.markup += literal
        }

        mutating func appendInterpolation(_ text: String) {
            self.markup += HTML.escape(text)
        }

        mutating func appendInterpolation(_ html: HTML) {
            self.markup += html.markup
        }

        mutating func appendInterpolation(_ parts: [HTML]) {
            for part in parts { self.markup += part.markup }
        }

        mutating func appendInterpolation(_ number: Int) {
            self.markup += String(number)
        }
    }

    static func escape(_ text: String) -> String {
        HTMLEscaping.escape(text)
    }

    static func + (lhs: HTML, rhs: HTML) -> HTML {
        HTML(trusted: lhs.markup + rhs.markup)
    }
}
