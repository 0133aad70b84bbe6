/// The product's version, which `welfare-posts --version` prints with the last migration the
/// binary carries (what `db migrate` brings a database up to). Raised with every release.
public enum ProductVersion {
    public static let number = "1.0.0"

    public static func text(_ lang: Lang) -> String {
        let schema = Migrator.migrations.last?.name ?? ""
        return lang == .zh ? "welfare-posts \(number)（数据库结构 \(schema)）" : "welfare-posts \(number) (schema \(schema))"
    }
}
