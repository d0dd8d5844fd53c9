import CompressNIO
#if canImport(Glibc)
import Glibc
#endif
import NIOCore

/// A file read in chunks, inflated on the way when it is gzip (`.gz`): memory does not grow
/// with the file. `bytesRead` counts the file's own bytes, for progress against its size.
struct FileChunks {
    let path: String
    let size: Int
    private(set) var bytesRead = 0

    init(path: String) throws {
        var status = stat()
        guard stat(path, &status) == 0 else { throw ChunkError("cannot read \(path): \(String(cString: strerror(errno)))") }
        self.path = path
        self.size = Int(status.st_size)
    }

    struct ChunkError: Error, CustomStringConvertible {
        var description: String
        init(_ description: String) { self.description = description }
    }

    /// Calls `body` with each chunk of the file's content (inflated when gzip).
    mutating func forEach(_ body: (ByteBuffer) async throws -> Void) async throws {
        let descriptor = open(self.path, O_RDONLY)
        guard descriptor >= 0 else { throw ChunkError("cannot open \(self.path): \(String(cString: strerror(errno)))") }
        defer { close(descriptor) }
        let gzip = self.path.hasSuffix(".gz")
        let decompressor = gzip ? try ZlibDecompressor(algorithm: .gzip) : nil
        var window = ByteBufferAllocator().buffer(capacity: 1 << 20)
        var raw = [UInt8](repeating: 0, count: 1 << 18)
        while true {
            let count = raw.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
            if count < 0, errno == EINTR { continue }
            guard count >= 0 else { throw ChunkError("cannot read \(self.path): \(String(cString: strerror(errno)))") }
            if count == 0 { return }
            self.bytesRead += count
            var chunk = ByteBuffer(bytes: raw[0..<count])
            if let decompressor {
                do {
                    try await chunk.decompressStream(with: decompressor, window: &window) { inflated in try await body(inflated) }
                    // CompressNIO hands over what is left in the window at the end of the input
                    // but leaves it there: emptied here, or the next chunk would hand it over again.
                    window.clear()
                } catch let error as CompressNIOError {
                    throw ChunkError("\(self.path) is not valid gzip: \(error)")
                }
            } else {
                try await body(chunk)
            }
        }
    }
}
