import Foundation

/// Writes `EmbeddedMigrations.swift`: one (name, sql) pair per file, in file-name order.
/// Usage: embed-migrations OUTPUT FILE...
let arguments = CommandLine.arguments.dropFirst()
guard let output = arguments.first else {
    FileHandle.standardError.write(Data("usage: embed-migrations OUTPUT FILE...\n".utf8))
    exit(2)
}
var source = "// Generated from sql/*.sql by the EmbedMigrations plugin. Do not edit.\n"
source += "let embeddedMigrations: [(name: String, sql: String)] = [\n"
for path in arguments.dropFirst().sorted(by: { ($0 as NSString).lastPathComponent < ($1 as NSString).lastPathComponent }) {
    let name = ((path as NSString).lastPathComponent as NSString).deletingPathExtension
    let text = try String(contentsOfFile: path, encoding: .utf8)
    // A raw string with a long delimiter: SQL never contains `"#####`.
    source += "    (name: \"\(name)\", sql: #####\"\"\"\n\(text)\n\"\"\"#####),\n"
}
source += "]\n"
try source.write(toFile: output, atomically: true, encoding: .utf8)
