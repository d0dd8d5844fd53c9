import ConcordProtocol
import ConcordTLS
import Histogram
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import NIOSSL

/// Drives N connections, each keeping `depth` requests outstanding, for a fixed time, and measures
/// what comes back. Every request is the same verb and body; ids are unique per connection.
public struct LoadGenerator: Sendable {
    public struct Configuration: Sendable {
        public var host: String
        public var port: Int
        public var tls: TLSIdentity
        public var verb: String
        public var body: String
        /// The token sent as `auth=` metadata on every request (for calls through the gateway).
        public var token: String?
        public var connections: Int
        /// Requests outstanding per connection (1 = unpipelined).
        public var depth: Int
        public var duration: Duration
        /// Requests issued before measuring starts, per connection.
        public var warmup: Duration
        public var threads: Int

        public init(
            host: String, port: Int, tls: TLSIdentity, verb: String = "ping", body: String = "{}",
            connections: Int = 50, depth: Int = 1, duration: Duration = .seconds(5), warmup: Duration = .seconds(1), threads: Int = 1
        ) {
            self.host = host
            self.port = port
            self.tls = tls
            self.verb = verb
            self.body = body
            self.connections = connections
            self.depth = depth
            self.duration = duration
            self.warmup = warmup
            self.threads = threads
        }
    }

    public struct Report: Sendable {
        public var requests: Int
        public var errors: Int
        public var firstError: String?
        public var seconds: Double
        public var histogram: Histogram<UInt64>

        public var requestsPerSecond: Double { Double(self.requests) / self.seconds }
        /// Latency percentile in milliseconds.
        public func latency(_ percentile: Double) -> Double {
            Double(self.histogram.valueAtPercentile(percentile)) / 1000
        }

        public var summary: String {
            let rate = (self.requestsPerSecond * 10).rounded() / 10
            func ms(_ value: Double) -> String { String(Int((value * 1000).rounded())) .leftPadMicros }
            return "requests/s: \(rate)  p50: \(ms(self.latency(50))) ms  p99: \(ms(self.latency(99))) ms  p999: \(ms(self.latency(99.9))) ms"
                + "  requests: \(self.requests)  errors: \(self.errors)"
                + (self.firstError.map { "  first error: \($0)" } ?? "")
        }
    }

    public let configuration: Configuration

    public init(configuration: Configuration) {
        self.configuration = configuration
    }

    public func run() async throws -> Report {
        let configuration = self.configuration
        let group = MultiThreadedEventLoopGroup(numberOfThreads: configuration.threads)
        defer { group.shutdownGracefully { _ in } }
        let sslContext = try NIOSSLContext(configuration: ConcordTLSConfiguration.client(identity: configuration.tls))
        let serverName: String? = CertificateAuthority.addressBytes(configuration.host) == nil ? configuration.host : nil
        let shared = NIOLockedValueBox(Tally())
        let measureFrom = NIODeadline.now() + TimeAmount(configuration.warmup)
        let stopAt = measureFrom + TimeAmount(configuration.duration)
        var line = ByteBuffer()
        line.writeString(" \(configuration.verb)\(configuration.token.map { " auth=\($0)" } ?? "") \(configuration.body)\n")
        let suffix = line

        var channels: [any Channel] = []
        for _ in 0..<configuration.connections {
            let channel = try await ClientBootstrap(group: group)
                .channelOption(.tcpOption(.tcp_nodelay), value: 1)
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandlers([
                            try NIOSSLClientHandler(context: sslContext, serverHostname: serverName),
                            LoadHandler(depth: configuration.depth, suffix: suffix, measureFrom: measureFrom, stopAt: stopAt, tally: shared),
                        ])
                    }
                }
                .connect(host: configuration.host, port: configuration.port)
                .get()
            channels.append(channel)
        }
        for channel in channels {
            try await channel.closeFuture.get()
        }
        let tally = shared.withLockedValue { $0 }
        return Report(
            requests: tally.requests,
            errors: tally.errors,
            firstError: tally.firstError,
            seconds: Double(configuration.duration.wholeMilliseconds) / 1000,
            histogram: tally.histogram
        )
    }
}

struct Tally: Sendable {
    var requests = 0
    var errors = 0
    var firstError: String?
    var histogram = Histogram<UInt64>(highestTrackableValue: 60_000_000, numberOfSignificantValueDigits: .three)

    mutating func merge(_ other: LoadHandler.Local) {
        self.requests += other.requests
        self.errors += other.errors
        if self.firstError == nil { self.firstError = other.firstError }
        self.histogram.add(other.histogram)
    }
}

