#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import NIOCore

/// JSON bodies to and from byte buffers, with Foundation's coders.
///
/// Here rather than NIOFoundationCompat's helpers because that module links all of Foundation,
/// and with it ICU's 34 MB of locale data, into every executable; the gateway and the CLI need
/// only FoundationEssentials.
public enum JSONBody {
    public static func decode<T: Decodable>(_ type: T.Type, from buffer: ByteBuffer, using decoder: JSONDecoder = JSONDecoder()) throws -> T {
        try decoder.decode(T.self, from: Data(buffer.readableBytesView))
    }

    public static func encode<T: Encodable>(_ value: T, using encoder: JSONEncoder = JSONEncoder(), allocator: ByteBufferAllocator = ByteBufferAllocator()) throws -> ByteBuffer {
        let data = try encoder.encode(value)
        var buffer = allocator.buffer(capacity: data.count)
        buffer.writeBytes(data)
        return buffer
    }
}
