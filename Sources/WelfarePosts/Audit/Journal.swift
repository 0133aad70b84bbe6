import Postgres

/// The journal of every change to domain data (`sql/0005_journal.sql`): verified by its hash
/// chain, and read as the history of a post or a person.
public enum Journal {
    /// What `journal verify` found: nothing wrong, or the first entry that is not as written.
    public struct Verification: Sendable {
        public let entries: Int64
        /// The hash of the last entry, hex: write it down to prove later that nothing before
        /// it was rewritten.
        public let lastHash: String
        public let problem: Problem?
        /// Approved months whose lines are not those approved (sql/0016), and county-months whose
        /// regular lines are not those journaled (sql/0029).
        public let brokenSeals: [BrokenSeal]

        /// An approved county-month that changed behind the locks: `lines changed` (its lines no
        /// longer give the digest sealed on approval) or `seal changed` (the run's digest is not
        /// the one its approval journaled); or a county-month whose regular lines are not those
        /// the journal's derived entries recorded (sql/0029): `lines added`, `lines removed`,
        /// `lines altered`, `removed lines altered`.
        public struct BrokenSeal: Sendable {
            public let county: String
            public let month: String
            public let problem: String

            public var explanation: Text {
                switch problem {
                case "lines changed":
                    Text(en: "the approved \(month) payroll of county \(county) was changed behind the locks: its lines are not those approved",
                         zh: "县 \(county) \(month) 已审核的工资表被绕过锁定修改：工资明细与审核时不符")
                case "lines added":
                    Text(en: "lines were added to the \(month) payroll of county \(county) behind the journal: its regular lines are more than the journal recorded",
                         zh: "县 \(county) \(month) 的工资表被绕过日志增加了明细：正常明细多于日志所记")
                case "lines removed":
                    Text(en: "lines were removed from the \(month) payroll of county \(county) behind the journal: its regular lines are fewer than the journal recorded",
                         zh: "县 \(county) \(month) 的工资表被绕过日志删除了明细：正常明细少于日志所记")
                case "lines altered":
                    Text(en: "lines of the \(month) payroll of county \(county) were altered behind the journal: they no longer give the digest the journal recorded",
                         zh: "县 \(county) \(month) 的工资表明细被绕过日志修改：与日志所记摘要不符")
                case "removed lines altered":
                    Text(en: "the \(month) payroll lines of county \(county) that a later run removed had been altered behind the journal: they were not those the journal recorded",
                         zh: "县 \(county) \(month) 被重算删除的工资明细此前曾被绕过日志修改：与日志所记不符")
                default:
                    Text(en: "the seal of the approved \(month) payroll of county \(county) was changed: it is not the one journaled on approval",
                         zh: "县 \(county) \(month) 已审核工资表的封存摘要被修改：与审核时记入日志的不符")
                }
            }
        }

        public struct Problem: Sendable {
            /// `altered`, `removed`, `reordered` or `truncated`.
            public let kind: String
            /// The entry found wrong; for `removed`/`truncated`, the entry after the gap (or the head's last).
            public let seq: Int64
            /// The first entry that should have been there (for `removed` and `truncated`).
            public let expectedSeq: Int64

            public var explanation: Text {
                switch kind {
                case "altered":
                    Text(en: "entry \(seq) was altered after it was written: its content no longer matches its hash",
                         zh: "第 \(seq) 条日志写入后被篡改：内容与哈希不符")
                case "removed":
                    Text(en: "entries \(expectedSeq)…\(seq - 1) were removed: entry \(seq) follows entry \(expectedSeq - 1)",
                         zh: "第 \(expectedSeq)…\(seq - 1) 条日志被删除：第 \(seq) 条紧接在第 \(expectedSeq - 1) 条之后")
                case "truncated":
                    Text(en: "entries \(expectedSeq)…\(seq) at the end were removed or replaced: the chain's head records entry \(seq)",
                         zh: "末尾第 \(expectedSeq)…\(seq) 条日志被删除或替换：链头记录的最后一条为第 \(seq) 条")
                default:
                    Text(en: "entry \(seq) is out of order: it was not written after the entry now before it",
                         zh: "第 \(seq) 条日志顺序被打乱：它并非紧接前一条写入")
                }
            }
        }
    }

