import Postgres

/// The code lists of SPEC §2 as held in the database, for reading input (a code or its Chinese
/// label) and labelling output.
public struct Vocabulary: Sendable {
    public enum Set: String, Sendable, CaseIterable {
        case personCategory = "person_category", labourCapacity = "labour_capacity"
        case personStatus = "person_status_kind", postType = "post_type"
        case fundingChannel = "funding_channel", contractKind = "contract_kind"
        case exitReason = "exit_reason", assessmentResult = "assessment_result"

        /// The set's position in `allCases`.
        var slot: Int {
            switch self {
            case .personCategory: 0
            case .labourCapacity: 1
            case .personStatus: 2
            case .postType: 3
            case .fundingChannel: 4
            case .contractKind: 5
            case .exitReason: 6
            case .assessmentResult: 7
            }
        }

        var noun: Text {
            switch self {
            case .personCategory: Text(en: "person category", zh: "人员类别")
            case .labourCapacity: Text(en: "labour capacity", zh: "劳动能力")
            case .personStatus: Text(en: "person status", zh: "人员状态")
            case .postType: Text(en: "post type", zh: "岗位类型")
            case .fundingChannel: Text(en: "funding channel", zh: "资金渠道")
            case .contractKind: Text(en: "contract kind", zh: "合同类型")
            case .exitReason: Text(en: "exit reason", zh: "退岗原因")
            case .assessmentResult: Text(en: "assessment result", zh: "考核结果")
            }
        }
    }

    /// Codes in display order, and code → Chinese label, per set.
    private var codes: [Set: [String]] = [:]
    private var labels: [Set: [String: String]] = [:]
    /// Each set's codes and labels in display order, by the set's position in `Set.allCases`
    /// (an array, not a dictionary: hashing the set's name cost more than the lookup itself).
    private var pairs: [[(code: String, label: String)]] = Array(repeating: [], count: Set.allCases.count)

    public static func load(_ connection: Connection) throws -> Vocabulary {
        let sql = Set.allCases.map { "SELECT '\($0.rawValue)' AS set, code, label_zh, position FROM \($0.rawValue)" }
            .joined(separator: " UNION ALL ") + " ORDER BY set, position"
        var vocabulary = Vocabulary()
        for row in try connection.query(sql) {
            guard let set = row["set"].flatMap(Set.init(rawValue:)), let code = row["code"], let label = row["label_zh"] else { continue }
            vocabulary.codes[set, default: []].append(code)
            vocabulary.labels[set, default: [:]][code] = label
            vocabulary.pairs[set.slot].append((code, label))
        }
        return vocabulary
    }

    /// A vocabulary of the given sets' codes and labels in display order, for tests.
    static func of(_ sets: [Set: [(code: String, label: String)]]) -> Vocabulary {
        var vocabulary = Vocabulary()
        for (set, pairs) in sets {
            for pair in pairs {
                vocabulary.codes[set, default: []].append(pair.code)
                vocabulary.labels[set, default: [:]][pair.code] = pair.label
                vocabulary.pairs[set.slot].append(pair)
            }
        }
        return vocabulary
    }

    /// The code for a code or Chinese label, or nil when it is neither.
    public func code(_ set: Set, _ text: String) -> String? {
        // A set holds a handful of codes, compared in turn (as the dictionaries compare keys)
        // rather than hashing the text, which an import does twice a row.
        let pairs = pairs[set.slot]
        for pair in pairs where pair.code == text { return text }
        for pair in pairs where pair.label == text { return pair.code }
        return nil
    }

    /// For reading a cell by its bytes: the UTF-8 bytes of each code and label of `set`, each with
    /// the bytes of what `code(set, text)` returns for a text of exactly those bytes. A label is
    /// left out when a code or an earlier label equals it as Swift compares strings (canonical
    /// equivalence), for then `code` would return another; bytes found in none are for `code`.
    func byteForms(_ set: Set) -> [(text: [UInt8], code: [UInt8])] {
        let pairs = pairs[set.slot]
        var forms = pairs.map { (text: Array($0.code.utf8), code: Array($0.code.utf8)) }
        for (index, pair) in pairs.enumerated()
        where !pairs.contains(where: { $0.code == pair.label }) && !pairs[..<index].contains(where: { $0.label == pair.label }) {
            forms.append((Array(pair.label.utf8), Array(pair.code.utf8)))
        }
        return forms
    }

    /// The code, or a bad-input error listing what is allowed.
    public func require(_ set: Set, _ text: String) throws -> String {
        if let code = code(set, text) { return code }
        throw AppError.badInput(unknown(set, text), code: "UNKNOWN_CODE")
    }

    /// "unknown person category 'x': use one of …"
    public func unknown(_ set: Set, _ text: String) -> Text {
        let allowed = (codes[set] ?? []).map { "\($0) \(labels[set]?[$0] ?? "")" }.joined(separator: ", ")
        return Text(en: "unknown \(set.noun.en) '\(TextValue.quoted(text))': use one of \(allowed)",
                    zh: "未知的\(set.noun.zh)“\(TextValue.quoted(text))”：可用 \(allowed)")
    }

    /// The code under `--lang en`, its Chinese label under `--lang zh`.
    public func label(_ set: Set, _ code: String, _ lang: Lang) -> String {
        lang == .zh ? (labels[set]?[code] ?? code) : code
    }

    public func all(_ set: Set) -> [String] { codes[set] ?? [] }
}
