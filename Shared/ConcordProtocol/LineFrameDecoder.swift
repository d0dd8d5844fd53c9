import NIOCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

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
        // The offset of the next LF from the reader index, found with memchr: every byte of every
        // line goes through here (docs/performance.md).
        let scanned = self.scanned
        let newline: Int? = buffer.withUnsafeReadableBytes { bytes in
            guard scanned < bytes.count, let base = bytes.baseAddress,
                  let hit = memchr(base + scanned, Int32(UInt8(ascii: "\n")), bytes.count - scanned)
            else { return nil }
            return base.distance(to: UnsafeRawPointer(hit))
        }
        if let newline {
            var length = newline
            if length > 0, buffer.getInteger(at: buffer.readerIndex + newline - 1, as: UInt8.self) == UInt8(ascii: "\r") {
                length -= 1
            }
            self.scanned = 0
            if length > self.maxLineLength {
                return self.overflow(&buffer)
            }
            let line = buffer.getSlice(at: buffer.readerIndex, length: length)!
            buffer.moveReaderIndex(forwardBy: newline + 1)
            return .line(line)
        }
        let count = buffer.readableBytes
        self.scanned = count
        // Without a terminator the line is already too long once it holds more than the maximum,
        // unless the one extra byte is the CR of a CRLF still to come.
        let excess = count - self.maxLineLength
        if excess > 1 || (excess == 1 && buffer.getInteger(at: buffer.writerIndex - 1, as: UInt8.self) != UInt8(ascii: "\r")) {
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
