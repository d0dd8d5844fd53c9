import ConcordClient
import ConcordProtocol
import NIOCore

extension ConcordClient {
    /// The error a call of `verb` with `body` is refused with; nil when it is answered.
    public func refusal(_ verb: String, _ body: String) async -> ConcordError? {
        do {
            _ = try await self.call(verb, body: ByteBuffer(string: body))
            return nil
        } catch {
            return error
        }
    }
}
