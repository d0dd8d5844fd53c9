import NIOCore

/// One frame off the wire.
public enum LineFrame: Sendable, Hashable {
    /// A complete line without its LF or CRLF terminator.
    case line(ByteBuffer)
    /// A line that passed the maximum length. `prefix` holds its first bytes so the receiver can
    /// still echo the request id; the decoder discards everything after it.
    case oversized(prefix: ByteBuffer)
}

/// Splits a byte stream into LF-terminated lines (CRLF accepted) with a hard maximum length.
///
/// The decoder never buffers more than `maxLineLength + 2` bytes for one line: as soon as a line
/// is known to be too long it emits `.oversized` and from then on drops all input, because the
/// connection is about to be closed and nothing after an oversized line can be framed reliably.
public struct LineFrameDecoder: NIOSingleStepByteToMessageDecoder, Sendable {
    public typealias InboundOut = LineFrame

    /// How many bytes of an oversized line are kept to recover its id.
    public static let oversizedPrefixLength = 128

    public let maxLineLength: Int
    private var scanned = 0
    private var discarding = false

    public init(maxLineLength: Int) {
        precondition(maxLineLength > 0, "maxLineLength must be positive")
        self.maxLineLength = maxLineLength
    }

    public mutating func decode(buffer: inout ByteBuffer) throws -> LineFrame? {
        if self.discarding {
            buffer.moveReaderIndex(to: buffer.writerIndex)
            return nil
        }
        let view = buffer.readableBytesView
        let searchStart = view.startIndex + self.scanned
        if let newline = view[searchStart...].firstIndex(of: UInt8(ascii: "\n")) {
            var length = newline - view.startIndex
            if length > 0, view[newline - 1] == UInt8(ascii: "\r") {
                length -= 1
            }
            self.scanned = 0
            if length > self.maxLineLength {
                return self.overflow(&buffer)
            }
            let line = buffer.getSlice(at: buffer.readerIndex, length: length)!
            buffer.moveReaderIndex(forwardBy: newline - view.startIndex + 1)
            return .line(line)
        }
        self.scanned = view.count
        // Without a terminator the line is already too long once it holds more than the maximum,
        // unless the one extra byte is the CR of a CRLF still to come.
        let excess = view.count - self.maxLineLength
        if excess > 1 || (excess == 1 && view.last != UInt8(ascii: "\r")) {
            return self.overflow(&buffer)
        }
        return nil
    }

    public mutating func decodeLast(buffer: inout ByteBuffer, seenEOF: Bool) throws -> LineFrame? {
        // A final line without a terminator is incomplete: the peer went away mid-line.
        try self.decode(buffer: &buffer)
    }

    private mutating func overflow(_ buffer: inout ByteBuffer) -> LineFrame {
        self.discarding = true
        self.scanned = 0
        let prefix = buffer.getSlice(
            at: buffer.readerIndex,
            length: min(buffer.readableBytes, Self.oversizedPrefixLength)
        )!
        buffer.moveReaderIndex(to: buffer.writerIndex)
        return .oversized(prefix: prefix)
    }
}
