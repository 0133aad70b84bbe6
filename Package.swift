// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "welfare-posts",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "welfare-posts", targets: ["welfare-posts"]),
        .library(name: "WelfarePosts", targets: ["WelfarePosts"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
    ],
    targets: [
        // libpq, found through pkg-config; `apt-get install libpq-dev` provides it.
        .systemLibrary(name: "CLibPQ", pkgConfig: "libpq", providers: [.apt(["libpq-dev"])]),
        // The only module that touches C pointers: a small, safe face on libpq.
        .target(name: "Postgres", dependencies: ["CLibPQ"]),
        // Reads sql/*.sql at build time and writes them into a Swift source, so the binary
        // carries its migrations wherever it is copied.
        .executableTarget(name: "embed-migrations"),
        .plugin(name: "EmbedMigrations", capability: .buildTool(), dependencies: ["embed-migrations"]),
        // The domain: values, vocabulary, policy, use cases, imports, reports.
        .target(name: "WelfarePosts", dependencies: ["Postgres"], plugins: ["EmbedMigrations"]),
        // The command line: parses, calls the library, prints.
        .executableTarget(name: "welfare-posts", dependencies: [
            "WelfarePosts",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),
        .target(name: "TestSupport", dependencies: ["Postgres", "WelfarePosts"], path: "Tests/TestSupport"),
        .testTarget(name: "PostgresTests", dependencies: ["Postgres", "TestSupport"]),
        .testTarget(name: "WelfarePostsTests", dependencies: ["WelfarePosts", "Postgres", "TestSupport"]),
        .testTarget(name: "CLITests", dependencies: ["TestSupport", "welfare-posts"]),
    ]
)
