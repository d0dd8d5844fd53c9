import NIOCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The least a Concord gateway must do for each forwarded request, done in the cheapest way we
/// know, with none of Concord's own code: the second floor under the gateway in
/// `scripts/bench-reference.sh` (`concord reference-proxy --lines`). The bare proxy passes bytes;
/// this one also does what the protocol asks of a proxy (docs/protocol.md):
///
/// - frames the client's lines and reads each one's id, verb and metadata;
/// - looks the `auth` token up, and the verb's kind, and refuses a role too low for it;
/// - writes the request on to the service under an id of its own, with `actor` and `role` for
///   the token's holder, the deadline left, a new `traceparent` when the request brought none,
///   the other metadata and the body as received, and without `auth`;
/// - keeps the client's id and deadline by that id, answers `deadline_exceeded` for a request
///   the service has not answered by then, and gives each answer back under the client's id;
/// - answers the service's `* ping`, and passes its `* hello` on.
///
/// What it leaves out, because the gateway does it for reasons other than the protocol: several
/// replicas and the choice between them, retries, admission and rate limits, the per-connection
/// limits of `ServerConnectionStateMachine`, held reads, metrics and logs. One client connection
/// here has one service connection; the gateway shares one among its clients, which is why ids
/// are rewritten at all.
final class LineRelay {
    struct Grant: Sendable {
        var actor: String
        var mayWrite: Bool
        var role: String
    }

    private let grants: [String: Grant]
    /// The verbs that only read; any other verb writes and needs a role that may write.
    private let reads: Set<String>
    private let defaultDeadline: Int64
    fileprivate var client: ChannelHandlerContext?
    fileprivate var service: ChannelHandlerContext?
    fileprivate var toService = ByteBuffer()
    fileprivate var toClient = ByteBuffer()
    fileprivate var clientPartial: ByteBuffer?
    fileprivate var servicePartial: ByteBuffer?
    private var inFlight: [UInt64: (id: ByteBuffer, deadline: NIODeadline)] = [:]
    private var nextID: UInt64 = 0
    private var expiry: (deadline: NIODeadline, task: Scheduled<Void>)?
    private var random: UInt64

    init(grants: [String: Grant], reads: Set<String>, defaultDeadline: TimeAmount) {
        self.grants = grants
        self.reads = reads
        self.defaultDeadline = defaultDeadline.nanoseconds / 1_000_000
        self.random = UInt64(truncatingIfNeeded: NIODeadline.now().uptimeNanoseconds) | 1
    }

    /// The two handlers: the first for the client's channel, the second for the service's.
    func handlers() -> (Side, Side) {
        (Side(relay: self, isClient: true), Side(relay: self, isClient: false))
    }

    // MARK: Client to service

