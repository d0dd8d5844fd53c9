/// Sent down a connection's pipeline when the server shuts down gracefully: stop reading, answer
/// what was read, say bye, close.
struct ConnectionDrainEvent: Sendable {}
