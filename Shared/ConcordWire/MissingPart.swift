/// A part of a combined answer (a brief) that its service did not give: which part, which
/// service, the error's code and message. The gateway writes it; the CLI and the console read it.
public struct MissingPart: Codable, Sendable, Hashable, Error {
    public var part: String
    public var service: String
    public var code: String
    public var message: String

    public init(part: String, service: String, code: String, message: String) {
        (self.part, self.service, self.code, self.message) = (part, service, code, message)
    }
}
