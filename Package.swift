// swift-tools-version:6.1
import PackageDescription

let swiftSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    // Release builds skip the dynamic exclusivity checks (about 3% of the gateway's CPU per
    // forwarded request); debug builds, which the tests run, keep them and trap on a violation.
    .unsafeFlags(["-enforce-exclusivity=unchecked"], .when(configuration: .release)),
]

/// A module of `Shared/`, in the folder of its name.
func shared(_ name: String, _ dependencies: [Target.Dependency] = [], linkerSettings: [LinkerSetting]? = nil) -> Target {
    .target(
        name: name, dependencies: dependencies, path: "Shared/\(name)", swiftSettings: swiftSettings, linkerSettings: linkerSettings
    )
}

/// A service's records and verbs, in `Services/` under its name; its executable is apart.
func service(_ name: String, _ dependencies: [Target.Dependency]) -> Target {
    .target(name: name, dependencies: dependencies, path: "Services/\(name)", swiftSettings: swiftSettings)
}

func executable(_ name: String, at path: String, _ dependencies: [Target.Dependency]) -> Target {
    .executableTarget(name: name, dependencies: dependencies, path: path, swiftSettings: swiftSettings)
}

/// The tests of a module, in `Tests/` under their target's name.
func tests(_ name: String, _ dependencies: [Target.Dependency]) -> Target {
    .testTarget(name: name, dependencies: dependencies, path: "Tests/\(name)", swiftSettings: swiftSettings)
}

// The other packages' modules that targets use, by the name code imports them as.
let nioConcurrencyHelpers = Target.Dependency.product(name: "NIOConcurrencyHelpers", package: "swift-nio")
let nioCore = Target.Dependency.product(name: "NIOCore", package: "swift-nio")
let nioEmbedded = Target.Dependency.product(name: "NIOEmbedded", package: "swift-nio")
let nioFoundationCompat = Target.Dependency.product(name: "NIOFoundationCompat", package: "swift-nio")
let nioHTTP1 = Target.Dependency.product(name: "NIOHTTP1", package: "swift-nio")
let nioPosix = Target.Dependency.product(name: "NIOPosix", package: "swift-nio")
let nioTLS = Target.Dependency.product(name: "NIOTLS", package: "swift-nio")
let nioTestUtils = Target.Dependency.product(name: "NIOTestUtils", package: "swift-nio")
let nioSSL = Target.Dependency.product(name: "NIOSSL", package: "swift-nio-ssl")
let x509 = Target.Dependency.product(name: "X509", package: "swift-certificates")
let crypto = Target.Dependency.product(name: "Crypto", package: "swift-crypto")
let swiftASN1 = Target.Dependency.product(name: "SwiftASN1", package: "swift-asn1")
let logging = Target.Dependency.product(name: "Logging", package: "swift-log")
let argumentParser = Target.Dependency.product(name: "ArgumentParser", package: "swift-argument-parser")
let serviceLifecycle = Target.Dependency.product(name: "ServiceLifecycle", package: "swift-service-lifecycle")
let serviceLifecycleTestKit = Target.Dependency.product(name: "ServiceLifecycleTestKit", package: "swift-service-lifecycle")
let unixSignals = Target.Dependency.product(name: "UnixSignals", package: "swift-service-lifecycle")
let coreMetrics = Target.Dependency.product(name: "CoreMetrics", package: "swift-metrics")
let metrics = Target.Dependency.product(name: "Metrics", package: "swift-metrics")
let prometheus = Target.Dependency.product(name: "Prometheus", package: "swift-prometheus")
let histogram = Target.Dependency.product(name: "Histogram", package: "hdrhistogram-swift")
let sqliteNIO = Target.Dependency.product(name: "SQLiteNIO", package: "sqlite-nio")
let postgresNIO = Target.Dependency.product(name: "PostgresNIO", package: "postgres-nio")
let w3cTraceContext = Target.Dependency.product(name: "W3CTraceContext", package: "swift-w3c-trace-context")
let compressNIO = Target.Dependency.product(name: "CompressNIO", package: "compress-nio")
let hummingbird = Target.Dependency.product(name: "Hummingbird", package: "hummingbird")
let hummingbirdTLS = Target.Dependency.product(name: "HummingbirdTLS", package: "hummingbird")
let hummingbirdBcrypt = Target.Dependency.product(name: "HummingbirdBcrypt", package: "hummingbird-auth")

