// swift-tools-version:6.0
import Foundation
import PackageDescription

/// `WELFARE_POSTS_FUZZ=1` (deploy/fuzz.sh, in a build folder of its own) instruments the domain
/// library for libFuzzer and links `fuzz-values` against it. Only those targets: the build's
/// own tools (embed-migrations) must stay plain programs.
let fuzzing = ProcessInfo.processInfo.environment["WELFARE_POSTS_FUZZ"] == "1"
let fuzzFlags: [SwiftSetting] = fuzzing ? [.unsafeFlags(["-sanitize=fuzzer,address"])] : []

let package = Package(
    name: "welfare-posts",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "welfare-posts", targets: ["welfare-posts"]),
        .library(name: "WelfarePosts", targets: ["WelfarePosts"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        // Reading and writing Excel workbooks (.xlsx is a zip of XML parts): README, "Excel files".
        .package(url: "https://github.com/weichsel/ZIPFoundation", exact: "0.9.20"),
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
        .target(name: "WelfarePosts", dependencies: ["Postgres", .product(name: "ZIPFoundation", package: "ZIPFoundation")], swiftSettings: fuzzFlags, plugins: ["EmbedMigrations"]),
        // The command line: parses, calls the library, prints.
        .executableTarget(name: "welfare-posts", dependencies: [
            "WelfarePosts",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),
        // The file reader and value parsers under libFuzzer (deploy/fuzz.sh); built plainly, it
        // replays the corpus in Tests/fuzz-corpus.
        .executableTarget(name: "fuzz-values", dependencies: ["WelfarePosts"],
                          swiftSettings: fuzzFlags + (fuzzing ? [.define("FUZZING")] : []),
                          linkerSettings: fuzzing ? [.unsafeFlags(["-sanitize=fuzzer,address"])] : []),
        .target(name: "TestSupport", dependencies: ["Postgres", "WelfarePosts"], path: "Tests/TestSupport"),
        .testTarget(name: "PostgresTests", dependencies: ["Postgres", "TestSupport"]),
        .testTarget(name: "WelfarePostsTests", dependencies: ["WelfarePosts", "Postgres", "TestSupport"]),
        .testTarget(name: "CLITests", dependencies: ["TestSupport", "welfare-posts"]),
    ]
)
