import NIOCore

/// Frames lines out of the reads a handler receives, without a separate pipeline stage.
///
/// The same rules as ``LineFrameDecoder`` (it runs one): a handler that frames for itself avoids
/// a pipeline hop and a dynamic cast per line, which matters when lines are tiny and pipelined.
public struct LineFramer: Sendable {
    private var decoder: LineFrameDecoder
    private var buffer: ByteBuffer?

    public init(maxLineLength: Int) {
        self.decoder = LineFrameDecoder(maxLineLength: maxLineLength)
    }

    /// Adds bytes just read. The first read after the buffer empties is kept without copying.
    public mutating func append(_ bytes: ByteBuffer) {
        if var buffered = self.buffer, buffered.readableBytes > 0 {
            self.buffer = nil  // keep the storage uniquely referenced while appending
            var bytes = bytes
            buffered.writeBuffer(&bytes)
            self.buffer = buffered
        } else {
            self.buffer = bytes
        }
    }

    /// The next complete frame, or nil until more bytes arrive.
    public mutating func next() -> LineFrame? {
        guard var buffered = self.buffer else { return nil }
        self.buffer = nil
        defer {
            if buffered.readableBytes == 0 {
                self.buffer = nil
            } else {
                if buffered.readerIndex > 64 * 1024 { buffered.discardReadBytes() }
                self.buffer = buffered
            }
        }
        // LineFrameDecoder.decode does not throw; it reports oversize as a frame.
        return try? self.decoder.decode(buffer: &buffered)
    }
}