    /// Recomputes every entry's hash and checks the chain, set-wise in one query.
    public static func verify(_ connection: Connection) throws -> Verification {
        try Database.mapped {
            try connection.transaction(.repeatableRead) {
                try Database.tuneForBulk(connection)
                // journal_verify reads the whole chain whoever asks (row-level security would
                // show an auditor only their region's entries), and says how many there are.
                let row = try connection.query("SELECT seq, problem, expected_seq, entries, last_hash FROM journal_verify()")[0]
                // Approved months against their seal, and every county-month's regular lines
                // against the digest the journal recorded of them (sql/0029).
                let seals = try connection.query("""
                    SELECT county_code, to_char(month, 'YYYY-MM') AS month, problem FROM payroll_seals_broken()
                    UNION ALL
                    SELECT county_code, to_char(month, 'YYYY-MM'), problem FROM payroll_lines_unjournaled()
                    """).map { Verification.BrokenSeal(county: try $0.decode("county_code"), month: try $0.decode("month"),
                                                        problem: try $0.decode("problem")) }
                return Verification(
                    entries: try row.decode("entries"), lastHash: row["last_hash"] ?? "",
                    problem: try row["problem"].map { kind in
                        Verification.Problem(kind: kind, seq: try row.decode("seq"), expectedSeq: try row.decode("expected_seq"))
                    }, brokenSeals: seals)
            }
        }
    }

    /// Whether entry `seq` still has the hash written down earlier (hex): a chain rewritten from
    /// that entry on verifies by itself, but not against a hash kept outside the database.
    public static func hash(_ connection: Connection, at seq: Int64) throws -> String? {
        try Database.mapped { try connection.query("SELECT journal_hash_at($1) AS h", [String(seq)])[0]["h"] }
    }

    /// A kind of entity whose history `journal show --entity KIND:ID` prints.
    public enum Entity: Sendable, Equatable {
        case post(String)
        case person(String)

        /// `post:320321-00001` or `person:320321197003150128`.
        public init(_ text: String) throws {
            let parts = text.split(separator: ":", maxSplits: 1).map(String.init)
            switch (parts.first, parts.count) {
            case ("post", 2): self = .post(parts[1])
            case ("person", 2): self = .person(try Persons.parseID(parts[1]).value)
            default:
                throw AppError.badInput(Text(en: "--entity '\(TextValue.quoted(text))' is not KIND:ID: write post:320321-00001 or person:RESIDENT_ID",
                                             zh: "--entity“\(TextValue.quoted(text))”格式应为 类别:编号，例如 post:320321-00001 或 person:身份证号"))
            }
        }
    }

