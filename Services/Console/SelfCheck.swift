import ArgumentParser
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import NIOCore
import NIOPosix
import NIOSSL

/// `console health` and `console ready`: what its image's HEALTHCHECK and Kubernetes' probes
/// run (exec, no shell in the image). Each asks the console on this machine over HTTPS:
/// `/health` answers while the console serves; `/ready` while the gateway answers it too.
struct SelfCheck {
    /// Asks `path` of the console at `host:port` and returns the status code. The certificate
    /// is not checked: this is the console asking itself over loopback, whatever name its
    /// certificate carries (the deployment's, or a public one).
    static func status(host: String, port: Int, path: String, timeout: TimeAmount = .seconds(3)) async throws -> Int {
        var configuration = TLSConfiguration.makeClientConfiguration()
        configuration.certificateVerification = .none
        let context = try NIOSSLContext(configuration: configuration)
        let answer = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connectTimeout(timeout)
            .connect(host: host, port: port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(NIOSSLClientHandler(context: context, serverHostname: nil))
                    return try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel)
                }
            }
        return try await answer.executeThenClose { inbound, outbound in
            try await outbound.write(ByteBuffer(string: "GET \(path) HTTP/1.1\r\nHost: \(host)\r\nConnection: close\r\n\r\n"))
            var head = ByteBuffer()
            for try await chunk in inbound {
                var chunk = chunk
                head.writeBuffer(&chunk)
                // "HTTP/1.1 200 OK": the status is all this asks.
                let text = String(buffer: head)
                if let line = text.split(separator: "\r\n", maxSplits: 1).first, text.contains("\r\n") {
                    let parts = line.split(separator: " ")
                    guard parts.count >= 2, let code = Int(parts[1]) else { throw SelfCheckFailure("the console answered \(line)") }
                    return code
                }
                if head.readableBytes > 4096 { break }
            }
            throw SelfCheckFailure("the console closed the connection without answering")
        }
    }

    /// The address to ask: the one the console listens on, loopback for a wildcard.
    static func address(_ host: String) -> String {
        ["0.0.0.0", "::", "[::]"].contains(host) ? "127.0.0.1" : host
    }
}

/// `console health` and `console ready`: the same question of a different path.
protocol SelfCheckCommand: AsyncParsableCommand {
    var listening: Listening { get }
    /// The path asked, and what a status other than 200 means.
    static var path: String { get }
    static var meaning: String { get }
}

extension SelfCheckCommand {
    func run() async throws {
        let (host, port) = (SelfCheck.address(self.listening.host), self.listening.port)
        let status: Int
        do {
            status = try await SelfCheck.status(host: host, port: port, path: Self.path)
        } catch let error as SelfCheckFailure {
            throw error
        } catch {
            throw SelfCheckFailure("cannot reach the console at https://\(host):\(port): \(error)")
        }
        guard status == 200 else { throw SelfCheckFailure("\(Self.path) answered \(status)\(Self.meaning)") }
    }
}

extension ConsoleCommand {
    struct Health: SelfCheckCommand {
        static let configuration = CommandConfiguration(abstract: "Exit 0 when the console on this machine serves pages (its image's HEALTHCHECK).")
        static let path = "/health"
        static let meaning = ""
        @OptionGroup var listening: Listening
    }

    struct Ready: SelfCheckCommand {
        static let configuration = CommandConfiguration(abstract: "Exit 0 when the console on this machine serves pages and the gateway answers it (a readiness probe).")
        static let path = "/ready"
        static let meaning = ": the gateway does not answer the console"
        @OptionGroup var listening: Listening
    }
}

/// Why a self-check failed, said in one line (no usage text: nothing was typed wrong).
struct SelfCheckFailure: Error, CustomStringConvertible {
    var description: String

    init(_ description: String) {
        self.description = description
    }
}
