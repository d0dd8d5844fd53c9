#if canImport(Glibc)
import Glibc
#endif

/// Reads text in another encoding into UTF-8, chunk by chunk, with the C library's iconv(3):
/// what `concord trade import --encoding windows-1251` reads a Russian customs extract with.
/// A byte sequence that is not text in that encoding is refused with where it is; none is ever
/// replaced by a stand-in character. A sequence cut by the end of a chunk waits for the next.
public final class Transcoder {
    /// The encodings named in help and errors; iconv knows many more (`iconv --list`).
    public static let suggested = ["windows-1251", "iso-8859-1", "utf-16"]

    public struct Failure: Error, CustomStringConvertible {
        public var description: String
    }

    public let encoding: String
    private let converter: iconv_t
    /// The tail of the last chunk: the start of a sequence that continues in the next.
    private var pending: [UInt8] = []
    /// Bytes read, and lines converted, so far: where a bad sequence is.
    private var offset = 0
    private var lines = 1

    public init(from encoding: String) throws(Failure) {
        // iconv_open answers (iconv_t)-1 for an encoding it does not know.
        guard let converter = iconv_open("UTF-8", encoding), converter != iconv_t(bitPattern: -1) else {
            throw Failure(description: "unknown encoding '\(encoding)'; try \(Self.suggested.joined(separator: ", ")) (iconv --list names them all)")
        }
        self.encoding = encoding
        self.converter = converter
    }

    deinit {
        iconv_close(self.converter)
    }

    /// Converts `bytes`, the next part of the input; with `final`, the input ends here.
    public func convert(_ bytes: some Sequence<UInt8>, final: Bool = false) throws(Failure) -> [UInt8] {
        var input = self.pending
        input.append(contentsOf: bytes)
        self.pending = []
        // UTF-8 takes at most four bytes for a character any encoding takes at least one for.
        var output = [UInt8](repeating: 0, count: input.count * 4 + 16)
        var consumed = 0
        var produced = 0
        var failure: (errno: Int32, at: Int)?
        input.withUnsafeMutableBytes { inputBytes in
            output.withUnsafeMutableBytes { outputBytes in
                var inputPointer = inputBytes.baseAddress?.assumingMemoryBound(to: CChar.self)
                var inputLeft = inputBytes.count
                var outputPointer = outputBytes.baseAddress?.assumingMemoryBound(to: CChar.self)
                var outputLeft = outputBytes.count
                if iconv(self.converter, &inputPointer, &inputLeft, &outputPointer, &outputLeft) == -1 {
                    failure = (errno, inputBytes.count - inputLeft)
                }
                consumed = inputBytes.count - inputLeft
                produced = outputBytes.count - outputLeft
            }
        }
        output.removeSubrange(produced...)
        let line = self.lines + output.count(where: { $0 == UInt8(ascii: "\n") })
        if let failure {
            switch failure.errno {
            case EINVAL where !final:
                // A sequence cut by the chunk's end: the rest comes with the next chunk.
                self.pending = Array(input[consumed...])
            case EINVAL:
                throw Failure(description: "line \(line) (byte \(self.offset + failure.at + 1)): the file ends inside a character; is it really \(self.encoding)?")
            default:
                let byte = input[failure.at]
                throw Failure(description: "line \(line) (byte \(self.offset + failure.at + 1)): byte 0x\(String(byte, radix: 16, uppercase: true)) is not \(self.encoding) text")
            }
        }
        self.offset += consumed
        self.lines = line
        return output
    }

    /// The encoding a byte order mark at the start of `bytes` says, where UTF-8 is not it:
    /// UTF-16 either way round (iconv reads the mark and drops it).
    public static func encoding(ofMark bytes: some Collection<UInt8>) -> String? {
        let start = Array(bytes.prefix(2))
        return start == [0xFF, 0xFE] || start == [0xFE, 0xFF] ? "UTF-16" : nil
    }
}
