import Testing

@testable import Console

/// What the console executable refuses before it starts, each with the option it names.
@Suite("The console's options")
struct ConsoleOptionsTests {
    func refusal(_ arguments: [String]) -> String? {
        do {
            _ = try ConsoleCommand.parseAsRoot(arguments)
            return nil
        } catch {
            return ConsoleCommand.message(for: error)
        }
    }

    @Test func goodOptionsParse() throws {
        #expect(self.refusal(["--port", "0", "--gateway", "127.0.0.1:7400", "--session-hours", "720", "--log-level", "debug"]) == nil)
    }

    @Test func eachBadOptionIsRefusedByName() {
        #expect(self.refusal(["--port", "70000"]) == "--port must be a port number from 0 to 65535, got '70000'")
        #expect(self.refusal(["--session-hours", "0"]) == "--session-hours must be from 1 to 720 (30 days); got 0")
        #expect(self.refusal(["--log-level", "loud"]) == "--log-level must be one of trace, debug, info, notice, warning, error, critical; got 'loud'")
        for gateway in ["7400", "127.0.0.1:", ":7400", "127.0.0.1:99999", "host:port"] {
            #expect(self.refusal(["--gateway", gateway])?.hasPrefix("--gateway (env CONCORD_GATEWAY) must be HOST:PORT") == true, "\(gateway)")
        }
    }

    @Test func thePortFromTheEnvironmentIsCheckedToo() throws {
        #expect(try Listening.port(nil, environment: [:]) == 7443)
        #expect(try Listening.port(nil, environment: ["CONCORD_CONSOLE_PORT": "8443"]) == 8443)
        #expect(try Listening.port(9443, environment: ["CONCORD_CONSOLE_PORT": "8443"]) == 9443)
        #expect(throws: (any Error).self) { try Listening.port(nil, environment: ["CONCORD_CONSOLE_PORT": "https"]) }
    }
}
