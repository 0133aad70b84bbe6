/// Values that can be sent as a text-format parameter.
public protocol PostgresEncodable {
    /// The text PostgreSQL parses for this value; `nil` sends SQL NULL.
    var postgresText: String? { get }
}

/// Values that can be read from a text-format column.
public protocol PostgresDecodable {
    init?(postgresText: String)
}

extension String: PostgresEncodable, PostgresDecodable {
    public var postgresText: String? { self }
    public init?(postgresText: String) { self = postgresText }
}

extension Int: PostgresEncodable, PostgresDecodable {
    public var postgresText: String? { String(self) }
    public init?(postgresText: String) { self.init(postgresText) }
}

extension Int64: PostgresEncodable, PostgresDecodable {
    public var postgresText: String? { String(self) }
    public init?(postgresText: String) { self.init(postgresText) }
}

extension Int32: PostgresEncodable, PostgresDecodable {
    public var postgresText: String? { String(self) }
    public init?(postgresText: String) { self.init(postgresText) }
}

extension Bool: PostgresEncodable, PostgresDecodable {
    public var postgresText: String? { self ? "t" : "f" }
    public init?(postgresText: String) {
        switch postgresText {
        case "t", "true": self = true
        case "f", "false": self = false
        default: return nil
        }
    }
}

extension Optional: PostgresEncodable where Wrapped: PostgresEncodable {
    public var postgresText: String? { self?.postgresText }
}

extension Array: PostgresEncodable where Element == String {
    /// A text array literal, each element quoted: `{"a","b"}`.
    public var postgresText: String? {
        var text = "{"
        for (index, element) in enumerated() {
            if index > 0 { text += "," }
            text += "\""
            for character in element {
                if character == "\\" || character == "\"" { text += "\\" }
                text.append(character)
            }
            text += "\""
        }
        return text + "}"
    }
}

/// One row of a result, columns addressed by name.
public struct Row: Sendable {
    public let columns: [String]
    public let values: [String?]

    public init(columns: [String], values: [String?]) {
        self.columns = columns
        self.values = values
    }

    /// The raw text of a column, or nil for NULL. Asking for a column the query does not
    /// return is a programming error.
    public subscript(_ name: String) -> String? {
        guard let index = columns.firstIndex(of: name) else {
            preconditionFailure("query returns no column \(name); it has \(columns)")
        }
        return values[index]
    }

    /// The column decoded as `T`; NULL or unreadable text throws.
    public func decode<T: PostgresDecodable>(_ name: String, as type: T.Type = T.self) throws -> T {
        guard let text = self[name] else {
            throw PostgresError(kind: .decoding, message: "column \(name) is NULL")
        }
        guard let value = T(postgresText: text) else {
            throw PostgresError(kind: .decoding, message: "column \(name) is not a \(T.self)")
        }
        return value
    }

    /// The column decoded as `T`, or nil for NULL.
    public func decodeIfPresent<T: PostgresDecodable>(_ name: String, as type: T.Type = T.self) throws -> T? {
        guard self[name] != nil else { return nil }
        return try decode(name, as: type)
    }
}
