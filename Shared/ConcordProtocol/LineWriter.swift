import NIOCore

/// Writes a line's parts into a buffer in one pass, after one capacity check: a `ByteBuffer`
/// write checks capacity and moves indices for every part, which for the five to fifteen short
/// parts of a request or an answer cost more than copying their bytes. The caller counts the
/// capacity beside what it puts, rather than in a counting pass over the same parts, which cost
/// more again (the figures: docs/performance.md).
struct LineWriter: ~Copyable {
    private let base: UnsafeMutableRawPointer
    private(set) var count = 0

    private init(_ base: UnsafeMutableRawPointer) {
        self.base = base
    }

    /// Runs `write` over at least `capacity` writable bytes of `buffer`, then moves its writer
    /// index past what `write` put there. `capacity` must cover every byte `write` puts.
    static func write(into buffer: inout ByteBuffer, capacity: Int, _ write: (inout LineWriter) -> Void) {
        buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: capacity) { bytes in
            var writer = LineWriter(bytes.baseAddress!)
            write(&writer)
            precondition(writer.count <= capacity, "a line's parts outgrew the capacity counted for them")
            return writer.count
        }
    }

    mutating func put(_ byte: UInt8) {
        self.base.storeBytes(of: byte, toByteOffset: self.count, as: UInt8.self)
        self.count += 1
    }

    mutating func put(_ string: String) {
        // Native strings, which are all this writer meets, lend their bytes without a copy of
        // the string (`withUTF8` needs a `var`, which takes a reference count a call).
        let written: Void? = string.utf8.withContiguousStorageIfAvailable { self.put(UnsafeRawBufferPointer($0)) }
        if written == nil {
            var string = string
            string.withUTF8 { self.put(UnsafeRawBufferPointer($0)) }
        }
    }

    mutating func put(_ text: StaticString) {
        text.withUTF8Buffer { self.put(UnsafeRawBufferPointer($0)) }
    }

    mutating func put(_ bytes: ByteBuffer) {
        bytes.withUnsafeReadableBytes { self.put($0) }
    }

    mutating func put(_ bytes: UnsafeRawBufferPointer) {
        guard let source = bytes.baseAddress, !bytes.isEmpty else { return }
        (self.base + self.count).copyMemory(from: source, byteCount: bytes.count)
        self.count += bytes.count
    }

    /// ` key=value`.
    mutating func putEntry(_ key: String, _ value: String) {
        self.put(UInt8(ascii: " "))
        self.put(key)
        self.put(UInt8(ascii: "="))
        self.put(value)
    }

    /// A number's decimal digits, written from the last one back.
    mutating func putDecimal(_ value: UInt64) {
        var digits = 1
        var rest = value / 10
        while rest > 0 {
            digits += 1
            rest /= 10
        }
        var value = value
        var at = self.count + digits - 1
        repeat {
            self.base.storeBytes(of: UInt8(ascii: "0") + UInt8(value % 10), toByteOffset: at, as: UInt8.self)
            value /= 10
            at -= 1
        } while value > 0
        self.count += digits
    }

    /// The most bytes `putDecimal` puts.
    static let maxDecimalLength = 20

    /// How many bytes ` key=value` takes.
    static func entryLength(_ key: String, _ value: String) -> Int {
        2 + key.utf8.count + value.utf8.count
    }
}

extension ByteBuffer {
    /// Makes a buffer of outgoing lines ready for the next ones once its bytes were handed to a
    /// write and flush. TLS is done with them once it has encrypted them, during the flush, so the
    /// same storage is written again without an allocation (two a forwarded request, before:
    /// docs/performance.md); a write that still holds them gets a new
    /// storage, and a buffer grown past 64 KiB by a large answer is let go of rather than kept
    /// for the connection's life.
    public mutating func clearAfterWrite(allocator: ByteBufferAllocator) {
        if self.capacity > 64 << 10 {
            self = allocator.buffer(capacity: 512)
        } else {
            self.clear()
        }
    }
}