    fileprivate func clientLine(_ line: ByteBuffer, now: NIODeadline) {
        line.withUnsafeReadableBytes { bytes in
            let count = bytes.count
            guard count > 0 else { return }
            if bytes[0] == UInt8(ascii: "*") { return }  // `* pong`: the gateway's own pings are not measured here
            guard let idEnd = Self.next(UInt8(ascii: " "), in: bytes, from: 0), idEnd > 0 else {
                return self.refuse(id: nil, "bad_request", #"a request is: id verb [key=value ...] [body]"#)
            }
            let verbStart = idEnd + 1
            let verbEnd = Self.next(UInt8(ascii: " "), in: bytes, from: verbStart) ?? count
            // Metadata runs until the body ({ or [) or the end of the line.
            var auth: Range<Int>?
            var deadline: Int64?
            var traced = false
            var bodyStart = count
            var index = verbEnd + 1
            while index < count {
                let byte = bytes[index]
                if byte == UInt8(ascii: "{") || byte == UInt8(ascii: "[") {
                    bodyStart = index
                    break
                }
                let end = Self.next(UInt8(ascii: " "), in: bytes, from: index) ?? count
                if Self.starts(bytes, at: index, with: "auth=") {
                    auth = (index + 5)..<end
                } else if Self.starts(bytes, at: index, with: "deadline=") {
                    deadline = Self.number(bytes, (index + 9)..<end)
                } else if Self.starts(bytes, at: index, with: "trace=") {
                    traced = true
                }
                index = end + 1
            }
            let id = line.getSlice(at: line.readerIndex, length: idEnd)!
            guard let auth, let grant = self.grants[String(decoding: UnsafeRawBufferPointer(rebasing: bytes[auth]), as: UTF8.self)] else {
                return self.refuse(id: id, "unauthorized", #"the token is unknown or was revoked","field":"metadata.auth"#)
            }
            let verb = UnsafeRawBufferPointer(rebasing: bytes[verbStart..<verbEnd])
            if !grant.mayWrite, !self.reads.contains(String(decoding: verb, as: UTF8.self)) {
                return self.refuse(id: id, "forbidden", #"the verb needs a role that may write","field":"metadata.auth"#)
            }
            let milliseconds = min(deadline ?? self.defaultDeadline, self.defaultDeadline)
            self.nextID &+= 1
            let ours = self.nextID
            let until = now + .milliseconds(milliseconds)
            self.inFlight[ours] = (id, until)
            if self.expiry == nil { self.armExpiry(at: until) }

            Self.writeNumber(ours, into: &self.toService)
            self.toService.writeInteger(UInt8(ascii: " "))
            self.toService.writeBytes(verb)
            self.toService.writeStaticString(" actor=")
            self.toService.writeString(grant.actor)
            self.toService.writeStaticString(" role=")
            self.toService.writeString(grant.role)
            self.toService.writeStaticString(" deadline=")
            Self.writeNumber(UInt64(max(milliseconds, 1)), into: &self.toService)
            if !traced { self.writeTrace() }
            // The other metadata, as received.
            index = verbEnd + 1
            while index < bodyStart {
                let end = Self.next(UInt8(ascii: " "), in: bytes, from: index) ?? count
                if !Self.starts(bytes, at: index, with: "auth="), !Self.starts(bytes, at: index, with: "deadline="),
                   !Self.starts(bytes, at: index, with: "actor="), !Self.starts(bytes, at: index, with: "role=")
                {
                    self.toService.writeInteger(UInt8(ascii: " "))
                    self.toService.writeBytes(UnsafeRawBufferPointer(rebasing: bytes[index..<min(end, bodyStart)]))
                }
                index = end + 1
            }
            if bodyStart < count {
                self.toService.writeInteger(UInt8(ascii: " "))
                self.toService.writeBytes(UnsafeRawBufferPointer(rebasing: bytes[bodyStart..<count]))
            }
            self.toService.writeInteger(UInt8(ascii: "\n"))
        }
    }

    private func refuse(id: ByteBuffer?, _ code: StaticString, _ message: StaticString) {
        if var id { self.toClient.writeBuffer(&id) } else { self.toClient.writeStaticString("*") }
        self.toClient.writeStaticString(" err ")
        self.toClient.writeStaticString(code)
        self.toClient.writeStaticString(#" {"message":""#)
        self.toClient.writeStaticString(message)
        self.toClient.writeStaticString("\"}\n")
    }

    /// ` trace=00-<32 hex>-<16 hex>-01`, from a SplitMix64 stream.
    private func writeTrace() {
        self.toService.writeStaticString(" trace=00-")
        for part in 0..<3 {
            self.random &+= 0x9E37_79B9_7F4A_7C15
            var value = self.random
            value = (value ^ (value >> 30)) &* 0xBF58_476D_1CE4_E5B9
            value = (value ^ (value >> 27)) &* 0x94D0_49BB_1331_11EB
            value ^= value >> 31
            if part == 2 { self.toService.writeInteger(UInt8(ascii: "-")) }
            self.toService.writeWithUnsafeMutableBytes(minimumWritableBytes: 16) { out in
                for digit in 0..<16 {
                    let nibble = UInt8(truncatingIfNeeded: value >> UInt64(60 - 4 * digit)) & 0xF
                    out[digit] = nibble < 10 ? UInt8(ascii: "0") + nibble : UInt8(ascii: "a") + nibble - 10
                }
                return 16
            }
        }
        self.toService.writeStaticString("-01")
    }

    // MARK: Service to client

    fileprivate func serviceLine(_ line: ByteBuffer) {
        line.withUnsafeReadableBytes { bytes in
            guard !bytes.isEmpty else { return }
            if bytes[0] == UInt8(ascii: "*") {
                if Self.starts(bytes, at: 0, with: "* ping") {
                    self.toService.writeStaticString("* pong\n")
                } else if Self.starts(bytes, at: 0, with: "* hello") {
                    self.toClient.writeBytes(bytes)
                    self.toClient.writeInteger(UInt8(ascii: "\n"))
                }
                return
            }
            let idEnd = Self.next(UInt8(ascii: " "), in: bytes, from: 0) ?? bytes.count
            guard let ours = Self.number(bytes, 0..<idEnd), var entry = self.inFlight.removeValue(forKey: UInt64(ours)) else {
                return  // answered already: its deadline passed
            }
            self.toClient.writeBuffer(&entry.id)
            self.toClient.writeBytes(UnsafeRawBufferPointer(rebasing: bytes[idEnd...]))
            self.toClient.writeInteger(UInt8(ascii: "\n"))
        }
    }

    // MARK: Deadlines

    /// One timer at a time, at the earliest deadline it knew of when armed; when it fires, what
    /// is overdue is answered and it is armed again for the earliest left. A request answered in
    /// time costs no timer.
    private func armExpiry(at deadline: NIODeadline) {
        guard let eventLoop = self.client?.eventLoop else { return }
        let task = eventLoop.scheduleTask(deadline: deadline) { [self] in
            self.expiry = nil
            let now = eventLoop.now
            var earliest: NIODeadline?
            for (key, entry) in self.inFlight {
                if entry.deadline <= now {
                    self.inFlight[key] = nil
                    self.refuse(id: entry.id, "deadline_exceeded", "the service did not answer in time")
                } else {
                    earliest = min(earliest ?? entry.deadline, entry.deadline)
                }
            }
            if let earliest { self.armExpiry(at: earliest) }
            self.flushToClient()
        }
        self.expiry = (deadline, task)
    }

    fileprivate func closed() {
        self.expiry?.task.cancel()
        self.expiry = nil
        self.inFlight.removeAll()
        self.client?.close(promise: nil)
        self.service?.close(promise: nil)
    }

    // MARK: Writing

    fileprivate func flushToService() {
        guard self.toService.readableBytes > 0, let service = self.service else { return }
        service.writeAndFlush(NIOAny(self.toService), promise: nil)
        self.toService.clear()
    }

    fileprivate func flushToClient() {
        guard self.toClient.readableBytes > 0, let client = self.client else { return }
        client.writeAndFlush(NIOAny(self.toClient), promise: nil)
        self.toClient.clear()
    }

    // MARK: Bytes

    /// Calls `body` with each whole line of `data` (without its LF or CR LF), keeping a partial
    /// last line in `partial` for the next read.
    fileprivate static func lines(_ data: ByteBuffer, partial: inout ByteBuffer?, _ body: (ByteBuffer) -> Void) {
        var data = data
        if var kept = partial {
            kept.writeBuffer(&data)
            data = kept
            partial = nil
        }
        while let length = data.withUnsafeReadableBytes({ Self.next(UInt8(ascii: "\n"), in: $0, from: 0) }) {
            var line = data.readSlice(length: length)!
            data.moveReaderIndex(forwardBy: 1)
            if line.readableBytesView.last == UInt8(ascii: "\r") { line.moveWriterIndex(to: line.writerIndex - 1) }
            body(line)
        }
        if data.readableBytes > 0 { partial = data }
    }

    private static func next(_ byte: UInt8, in bytes: UnsafeRawBufferPointer, from start: Int) -> Int? {
        guard start < bytes.count, let base = bytes.baseAddress,
              let found = memchr(base + start, Int32(byte), bytes.count - start)
        else { return nil }
        return base.distance(to: UnsafeRawPointer(found))
    }

    private static func starts(_ bytes: UnsafeRawBufferPointer, at index: Int, with prefix: StaticString) -> Bool {
        let length = prefix.utf8CodeUnitCount
        guard bytes.count - index >= length else { return false }
        return memcmp(bytes.baseAddress! + index, prefix.utf8Start, length) == 0
    }

    private static func number(_ bytes: UnsafeRawBufferPointer, _ range: Range<Int>) -> Int64? {
        guard !range.isEmpty, range.count <= 18 else { return nil }
        var value: Int64 = 0
        for index in range {
            let digit = bytes[index] &- UInt8(ascii: "0")
            guard digit < 10 else { return nil }
            value = value * 10 + Int64(digit)
        }
        return value
    }

    private static func writeNumber(_ value: UInt64, into buffer: inout ByteBuffer) {
        var digits = 1
        var rest = value / 10
        while rest > 0 { digits += 1; rest /= 10 }
        buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: digits) { out in
            var value = value
            for index in stride(from: digits - 1, through: 0, by: -1) {
                out[index] = UInt8(ascii: "0") + UInt8(value % 10)
                value /= 10
            }
            return digits
        }
    }
}

extension LineRelay {
    /// The handler on one of the two channels: what it reads is relayed and written to the other
    /// side when the read burst ends (with what this side is answered directly: refusals to a
    /// client, pongs to a service).
    final class Side: ChannelInboundHandler {
        typealias InboundIn = ByteBuffer
        private let relay: LineRelay
        private let isClient: Bool

        fileprivate init(relay: LineRelay, isClient: Bool) {
            self.relay = relay
            self.isClient = isClient
        }

        func handlerAdded(context: ChannelHandlerContext) {
            // Each side's context, and the buffer of what is written to it.
            let buffer = context.channel.allocator.buffer(capacity: 512)
            if self.isClient {
                (self.relay.client, self.relay.toClient) = (context, buffer)
            } else {
                (self.relay.service, self.relay.toService) = (context, buffer)
            }
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            let relay = self.relay
            if self.isClient {
                let now = context.eventLoop.now
                LineRelay.lines(self.unwrapInboundIn(data), partial: &relay.clientPartial) { relay.clientLine($0, now: now) }
            } else {
                LineRelay.lines(self.unwrapInboundIn(data), partial: &relay.servicePartial) { relay.serviceLine($0) }
            }
        }

        func channelReadComplete(context: ChannelHandlerContext) {
            self.relay.flushToService()
            self.relay.flushToClient()
        }

        func channelInactive(context: ChannelHandlerContext) { self.relay.closed() }
        func errorCaught(context: ChannelHandlerContext, error: any Error) { self.relay.closed() }
        func handlerRemoved(context: ChannelHandlerContext) {
            if self.isClient { self.relay.client = nil } else { self.relay.service = nil }
        }
    }
}