let package = Package(
    name: "concord",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "concord", targets: ["ConcordCLI"]),
        .executable(name: "gateway", targets: ["Gateway"]),
        .executable(name: "participants", targets: ["ParticipantsExecutable"]),
        .executable(name: "agreements", targets: ["AgreementsExecutable"]),
        .executable(name: "trade-metrics", targets: ["TradeMetricsExecutable"]),
        .executable(name: "console", targets: ["Console"]),
        .library(name: "ConcordProtocol", targets: ["ConcordProtocol"]),
        .library(name: "ConcordServer", targets: ["ConcordServer"]),
        .library(name: "ConcordClient", targets: ["ConcordClient"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.37.6"),
        .package(url: "https://github.com/apple/swift-certificates.git", from: "1.21.1"),
        .package(url: "https://github.com/apple/swift-crypto.git", "3.12.3"..<"5.0.0"),
        .package(url: "https://github.com/apple/swift-asn1.git", from: "1.7.4"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/HdrHistogram/hdrhistogram-swift.git", from: "0.2.0"),
        .package(url: "https://github.com/vapor/sqlite-nio.git", from: "1.13.2"),
        .package(url: "https://github.com/vapor/postgres-nio.git", from: "1.33.2"),
        .package(url: "https://github.com/swift-otel/swift-w3c-trace-context.git", from: "1.0.0"),
        .package(url: "https://github.com/adam-fowler/compress-nio.git", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        // The console: HTTP for browsers, and bcrypt for the passwords of its users.
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1", traits: []),
        .package(url: "https://github.com/hummingbird-project/hummingbird-auth.git", from: "2.5.0"),
    ],
    targets: [
        // Pure codec: frames, requests, responses, errors. NIOCore, and FoundationEssentials'
        // JSON coders for bodies (never all of Foundation: see JSONBody).
        shared("ConcordProtocol", [nioCore]),
        // TLS configuration and the certificate authority used by every process.
        shared("ConcordTLS", [coreMetrics, "ConcordProtocol", nioSSL, x509, crypto, swiftASN1, nioConcurrencyHelpers, logging]),
        // The process's metrics registry and its plain-HTTP scrape endpoint (`--metrics`).
        shared("ConcordMetrics", [coreMetrics, prometheus, nioCore, nioPosix, nioHTTP1, logging, serviceLifecycle]),
        shared("ConcordServer", [
            "ConcordMetrics", coreMetrics, "ConcordProtocol", "ConcordTLS", nioCore, nioPosix, nioSSL, logging,
            nioConcurrencyHelpers, nioTLS, serviceLifecycle, x509,
        ]),
        shared("ConcordClient", [
            "ConcordProtocol", "ConcordTLS", nioCore, nioPosix, nioSSL, nioConcurrencyHelpers, nioTLS, logging,
        ]),
        // The rules every executable holds its options to: ports, log levels, positive counts.
        shared("ConcordOptions", [argumentParser, logging]),
        // What every service executable shares: options, environment, lifecycle.
        shared("ConcordServiceRuntime", [
            "ConcordMetrics", "ConcordOptions", "ConcordServer", "ConcordClient", "ConcordTLS", "ConcordProtocol",
            argumentParser, logging, serviceLifecycle, unixSignals, nioCore, nioPosix,
        ]),
        // Pure balancing decisions: replica choice, outlier ejection, retry budget. No I/O.
        shared("ConcordBalancer"),
        // One storage API over SQLite (embedded default) and PostgreSQL (scale-out), with migrations.
        shared("ConcordStorage", [
            coreMetrics, metrics, "ConcordProtocol", sqliteNIO, postgresNIO, nioCore, nioPosix, logging, serviceLifecycle,
        ]),
        // Field rules every record kind shares: text, codes, slugs, partial dates, vocabularies.
        shared("ConcordFields", ["ConcordProtocol"]),
        // The record kit: the record protocol, the store with idempotency and audit trail, the
        // generic verbs, pages, the one error boundary, the seed loader.
        shared("ConcordRecords", [
            "ConcordWire", "ConcordFields", "ConcordProtocol", "ConcordStorage", nioCore, nioConcurrencyHelpers, logging,
            w3cTraceContext,
        ]),
        // The replicas of one service as a caller sees them: balancing, health checks, outlier
        // ejection, retries within a budget, verb kinds learned from the service. The gateway
        // forwards through it; a service calls another through it.
        shared("ConcordPool", [
            "ConcordMetrics", coreMetrics, "ConcordBalancer", "ConcordClient", "ConcordProtocol", "ConcordTLS", histogram,
            logging, nioConcurrencyHelpers, nioCore, nioPosix, serviceLifecycle,
        ]),
        // A data service's executable in a few lines: options, storage, migrate, seed, serve.
        shared("ConcordDataService", [
            "ConcordMetrics", "ConcordWire", "ConcordRecords", "ConcordServer", "ConcordServiceRuntime", "ConcordStorage",
            "ConcordProtocol", "ConcordPool", "ConcordTLS", "ConcordFields", argumentParser, logging, nioCore,
            nioConcurrencyHelpers, serviceLifecycle,
        ]),
        // Trade's vocabularies: ISO 3166 from Debian's iso-codes, Comtrade's flows, commodities,
        // periods, and exact money. Shared by trade-metrics and the CLI's importer.
        shared("ConcordTradeCodes", ["ConcordFields", "ConcordProtocol"]),
        // Catalogs, dates, numbers and plurals for people, in Persian, Russian and English. It
        // links FoundationInternationalization (about 39 MB): the CLI and the console use it,
        // never the gateway or the data services.
        // Plural rules are ICU's, from the toolchain's own copy that FoundationInternationalization
        // links (its C functions carry a swift_ prefix); nothing else is linked.
        shared("ConcordWords", ["ConcordProtocol", logging], linkerSettings: [.linkedLibrary("_FoundationICU")]),
        // Request and answer types that more than one process speaks (the services, the
        // gateway, the CLI): declared once, so a changed shape breaks the build, not a brief.
        shared("ConcordWire", ["ConcordTradeCodes"]),
        // UN Comtrade's CSV as `concord trade import` reads it: a streaming RFC 4180 reader and the
        // mapping of a row to an observation.
        shared("ConcordComtrade", ["ConcordFields", "ConcordProtocol", "ConcordTradeCodes", nioCore]),
        // The load generator behind `concord bench`.
        shared("ConcordLoad", ["ConcordProtocol", "ConcordTLS", nioCore, nioPosix, nioSSL, histogram]),
        shared("ConcordTestSupport", [
            "ConcordServer", "ConcordClient", "ConcordTLS", "ConcordProtocol", "ConcordStorage", "ConcordRecords",
            "ConcordDataService", "ConcordPool", logging, nioCore, nioPosix,
        ]),
        executable("ConcordCLI", at: "Services/ConcordCLI", [
            "ConcordWire", "ConcordClient", "ConcordTLS", "ConcordLoad", "ConcordProtocol", "ConcordTradeCodes",
            "ConcordBalancer", "ConcordComtrade", "ConcordWords", "ConcordUsers", "ConcordBriefs", "ConcordOptions",
            "ConcordFields", compressNIO, histogram, nioConcurrencyHelpers, nioCore, argumentParser,
        ]),
        // A session's brief as people read it: decoded from `brief.session`, written for a
        // terminal or as HTML (the CLI's `--html`, the console's session page).
        shared("ConcordBriefs", ["ConcordProtocol", "ConcordWire", "ConcordWords", "ConcordTradeCodes", nioCore]),
        // The console's people: the users file (name, role, bcrypt hash), shared by the console,
        // which signs them in, and `concord users`, which manages them.
        shared("ConcordUsers", [hummingbirdBcrypt]),
        // The console: an HTTPS edge that serves the secretariat's pages to browsers and calls
        // the gateway for every answer.
        executable("Console", at: "Services/Console", [
            "ConcordUsers", "ConcordClient", "ConcordTLS", "ConcordProtocol", "ConcordWire", "ConcordWords",
            "ConcordBriefs", "ConcordTradeCodes", "ConcordComtrade", "ConcordFields", "ConcordOptions", hummingbird,
            hummingbirdTLS, crypto, nioCore, nioSSL, nioPosix, nioConcurrencyHelpers, argumentParser, logging,
            serviceLifecycle, unixSignals,
        ]),
        executable("Gateway", at: "Services/Gateway", [
            "ConcordMetrics", coreMetrics, "ConcordWire", "ConcordServer", "ConcordClient", "ConcordTLS",
            "ConcordServiceRuntime", "ConcordProtocol", "ConcordBalancer", "ConcordPool", "ConcordOptions", nioCore,
            nioPosix, nioConcurrencyHelpers, argumentParser, logging, serviceLifecycle,
        ]),
        // The participants service's records and verbs; its executable is ParticipantsExecutable.
        service("Participants", [
            "ConcordWire", "ConcordDataService", "ConcordRecords", "ConcordFields", "ConcordServer", "ConcordStorage",
            "ConcordProtocol", argumentParser,
        ]),
        // The agreements service's records and verbs; its executable is AgreementsExecutable.
        service("Agreements", [
            coreMetrics, "ConcordWire", "ConcordDataService", "ConcordRecords", "ConcordFields", "ConcordServer",
            "ConcordStorage", "ConcordProtocol", argumentParser,
        ]),
        // The trade-metrics service's records and verbs; its executable is TradeMetricsExecutable.
        service("TradeMetrics", [
            coreMetrics, "ConcordWire", "ConcordDataService", "ConcordRecords", "ConcordFields", "ConcordServer",
            "ConcordStorage", "ConcordProtocol", "ConcordTradeCodes", argumentParser,
        ]),
        executable("ParticipantsExecutable", at: "Services/Executables/participants", ["Participants", argumentParser]),
        executable("AgreementsExecutable", at: "Services/Executables/agreements", ["Agreements", argumentParser]),
        executable("TradeMetricsExecutable", at: "Services/Executables/trade-metrics", ["TradeMetrics", argumentParser]),
        tests("TradeMetricsTests", [
            "TradeMetrics", "Participants", "ConcordTradeCodes", "ConcordTestSupport", "ConcordProtocol", "ConcordRecords",
        ]),
        // The connection's decisions and the router, with no sockets.
        tests("ConcordServerTests", ["ConcordServer", "ConcordProtocol", "ConcordTLS", nioCore]),
        // The record kit without a server: what the store makes of a kind's declarations.
        tests("ConcordRecordsTests", [
            "ConcordRecords", "ConcordStorage", "ConcordTestSupport", "ConcordWire", "ConcordProtocol",
            nioConcurrencyHelpers,
        ]),
        // The options' rules: ports from a flag or its variable, log levels, positive counts.
        tests("ConcordOptionsTests", ["ConcordOptions", argumentParser]),
        // What a service executable makes of its flags and environment; its probes.
        tests("ConcordServiceRuntimeTests", [
            "ConcordServiceRuntime", "ConcordServer", "ConcordProtocol", "ConcordTLS", argumentParser,
        ]),
        // The console's users file: its lines, its checks, its writes.
        tests("ConcordUsersTests", ["ConcordUsers"]),
        // The client: its connection's handler on an embedded channel, and against a real server.
        tests("ConcordClientTests", [
            "ConcordClient", "ConcordProtocol", "ConcordTestSupport", "ConcordTLS", logging, nioCore, nioEmbedded,
            nioPosix, nioTLS, nioConcurrencyHelpers,
        ]),
        // The brief's parts as a person reads them: months for the chart, growth in words, owners.
        tests("ConcordBriefsTests", [
            "ConcordBriefs", "ConcordProtocol", "ConcordTradeCodes", "ConcordWire", "ConcordWords", nioCore,
            nioConcurrencyHelpers,
        ]),
        // `concord bench`'s engine against a real server: what it counts and reports.
        tests("ConcordLoadTests", ["ConcordLoad", "ConcordTestSupport", nioCore, nioEmbedded]),
        // Replica choice, ejection and the retry budget: pure values, a seeded generator.
        tests("ConcordBalancerTests", ["ConcordBalancer"]),
        // The field rules' text and date helpers.
        tests("ConcordFieldsTests", ["ConcordFields", "ConcordProtocol"]),
        // UN Comtrade's CSV: the RFC 4180 reader and the row mapping.
        tests("ConcordComtradeTests", ["ConcordComtrade", "ConcordProtocol", nioCore]),
        // The pool's decisions on a fake clock: no sockets, no sleeps.
        tests("ConcordPoolTests", ["ConcordPool", "ConcordBalancer", "ConcordProtocol", nioCore, w3cTraceContext]),
        tests("ConcordWordsTests", [
            "ConcordWords", "ConcordProtocol", "ConcordWire", "Agreements", "Participants", "ConcordTestSupport",
        ]),
        tests("AgreementsTests", [
            "Agreements", "Participants", "ConcordStorage", "ConcordTestSupport", "ConcordClient", "ConcordProtocol",
            "ConcordRecords", "ConcordWire", nioCore,
        ]),
        tests("ParticipantsTests", [
            "Participants", "ConcordStorage", "ConcordTestSupport", "ConcordClient", "ConcordProtocol", "ConcordTLS",
            "ConcordRecords", "ConcordServer", "ConcordWire",
        ]),
        tests("ConcordStorageTests", ["ConcordStorage", "ConcordTestSupport", "ConcordProtocol", sqliteNIO, nioPosix]),
        tests("ConsoleTests", ["Console", "ConcordBriefs", "ConcordUsers", "ConcordWords", "ConcordProtocol", nioCore, crypto]),
        tests("GatewayTests", [
            "Gateway", "ConcordPool", "ConcordBalancer", "ConcordTestSupport", "ConcordServer", "ConcordClient",
            "ConcordProtocol", "ConcordRecords", "ConcordLoad", "ConcordWire", "ConcordTLS", nioCore, nioFoundationCompat,
            nioConcurrencyHelpers, logging,
        ]),
        tests("ConcordCLITests", ["ConcordCLI", "ConcordBriefs", "ConcordComtrade", crypto, compressNIO, nioCore]),
        tests("ConcordProtocolTests", ["ConcordProtocol", nioConcurrencyHelpers, nioCore, nioEmbedded, nioTestUtils]),
        // Certificates, revocation and token hashes: pure, no sockets.
        tests("ConcordTLSTests", ["ConcordTLS", x509]),
        tests("ConcordWireTests", ["ConcordWire"]),
        tests("ConcordTradeCodesTests", ["ConcordTradeCodes", "ConcordProtocol"]),
        tests("ConcordDataServiceTests", ["ConcordDataService", "ConcordProtocol", "ConcordRecords"]),
        tests("ConcordMetricsTests", ["ConcordMetrics", "ConcordTestSupport", "ConcordClient", "ConcordProtocol", nioCore]),
        tests("ConcordIntegrationTests", [
            "ConcordTestSupport", "ConcordServer", "ConcordClient", "ConcordTLS", "ConcordProtocol", "Gateway",
            "ConcordPool", x509, nioConcurrencyHelpers, logging, serviceLifecycle, serviceLifecycleTestKit,
        ]),
    ],
    swiftLanguageModes: [.v6]
)

// libFuzzer targets (scripts/fuzz), in the package only when CONCORD_FUZZ=1: they are built with
// `-sanitize=fuzzer,address` for every module, and libFuzzer supplies `main`, so an ordinary build
// could not link them. Each lives in Tests/Fuzz/NAME with its seed corpus in Tests/Fuzz/corpus/NAME.
if Context.environment["CONCORD_FUZZ"] == "1" {
    let fuzzTargets: [(name: String, dependencies: [Target.Dependency])] = [
        ("FuzzLineProtocol", ["ConcordProtocol", nioCore]),
        ("FuzzRecords", ["Participants", "Agreements", "TradeMetrics", "ConcordRecords", "ConcordProtocol",
                         nioCore]),
        ("FuzzComtrade", ["ConcordComtrade", "ConcordProtocol", nioCore]),
    ]
    // The driver's entry, which every target's `main` hands over to.
    package.targets.append(.target(name: "FuzzDriver", path: "Tests/Fuzz/FuzzDriver", swiftSettings: swiftSettings))
    for target in fuzzTargets {
        package.targets.append(.executableTarget(
            name: target.name,
            dependencies: ["FuzzDriver"] + target.dependencies,
            path: "Tests/Fuzz/\(target.name)",
            swiftSettings: swiftSettings + [.unsafeFlags(["-parse-as-library"])]
        ))
        package.products.append(.executable(name: target.name, targets: [target.name]))
    }
}