    /// Rows journaled, oldest first: all of them (the latest `limit`), or those of one entity —
    /// its own rows and every row that names it, including contracts and assessments of its
    /// placements. Read row by row from `journal_row` (sql/0023): a row of a bulk entry is
    /// numbered `ENTRY.ITEM`, a row with an entry of its own `ENTRY`.
    public static func show(_ connection: Connection, entity: Entity?, limit: Int, reveal: Bool) throws -> [Row] {
        let (column, key): (String, String) = switch entity {
        case .post(let id): ("post_id", id)
        case .person(let id): ("id_number", id)
        case nil: ("", "")
        }
        let table = if case .post = entity { "post" } else { "person" }
        return try Database.mapped {
            // The latest rows are in the latest entries (each has one row or more).
            let entries = try entity == nil
                ? connection.query("SELECT coalesce(array_agg(seq), '{}')::text AS seqs FROM (SELECT seq FROM journal ORDER BY seq DESC LIMIT $1) l",
                                   [limit])[0].decode("seqs")
                : entriesNaming(connection, column: column, key: key)
            return try connection.query("""
                WITH placements AS (
                  SELECT DISTINCT j.row_key FROM journal_row j
                  WHERE $1 <> '' AND j.seq = ANY ($6::bigint[])
                    AND j.table_name = 'placement' AND coalesce(j.row_after, j.row_before) ->> $1 = $2
                ), entries AS (
                  SELECT j.* FROM journal_row j
                  -- Only the entries that may hold such rows are read row by row: the latest
                  -- ones, or those naming the entity (a plain condition, so it reaches below
                  -- the view's unpacking of bulk entries).
                  WHERE j.seq = ANY ($6::bigint[])
                    AND ($1 = '' OR (j.table_name = $3 AND j.row_key = $2)
                         OR coalesce(j.row_after, j.row_before) ->> $1 = $2
                         OR (j.table_name IN ('contract', 'assessment')
                             AND coalesce(j.row_after, j.row_before) ->> 'placement_id' IN (SELECT row_key FROM placements)))
                  ORDER BY j.seq DESC, j.item DESC LIMIT $4
                )
                SELECT CASE WHEN item = 0 THEN seq::text ELSE seq || '.' || item END AS seq, to_char(at, 'YYYY-MM-DD HH24:MI:SS') AS at, role, operation, table_name,
                       CASE WHEN table_name = 'person' THEN shown_value('id_number', row_key, $5) ELSE row_key END AS row_key,
                       (SELECT string_agg(CASE WHEN operation = 'UPDATE'
                                               THEN k || ': ' || shown_value(k, row_before ->> k, $5) || ' → ' || shown_value(k, row_after ->> k, $5)
                                               ELSE k || '=' || shown_value(k, coalesce(row_after, row_before) ->> k, $5) END, '; ' ORDER BY k)
                        FROM json_object_keys(coalesce(row_after, row_before)) k
                        WHERE (operation <> 'UPDATE' OR row_before::jsonb -> k IS DISTINCT FROM row_after::jsonb -> k)
                          AND k NOT IN ('created_at', 'updated_at', 'recorded_at', 'run_at')) AS changes
                FROM entries ORDER BY entries.seq, entries.item
                """, [column, key, table, limit, reveal, entries])
        }
    }

    /// For the rest of the transaction: a scan of the journal's text runs on every core. The
    /// planner prices a scan of `journal` by its own pages, but nearly all it reads is the
    /// entries' text out of TOAST (4,000,000 journaled persons: 1.5 MB of rows, 780 MB of text
    /// to decompress and search), so it ran on one core: `journal show --entity` 1.28–1.37 s
    /// there, with every core 0.8–0.9 s. It still reads the whole journal.
    static func readOnEveryCore(_ connection: Connection) throws {
        try connection.execute("SET LOCAL parallel_setup_cost = 0; SET LOCAL parallel_tuple_cost = 0; SET LOCAL min_parallel_table_scan_size = 0")
    }

    /// The entries whose text names the key `$1` as a JSON string.
    static let entriesNamingKey = """
        SELECT coalesce(array_agg(seq), '{}')::text AS seqs FROM journal
        WHERE strpos(row_after::text, '"' || $1 || '"') > 0 OR strpos(row_before::text, '"' || $1 || '"') > 0
        """

    /// The entries that may hold a row of the entity, as a `bigint[]` literal: those whose text
    /// names its key, and those of contracts and assessments naming one of its placements. A
    /// bulk entry (sql/0023) is only expanded row by row when its text names the key, so one
    /// person's history is found without unpacking every bulk row of the journal; the exact
    /// test is made on the rows of these entries only. Both searches read every entry's text,
    /// in a transaction of their own, on every core.
    static func entriesNaming(_ connection: Connection, column: String, key: String) throws -> String {
        try connection.transaction {
            try readOnEveryCore(connection)
            let direct: String = try connection.query(entriesNamingKey, [key])[0].decode("seqs")
            return try connection.query("""
                WITH placements AS (
                  SELECT DISTINCT j.row_key FROM journal_row j
                  WHERE j.seq = ANY ($1::bigint[]) AND j.table_name = 'placement'
                    AND coalesce(j.row_after, j.row_before) ->> $2 = $3 AND j.row_key IS NOT NULL
                )
                SELECT ($1::bigint[] || coalesce(array_agg(seq), '{}'))::text AS seqs FROM journal
                WHERE table_name IN ('contract', 'assessment') AND EXISTS (SELECT FROM placements)
                  AND coalesce(row_after::text, '') || coalesce(row_before::text, '') LIKE ANY (
                        SELECT '%' || p || '%' FROM placements, unnest(ARRAY['"' || row_key || '"', '"placement_id":' || row_key]) p)
                """, [direct, column, key])[0].decode("seqs")
        }
    }
}
