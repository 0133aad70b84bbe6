/// The language of labels and messages (`--lang en|zh`).
public enum Lang: String, Sendable, CaseIterable {
    case en, zh
}

/// A message in both languages. Every word the user reads is one of these.
public struct Text: Sendable, Equatable, CustomStringConvertible {
    public let en: String
    public let zh: String

    public init(en: String, zh: String) {
        self.en = en
        self.zh = zh
    }

    public func callAsFunction(_ lang: Lang) -> String { lang == .zh ? zh : en }
    public var description: String { en }
}
