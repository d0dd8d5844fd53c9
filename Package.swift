// swift-tools-version:6.1
import PackageDescription

let swiftSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    // Release builds skip the dynamic exclusivity checks (about 3% of the gateway's CPU per
    // forwarded request); debug builds, which the tests run, keep them and trap on a violation.
    .unsafeFlags(["-enforce-exclusivity=unchecked"], .when(configuration: .release)),
]

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
        .target(
            name: "ConcordProtocol",
            dependencies: [.product(name: "NIOCore", package: "swift-nio")],
            path: "Shared/ConcordProtocol",
            swiftSettings: swiftSettings
        ),
        // TLS configuration and the certificate authority used by every process.
        .target(
            name: "ConcordTLS",
            dependencies: [
                .product(name: "CoreMetrics", package: "swift-metrics"),
                "ConcordProtocol",
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "SwiftASN1", package: "swift-asn1"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Shared/ConcordTLS",
            swiftSettings: swiftSettings
        ),
        // The process's metrics registry and its plain-HTTP scrape endpoint (`--metrics`).
        .target(
            name: "ConcordMetrics",
            dependencies: [
                .product(name: "CoreMetrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            path: "Shared/ConcordMetrics",
            swiftSettings: swiftSettings
        ),
        .target(
            name: "ConcordServer",
            dependencies: [
                "ConcordMetrics", .product(name: "CoreMetrics", package: "swift-metrics"),
                "ConcordProtocol", "ConcordTLS",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "NIOTLS", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "X509", package: "swift-certificates"),
            ],
            path: "Shared/ConcordServer",
            swiftSettings: swiftSettings
        ),
        .target(
            name: "ConcordClient",
            dependencies: [
                "ConcordProtocol", "ConcordTLS",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "NIOTLS", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Shared/ConcordClient",
            swiftSettings: swiftSettings
        ),
        // The rules every executable holds its options to: ports, log levels, positive counts.
        .target(
            name: "ConcordOptions",
            dependencies: [
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Shared/ConcordOptions",
            swiftSettings: swiftSettings
        ),
        // What every service executable shares: options, environment, lifecycle.
        .target(
            name: "ConcordServiceRuntime",
            dependencies: [
                "ConcordMetrics", "ConcordOptions",
                "ConcordServer", "ConcordClient", "ConcordTLS", "ConcordProtocol",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            path: "Shared/ConcordServiceRuntime",
            swiftSettings: swiftSettings
        ),
        // Pure balancing decisions: replica choice, outlier ejection, retry budget. No I/O.
        .target(
            name: "ConcordBalancer",
            path: "Shared/ConcordBalancer",
            swiftSettings: swiftSettings
        ),
        // One storage API over SQLite (embedded default) and PostgreSQL (scale-out), with migrations.
        .target(
            name: "ConcordStorage",
            dependencies: [
                .product(name: "CoreMetrics", package: "swift-metrics"), .product(name: "Metrics", package: "swift-metrics"),
                "ConcordProtocol",
                .product(name: "SQLiteNIO", package: "sqlite-nio"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            path: "Shared/ConcordStorage",
            swiftSettings: swiftSettings
        ),
        // Field rules every record kind shares: text, codes, slugs, partial dates, vocabularies.
        .target(
            name: "ConcordFields",
            dependencies: ["ConcordProtocol"],
            path: "Shared/ConcordFields",
            swiftSettings: swiftSettings
        ),
        // The record kit: the record protocol, the store with idempotency and audit trail, the
        // generic verbs, pages, the one error boundary, the seed loader.
        .target(
            name: "ConcordRecords",
            dependencies: [
                "ConcordWire", "ConcordFields", "ConcordProtocol", "ConcordStorage",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "W3CTraceContext", package: "swift-w3c-trace-context"),
            ],
            path: "Shared/ConcordRecords",
            swiftSettings: swiftSettings
        ),
        // The replicas of one service as a caller sees them: balancing, health checks, outlier
        // ejection, retries within a budget, verb kinds learned from the service. The gateway
        // forwards through it; a service calls another through it.
        .target(
            name: "ConcordPool",
            dependencies: [
                "ConcordMetrics",
                .product(name: "CoreMetrics", package: "swift-metrics"),
                "ConcordBalancer", "ConcordClient", "ConcordProtocol", "ConcordTLS",
                .product(name: "Histogram", package: "hdrhistogram-swift"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            path: "Shared/ConcordPool",
            swiftSettings: swiftSettings
        ),
        // A data service's executable in a few lines: options, storage, migrate, seed, serve.
        .target(
            name: "ConcordDataService",
            dependencies: [
                "ConcordMetrics",
                "ConcordWire", "ConcordRecords", "ConcordServer", "ConcordServiceRuntime", "ConcordStorage", "ConcordProtocol", "ConcordPool", "ConcordTLS",
                "ConcordFields",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            path: "Shared/ConcordDataService",
            swiftSettings: swiftSettings
        ),
        // Trade's vocabularies: ISO 3166 from Debian's iso-codes, Comtrade's flows, commodities,
        // periods, and exact money. Shared by trade-metrics and the CLI's importer.
        .target(
            name: "ConcordTradeCodes",
            dependencies: ["ConcordFields", "ConcordProtocol"],
            path: "Shared/ConcordTradeCodes",
            swiftSettings: swiftSettings
        ),
        // UN Comtrade's CSV as `concord trade import` reads it: a streaming RFC 4180 reader and the
        // mapping of a row to an observation.
        // Catalogs, dates, numbers and plurals for people, in Persian, Russian and English. It
        // links FoundationInternationalization (about 39 MB): the CLI and the console use it,
        // never the gateway or the data services.
        .target(
            name: "ConcordWords",
            dependencies: ["ConcordProtocol", .product(name: "Logging", package: "swift-log")],
            path: "Shared/ConcordWords",
            swiftSettings: swiftSettings,
            // Plural rules are ICU's, from the toolchain's own copy that FoundationInternationalization
            // links (its C functions carry a swift_ prefix); nothing else is linked.
            linkerSettings: [.linkedLibrary("_FoundationICU")]
        ),
        // Request and answer types that more than one process speaks (the services, the
        // gateway, the CLI): declared once, so a changed shape breaks the build, not a brief.
        .target(
            name: "ConcordWire",
            dependencies: ["ConcordTradeCodes"],
            path: "Shared/ConcordWire",
            swiftSettings: swiftSettings
        ),
        .target(
            name: "ConcordComtrade",
            dependencies: ["ConcordFields", "ConcordProtocol", "ConcordTradeCodes", .product(name: "NIOCore", package: "swift-nio")],
            path: "Shared/ConcordComtrade",
            swiftSettings: swiftSettings
        ),
        // The load generator behind `concord bench`.
        .target(
            name: "ConcordLoad",
            dependencies: [
                "ConcordProtocol", "ConcordTLS",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Histogram", package: "hdrhistogram-swift"),
            ],
            path: "Shared/ConcordLoad",
            swiftSettings: swiftSettings
        ),
        .target(
            name: "ConcordTestSupport",
            dependencies: [
                "ConcordServer", "ConcordClient", "ConcordTLS", "ConcordProtocol", "ConcordStorage", "ConcordRecords",
                "ConcordDataService", "ConcordPool",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            path: "Shared/ConcordTestSupport",
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "ConcordCLI",
            dependencies: [
                "ConcordWire", "ConcordClient", "ConcordTLS", "ConcordLoad", "ConcordProtocol", "ConcordTradeCodes", "ConcordBalancer", "ConcordComtrade", "ConcordWords",
                "ConcordUsers", "ConcordBriefs", "ConcordOptions",
                .product(name: "CompressNIO", package: "compress-nio"),
                .product(name: "Histogram", package: "hdrhistogram-swift"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            path: "Services/ConcordCLI",
            swiftSettings: swiftSettings
        ),
        // A session's brief as people read it: decoded from `brief.session`, written for a
        // terminal or as HTML (the CLI's `--html`, the console's session page).
        .target(
            name: "ConcordBriefs",
            dependencies: [
                "ConcordProtocol", "ConcordWire", "ConcordWords", "ConcordTradeCodes",
                .product(name: "NIOCore", package: "swift-nio"),
            ],
            path: "Shared/ConcordBriefs",
            swiftSettings: swiftSettings
        ),
        // The console's people: the users file (name, role, bcrypt hash), shared by the console,
        // which signs them in, and `concord users`, which manages them.
        .target(
            name: "ConcordUsers",
            dependencies: [.product(name: "HummingbirdBcrypt", package: "hummingbird-auth")],
            path: "Shared/ConcordUsers",
            swiftSettings: swiftSettings
        ),
        // The console: an HTTPS edge that serves the secretariat's pages to browsers and calls
        // the gateway for every answer.
        .executableTarget(
            name: "Console",
            dependencies: [
                "ConcordUsers", "ConcordClient", "ConcordTLS", "ConcordProtocol", "ConcordWire", "ConcordWords", "ConcordBriefs", "ConcordTradeCodes", "ConcordComtrade", "ConcordFields",
                "ConcordOptions",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTLS", package: "hummingbird"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
            ],
            path: "Services/Console",
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "Gateway",
            dependencies: [
                "ConcordMetrics",
                .product(name: "CoreMetrics", package: "swift-metrics"),
                "ConcordWire", "ConcordServer", "ConcordClient", "ConcordTLS", "ConcordServiceRuntime", "ConcordProtocol", "ConcordBalancer",
                "ConcordPool", "ConcordOptions",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            path: "Services/Gateway",
            swiftSettings: swiftSettings
        ),
        // The participants service's records and verbs; its executable is ParticipantsExecutable.
        .target(
            name: "Participants",
            dependencies: [
                "ConcordWire", "ConcordDataService", "ConcordRecords", "ConcordFields", "ConcordServer", "ConcordStorage", "ConcordProtocol",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            path: "Services/Participants",
            swiftSettings: swiftSettings
        ),
        // The agreements service's records and verbs; its executable is AgreementsExecutable.
        .target(
            name: "Agreements",
            dependencies: [
                .product(name: "CoreMetrics", package: "swift-metrics"),
                "ConcordWire", "ConcordDataService", "ConcordRecords", "ConcordFields", "ConcordServer", "ConcordStorage", "ConcordProtocol",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            path: "Services/Agreements",
            swiftSettings: swiftSettings
        ),
        // The trade-metrics service's records and verbs; its executable is TradeMetricsExecutable.
        .target(
            name: "TradeMetrics",
            dependencies: [
                .product(name: "CoreMetrics", package: "swift-metrics"),
                "ConcordWire", "ConcordDataService", "ConcordRecords", "ConcordFields", "ConcordServer", "ConcordStorage", "ConcordProtocol",
                "ConcordTradeCodes",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            path: "Services/TradeMetrics",
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "ParticipantsExecutable",
            dependencies: ["Participants", .product(name: "ArgumentParser", package: "swift-argument-parser")],
            path: "Services/Executables/participants",
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "AgreementsExecutable",
            dependencies: ["Agreements", .product(name: "ArgumentParser", package: "swift-argument-parser")],
            path: "Services/Executables/agreements",
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "TradeMetricsExecutable",
            dependencies: ["TradeMetrics", .product(name: "ArgumentParser", package: "swift-argument-parser")],
            path: "Services/Executables/trade-metrics",
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "TradeMetricsTests",
            dependencies: ["TradeMetrics", "Participants", "ConcordTradeCodes", "ConcordTestSupport",
                           "ConcordProtocol", "ConcordRecords"],
            path: "Tests/TradeMetricsTests",
            swiftSettings: swiftSettings
        ),
        // The connection's decisions and the router, with no sockets.
        .testTarget(
            name: "ConcordServerTests",
            dependencies: ["ConcordServer", "ConcordProtocol", "ConcordTLS", .product(name: "NIOCore", package: "swift-nio")],
            path: "Tests/ConcordServerTests",
            swiftSettings: swiftSettings
        ),
        // The record kit without a server: what the store makes of a kind's declarations.
        .testTarget(
            name: "ConcordRecordsTests",
            dependencies: ["ConcordRecords", "ConcordStorage", "ConcordTestSupport", "ConcordWire", "ConcordProtocol",
                           .product(name: "NIOConcurrencyHelpers", package: "swift-nio")],
            path: "Tests/ConcordRecordsTests",
            swiftSettings: swiftSettings
        ),
        // The options' rules: ports from a flag or its variable, log levels, positive counts.
        .testTarget(
            name: "ConcordOptionsTests",
            dependencies: ["ConcordOptions", .product(name: "ArgumentParser", package: "swift-argument-parser")],
            path: "Tests/ConcordOptionsTests",
            swiftSettings: swiftSettings
        ),
        // What a service executable makes of its flags and environment; its probes.
        .testTarget(
            name: "ConcordServiceRuntimeTests",
            dependencies: ["ConcordServiceRuntime", "ConcordServer", "ConcordProtocol", "ConcordTLS",
                           .product(name: "ArgumentParser", package: "swift-argument-parser")],
            path: "Tests/ConcordServiceRuntimeTests",
            swiftSettings: swiftSettings
        ),
        // The console's users file: its lines, its checks, its writes.
        .testTarget(
            name: "ConcordUsersTests",
            dependencies: ["ConcordUsers"],
            path: "Tests/ConcordUsersTests",
            swiftSettings: swiftSettings
        ),
        // The client: its connection's handler on an embedded channel, and against a real server.
        .testTarget(
            name: "ConcordClientTests",
            dependencies: ["ConcordClient", "ConcordProtocol", "ConcordTestSupport", "ConcordTLS",
                           .product(name: "Logging", package: "swift-log"),
                           .product(name: "NIOCore", package: "swift-nio"),
                           .product(name: "NIOEmbedded", package: "swift-nio"),
                           .product(name: "NIOPosix", package: "swift-nio"),
                           .product(name: "NIOTLS", package: "swift-nio"),
                           .product(name: "NIOConcurrencyHelpers", package: "swift-nio")],
            path: "Tests/ConcordClientTests",
            swiftSettings: swiftSettings
        ),
        // The brief's parts as a person reads them: months for the chart, growth in words, owners.
        .testTarget(
            name: "ConcordBriefsTests",
            dependencies: ["ConcordBriefs", "ConcordProtocol", "ConcordTradeCodes", "ConcordWire", "ConcordWords",
                           .product(name: "NIOCore", package: "swift-nio"),
                           .product(name: "NIOConcurrencyHelpers", package: "swift-nio")],
            path: "Tests/ConcordBriefsTests",
            swiftSettings: swiftSettings
        ),
        // `concord bench`'s engine against a real server: what it counts and reports.
        .testTarget(
            name: "ConcordLoadTests",
            dependencies: ["ConcordLoad", "ConcordTestSupport"],
            path: "Tests/ConcordLoadTests",
            swiftSettings: swiftSettings
        ),
        // Replica choice, ejection and the retry budget: pure values, a seeded generator.
        .testTarget(
            name: "ConcordBalancerTests",
            dependencies: ["ConcordBalancer"],
            path: "Tests/ConcordBalancerTests",
            swiftSettings: swiftSettings
        ),
        // The field rules' text and date helpers.
        .testTarget(
            name: "ConcordFieldsTests",
            dependencies: ["ConcordFields", "ConcordProtocol"],
            path: "Tests/ConcordFieldsTests",
            swiftSettings: swiftSettings
        ),
        // UN Comtrade's CSV: the RFC 4180 reader and the row mapping.
        .testTarget(
            name: "ConcordComtradeTests",
            dependencies: ["ConcordComtrade", "ConcordProtocol", .product(name: "NIOCore", package: "swift-nio")],
            path: "Tests/ConcordComtradeTests",
            swiftSettings: swiftSettings
        ),
        // The pool's decisions on a fake clock: no sockets, no sleeps.
        .testTarget(
            name: "ConcordPoolTests",
            dependencies: [
                "ConcordPool", "ConcordBalancer", "ConcordProtocol", .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "W3CTraceContext", package: "swift-w3c-trace-context"),
            ],
            path: "Tests/ConcordPoolTests",
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "ConcordWordsTests",
            dependencies: ["ConcordWords", "ConcordProtocol", "ConcordWire", "Agreements", "Participants", "ConcordTestSupport"],
            path: "Tests/ConcordWordsTests",
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "AgreementsTests",
            dependencies: ["Agreements", "Participants", "ConcordStorage", "ConcordTestSupport",
                           "ConcordClient", "ConcordProtocol", "ConcordRecords", "ConcordWire",
                           .product(name: "NIOCore", package: "swift-nio")],
            path: "Tests/AgreementsTests",
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "ParticipantsTests",
            dependencies: ["Participants", "ConcordStorage", "ConcordTestSupport", "ConcordClient", "ConcordProtocol",
                           "ConcordTLS", "ConcordRecords", "ConcordServer", "ConcordWire"],
            path: "Tests/ParticipantsTests",
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "ConcordStorageTests",
            dependencies: ["ConcordStorage", "ConcordTestSupport", "ConcordProtocol",
                           .product(name: "SQLiteNIO", package: "sqlite-nio"), .product(name: "NIOPosix", package: "swift-nio")],
            path: "Tests/ConcordStorageTests",
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "ConsoleTests",
            dependencies: ["Console", "ConcordUsers", "ConcordWords", "ConcordProtocol",
                           .product(name: "NIOCore", package: "swift-nio"),
                           .product(name: "Crypto", package: "swift-crypto")],
            path: "Tests/ConsoleTests",
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "GatewayTests",
            dependencies: ["Gateway", "ConcordPool", "ConcordBalancer", "ConcordTestSupport", "ConcordServer", "ConcordClient", "ConcordProtocol",
                           "ConcordRecords",
                           "ConcordLoad", "ConcordWire",
                           "ConcordTLS",
                           .product(name: "NIOCore", package: "swift-nio"),
                           .product(name: "NIOFoundationCompat", package: "swift-nio"),
                           .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                           .product(name: "Logging", package: "swift-log")],
            path: "Tests/GatewayTests",
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "ConcordCLITests",
            dependencies: ["ConcordCLI", "ConcordBriefs", "ConcordComtrade", .product(name: "Crypto", package: "swift-crypto"),
                           .product(name: "CompressNIO", package: "compress-nio"), .product(name: "NIOCore", package: "swift-nio")],
            path: "Tests/ConcordCLITests",
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "ConcordProtocolTests",
            dependencies: [
                "ConcordProtocol",
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "NIOTestUtils", package: "swift-nio"),
            ],
            path: "Tests/ConcordProtocolTests",
            swiftSettings: swiftSettings
        ),
        // Certificates, revocation and token hashes: pure, no sockets.
        .testTarget(
            name: "ConcordTLSTests",
            dependencies: ["ConcordTLS", .product(name: "X509", package: "swift-certificates")],
            path: "Tests/ConcordTLSTests",
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "ConcordWireTests",
            dependencies: ["ConcordWire"],
            path: "Tests/ConcordWireTests",
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "ConcordTradeCodesTests",
            dependencies: ["ConcordTradeCodes", "ConcordProtocol"],
            path: "Tests/ConcordTradeCodesTests",
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "ConcordDataServiceTests",
            dependencies: ["ConcordDataService", "ConcordProtocol", "ConcordRecords"],
            path: "Tests/ConcordDataServiceTests",
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "ConcordMetricsTests",
            dependencies: ["ConcordMetrics", "ConcordTestSupport", "ConcordClient", "ConcordProtocol", .product(name: "NIOCore", package: "swift-nio")],
            path: "Tests/ConcordMetricsTests",
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "ConcordIntegrationTests",
            dependencies: ["ConcordTestSupport", "ConcordServer", "ConcordClient", "ConcordTLS", "ConcordProtocol", "Gateway", "ConcordPool",
                           .product(name: "X509", package: "swift-certificates"),
                           .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                           .product(name: "Logging", package: "swift-log"),
                           .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                           .product(name: "ServiceLifecycleTestKit", package: "swift-service-lifecycle")],
            path: "Tests/ConcordIntegrationTests",
            swiftSettings: swiftSettings
        ),
    ],
    swiftLanguageModes: [.v6]
)

// libFuzzer targets (scripts/fuzz), in the package only when CONCORD_FUZZ=1: they are built with
// `-sanitize=fuzzer,address` for every module, and libFuzzer supplies `main`, so an ordinary build
// could not link them. Each lives in Tests/Fuzz/NAME with its seed corpus in Tests/Fuzz/corpus/NAME.
if Context.environment["CONCORD_FUZZ"] == "1" {
    let fuzzTargets: [(name: String, dependencies: [Target.Dependency])] = [
        ("FuzzLineProtocol", ["ConcordProtocol", .product(name: "NIOCore", package: "swift-nio")]),
        ("FuzzRecords", ["Participants", "Agreements", "TradeMetrics", "ConcordRecords", "ConcordProtocol",
                         .product(name: "NIOCore", package: "swift-nio")]),
        ("FuzzComtrade", ["ConcordComtrade", "ConcordProtocol", .product(name: "NIOCore", package: "swift-nio")]),
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
