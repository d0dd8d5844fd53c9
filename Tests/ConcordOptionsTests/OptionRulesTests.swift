import ArgumentParser
import ConcordOptions
import Testing

@Suite struct OptionRulesTests {
    @Test func aPortComesFromTheFlagBeforeItsVariable() throws {
        let environment = ["CONCORD_PORT": "7401"]
        #expect(try OptionRules.port(7500, variable: "CONCORD_PORT", environment: environment) == 7500)
        #expect(try OptionRules.port(nil, variable: "CONCORD_PORT", environment: environment) == 7401)
        #expect(try OptionRules.port(nil, variable: "CONCORD_PORT", environment: [:]) == nil)
        #expect(try OptionRules.port(0, variable: "CONCORD_PORT", environment: [:]) == 0)
    }

    @Test(arguments: [
        (Int?.some(70_000), [String: String](), "--port must be a port number from 0 to 65535, got '70000'"),
        (Int?.some(-1), [:], "--port must be a port number from 0 to 65535, got '-1'"),
        (Int?.none, ["CONCORD_PORT": "http"], "CONCORD_PORT must be a port number from 0 to 65535, got 'http'"),
        (Int?.none, ["CONCORD_PORT": "65536"], "CONCORD_PORT must be a port number from 0 to 65535, got '65536'"),
    ])
    func aBadPortNamesWhereItCameFrom(flag: Int?, environment: [String: String], message: String) {
        let error = #expect(throws: ValidationError.self) { try OptionRules.port(flag, variable: "CONCORD_PORT", environment: environment) }
        #expect(error?.message == message)
    }

    @Test func logLevels() throws {
        #expect(try OptionRules.logLevel("warning") == .warning)
        let error = #expect(throws: ValidationError.self) { try OptionRules.logLevel("loud") }
        #expect(error?.message == "--log-level must be one of trace, debug, info, notice, warning, error, critical; got 'loud'")
    }

    @Test func theFirstCountThatIsNotPositiveIsNamed() throws {
        try OptionRules.positive(["--connections": 1, "--seconds": 30])
        let error = #expect(throws: ValidationError.self) { try OptionRules.positive(["--connections": 4, "--depth": 0, "--seconds": -1]) }
        #expect(error?.message == "--depth must be a positive whole number, got 0")
    }
}
