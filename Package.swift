// swift-tools-version:6.1
import PackageDescription

let swiftSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny")
]

let package = Package(
    name: "spectask",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "spectask", targets: ["spectask"]),
        .library(name: "Kafka", targets: ["Kafka"]),
        .library(name: "SpecTaskDomain", targets: ["SpecTaskDomain"]),
        .library(name: "SpecTaskContract", targets: ["SpecTaskContract"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.0"),
        .package(url: "https://github.com/apple/swift-crypto.git", "3.9.0"..<"5.0.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.6.0"),
        .package(url: "https://github.com/vapor/postgres-nio.git", from: "1.25.0"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.25.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.5.0"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.5.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.0.0"),
        .package(url: "https://github.com/apple/swift-distributed-tracing.git", from: "1.1.0"),
    ],
    targets: [
        // MARK: - Kafka
        .systemLibrary(
            name: "CRdKafka",
            pkgConfig: "rdkafka",
            providers: [.apt(["librdkafka-dev"])]
        ),
        .target(
            name: "Kafka",
            dependencies: [
                "CRdKafka",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),

        // MARK: - Domain, store, worker
        // The rules: entities, statuses, plans, progress and the multi-session manager. No I/O, no wire format.
        .target(name: "SpecTaskDomain", swiftSettings: swiftSettings),
        // The wire contract: CloudEvents envelopes and the Kafka binding, strict JSON, RFC 3339, the field tables,
        // encoders and decoders, rejected records and the generated input schemas.
        .target(
            name: "SpecTaskContract",
            // Crypto for the SHA-256 of rejected inputs only.
            dependencies: ["SpecTaskDomain", .product(name: "Crypto", package: "swift-crypto")],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "SpecTaskStore",
            dependencies: [
                "SpecTaskContract",
                "SpecTaskDomain",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
            ],
            resources: [.copy("Migrations")],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "SpecTaskWorker",
            dependencies: [
                "Kafka",
                "SpecTaskContract",
                "SpecTaskDomain",
                "SpecTaskStore",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Tracing", package: "swift-distributed-tracing"),
            ],
            swiftSettings: swiftSettings
        ),
        // The live dashboard (`spectask dashboard`): its page, styles and script ship as resources.
        .target(
            name: "SpecTaskDashboard",
            dependencies: [
                "Kafka",
                "SpecTaskContract",
                "SpecTaskDomain",
                "SpecTaskStore",
                "SpecTaskWorker",
                "TestSupport",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            resources: [.copy("Resources/dashboard")],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "spectask",
            dependencies: [
                "Kafka",
                "SpecTaskContract",
                "SpecTaskDashboard",
                "SpecTaskDomain",
                "SpecTaskStore",
                "SpecTaskWorker",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),

        // MARK: - Tests
        // What several test targets share: running child processes, the JSON Schema checker.
        .target(name: "TestSupport", path: "Tests/TestSupport", swiftSettings: swiftSettings),
        .testTarget(name: "KafkaTests", dependencies: ["Kafka", "CRdKafka"], swiftSettings: swiftSettings),
        .testTarget(name: "SpecTaskDomainTests", dependencies: ["SpecTaskDomain"], swiftSettings: swiftSettings),
        .testTarget(
            name: "SpecTaskContractTests",
            dependencies: ["SpecTaskContract", "SpecTaskDomain", "TestSupport"],
            swiftSettings: swiftSettings
        ),
        .testTarget(name: "SpecTaskStoreTests", dependencies: ["SpecTaskStore"], swiftSettings: swiftSettings),
        .testTarget(
            name: "SpecTaskWorkerTests",
            dependencies: [
                "SpecTaskWorker",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Tracing", package: "swift-distributed-tracing"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "IntegrationTests",
            dependencies: [
                "Kafka",
                "SpecTaskContract",
                "SpecTaskDashboard",
                "SpecTaskDomain",
                "SpecTaskStore",
                "SpecTaskWorker",
                "TestSupport",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            // The CloudEvents interop test's Python side, run by CloudEventsInteropTests.
            exclude: ["Interop"],
            swiftSettings: swiftSettings
        ),
    ],
    swiftLanguageModes: [.v6]
)