/// One connection's load: keeps `depth` requests outstanding until `stopAt`, then closes.
final class LoadHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    struct Local {
        var requests = 0
        var errors = 0
        var firstError: String?
        var histogram = Histogram<UInt64>(highestTrackableValue: 60_000_000, numberOfSignificantValueDigits: .three)
    }

    private let depth: Int
    private let suffix: ByteBuffer
    private let measureFrom: NIODeadline
    private let stopAt: NIODeadline
    private let tally: NIOLockedValueBox<Tally>
    private var local = Local()
    /// One slot per outstanding request: a request's id is its slot plus a multiple of `depth`,
    /// so an answer finds its slot by a remainder, with no table to hash into.
    private var slotIDs: [UInt64]
    private var slotSentAt: [NIODeadline]
    private var outstanding = 0
    private var output = ByteBuffer()
    private var stopping = false
    private var framer = LineFramer(maxLineLength: 16 << 20)
    private static let free = UInt64.max

    init(depth: Int, suffix: ByteBuffer, measureFrom: NIODeadline, stopAt: NIODeadline, tally: NIOLockedValueBox<Tally>) {
        self.depth = depth
        self.suffix = suffix
        self.measureFrom = measureFrom
        self.stopAt = stopAt
        self.tally = tally
        self.slotIDs = Array(repeating: Self.free, count: depth)
        self.slotSentAt = Array(repeating: .uptimeNanoseconds(0), count: depth)
    }

    func channelActive(context: ChannelHandlerContext) {
        self.output = context.channel.allocator.buffer(capacity: 4096)
        let now = NIODeadline.now()
        for slot in 0..<self.depth { self.send(id: UInt64(slot), slot: slot, now: now) }
        self.flush(context: context)
        context.fireChannelActive()
    }

    private func send(id: UInt64, slot: Int, now: NIODeadline) {
        self.slotIDs[slot] = id
        self.slotSentAt[slot] = now
        self.outstanding += 1
        // Digits straight into the buffer: formatting a `String` for each id was a tenth of the
        // generator's CPU at depth 16.
        LineCodec.writeDecimal(id, into: &self.output)
        self.output.writeImmutableBuffer(self.suffix)
    }

    private func flush(context: ChannelHandlerContext) {
        guard self.output.readableBytes > 0 else { return }
        context.writeAndFlush(self.wrapOutboundOut(self.output), promise: nil)
        self.output = context.channel.allocator.buffer(capacity: 4096)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        self.framer.append(self.unwrapInboundIn(data))
        // One clock reading per read: the lines of one read arrived together.
        let now = NIODeadline.now()
        while let frame = self.framer.next() {
            guard case .line(let line) = frame, !self.stopping else { continue }
            self.received(line, now: now, context: context)
        }
    }

    /// Reads `ID ok ...` or `ID err ...` straight from the bytes: the generator must cost less
    /// than the server it measures.
    private func received(_ line: ByteBuffer, now: NIODeadline, context: ChannelHandlerContext) {
        let parsed: (id: UInt64, isError: Bool)? = line.withUnsafeReadableBytes { bytes in
            var id: UInt64 = 0
            var index = 0
            while index < bytes.count, bytes[index] != UInt8(ascii: " ") {
                let byte = bytes[index]
                // "*" events (hello, ping, bye) and anything else not a number are not answers.
                guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else { return nil }
                id = id &* 10 &+ UInt64(byte - UInt8(ascii: "0"))
                index += 1
            }
            guard index > 0, index < bytes.count else { return nil }
            return (id, bytes.count > index + 3 && bytes[index + 1] == UInt8(ascii: "e"))
        }
        guard let (id, isError) = parsed else { return }
        let slot = Int(id % UInt64(self.depth))
        guard self.slotIDs[slot] == id else { return }
        let start = self.slotSentAt[slot]
        self.slotIDs[slot] = Self.free
        self.outstanding -= 1
        if start >= self.measureFrom, now <= self.stopAt {
            self.local.requests += 1
            if isError {
                self.local.errors += 1
                if self.local.firstError == nil { self.local.firstError = String(buffer: line) }
            }
            self.local.histogram.record(UInt64(max(0, (now - start).nanoseconds / 1000)))
        }
        if now < self.stopAt {
            self.send(id: id &+ UInt64(self.depth), slot: slot, now: now)
        } else if self.outstanding == 0 {
            self.finish(context: context)
        }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        self.flush(context: context)
        if NIODeadline.now() >= self.stopAt, !self.stopping {
            self.finish(context: context)
        }
    }

    private func finish(context: ChannelHandlerContext) {
        guard !self.stopping else { return }
        self.stopping = true
        let local = self.local
        self.tally.withLockedValue { $0.merge(local) }
        context.close(promise: nil)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if self.local.firstError == nil { self.local.firstError = "\(error)" }
        self.finish(context: context)
    }

    func channelInactive(context: ChannelHandlerContext) {
        self.finish(context: context)
    }
}

extension String {
    /// "1234" (microseconds) as "1.234".
    fileprivate var leftPadMicros: String {
        let padded = String(repeating: "0", count: max(0, 4 - self.count)) + self
        return "\(padded.dropLast(3)).\(padded.suffix(3))"
    }
}
