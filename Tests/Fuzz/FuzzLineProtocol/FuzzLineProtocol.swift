import ConcordProtocol
import NIOCore

/// libFuzzer target (scripts/fuzz): bytes as a peer would send them, through the line framer in
/// two reads split where the first byte says, then every line through the request parser and the
/// response parser. Beyond "no crash": a request that parses, written back out, parses to the
/// same request.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzLineProtocol(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = UnsafeBufferPointer(start: data, count: size)
    var framer = LineFramer(maxLineLength: 4096)
    let split = size > 0 ? Int(bytes[0]) % (size + 1) : 0
    framer.append(ByteBuffer(bytes: bytes[..<split]))
    drain(&framer)
    framer.append(ByteBuffer(bytes: bytes[split...]))
    drain(&framer)
    return 0
}

private func drain(_ framer: inout LineFramer) {
    while let frame = framer.next() {
        switch frame {
        case .line(let line):
            if case .request(let request) = LineCodec.parseClientLine(line) {
                var written = ByteBuffer()
                LineCodec.write(request, into: &written)
                written.moveWriterIndex(to: written.writerIndex - 1) // the LF
                guard case .request(let again) = LineCodec.parseClientLine(written), again == request else {
                    fatalError("a parsed request does not survive writing and parsing again: \(request) -> \(String(buffer: written))")
                }
            }
            _ = try? LineCodec.parseServerLine(line)
            _ = LineCodec.leadingID(line)
        case .oversized(let prefix):
            _ = LineCodec.leadingID(prefix)
        }
    }
}
