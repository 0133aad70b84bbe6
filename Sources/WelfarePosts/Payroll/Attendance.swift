import Postgres

/// Daily attendance (考勤, SPEC §14): the evidence that a person worked. The file has one row
/// per person and day (`id_number`, `date`, `status`); it is stored as one row per person and
/// month, the days as one character each (sql/0019_2: P present, A absent, L leave, - none).
///
/// A province's month is 30 million rows of file. They are checked and gathered into person-
/// months as the file streams (resident IDs, dates, statuses, two rows for one day), so only a
/// million rows go to the server: one COPY into staging, set-wise checks there (persons,
/// placements, assessments that give absent days of their own), one INSERT … SELECT.
public enum Attendance {
    public static let columns = [
        ImportColumn("id_number", "身份证号"), ImportColumn("date", "日期"), ImportColumn("status", "考勤状态"),
    ]

    /// Status codes and labels as the file may give them, to the stored character.
    static let statuses: [String: UInt8] = [
        "present": UInt8(ascii: "P"), "出勤": UInt8(ascii: "P"),
        "absent": UInt8(ascii: "A"), "缺勤": UInt8(ascii: "A"),
        "leave": UInt8(ascii: "L"), "请假": UInt8(ascii: "L"),
    ]
    static let statusNames: [UInt8: (String, String)] = [
        UInt8(ascii: "P"): ("present", "出勤"), UInt8(ascii: "A"): ("absent", "缺勤"), UInt8(ascii: "L"): ("leave", "请假"),
    ]

    public struct Outcome: Sendable {
        /// Rows of the file (person-days).
        public let rows: Int
        /// Person-months the file touches, and of them those new and those changed.
        public let personMonths: Int
        public let inserted: Int
        public let updated: Int
        public let dryRun: Bool
        public var unchanged: Int { personMonths - inserted - updated }
    }

    /// The file's person-months as they are gathered: per person and month, the status of each
    /// day and the line that gave it.
    struct Gathered {
        struct Key: Hashable {
            let id: String
            let month: Int32
        }
        var index: [Key: Int32] = [:]
        var keys: [Key] = []
        /// 31 status bytes per person-month ('-' where the file says nothing).
        var days: [UInt8] = []
        /// 31 line numbers per person-month (0 where the file says nothing).
        var lines: [Int32] = []

        mutating func slot(_ key: Key) -> Int {
            if let found = index[key] { return Int(found) }
            let slot = keys.count
            index[key] = Int32(slot)
            keys.append(key)
            days.append(contentsOf: repeatElement(UInt8(ascii: "-"), count: 31))
            lines.append(contentsOf: repeatElement(0, count: 31))
            return slot
        }

        static func month(_ key: Key) -> Month { Month(unchecked: Int(key.month) / 12, Int(key.month) % 12 + 1) }
    }

    public static func importFile(_ connection: Connection, file: CSVFile, dryRun: Bool, today: Day = .today()) throws -> Outcome {
        var gathered = Gathered()
        var problems: [FileProblem] = []
        var header: HeaderMap?
        var rows = 0
        var positions = (id: 0, date: 0, status: 0)
        // Files run person by person: the last ID and date read are checked once.
        var idText = "\u{0}", idValue: String?, idProblem: Text?
        var dateText = "\u{0}", dayValue: Day?
        var lastKey: Gathered.Key?, lastSlot = 0
        try file.forEachRecord { record in
            guard let map = header else {
                let map = try HeaderMap(record, columns: columns)
                header = map
                positions = (map.position["id_number"]!, map.position["date"]!, map.position["status"]!)
                return
            }
            rows += 1
            let line = record.line
            func problem(_ column: Int, _ text: Text) {
                problems.append(FileProblem(line: line, column: column + 1, header: map.headers[column], problem: text))
            }
            if record.fields.count > map.headers.count {
                problems.append(FileProblem(line: line, column: map.headers.count + 1, problem: Text(
                    en: "the row has \(record.fields.count) cells but the header only \(map.headers.count)",
                    zh: "该行有 \(record.fields.count) 个单元格，但表头只有 \(map.headers.count) 列")))
            }
            func cell(_ position: Int) -> String {
                position < record.fields.count ? record.fields[position].trimmingWhitespace() : ""
            }
            let id = cell(positions.id)
            if id != idText {
                idText = id
                idValue = nil
                idProblem = nil
                if id.isEmpty {
                    idProblem = Text(en: "id_number is empty", zh: "身份证号不能为空")
                } else {
                    do throws(ResidentIDProblem) { idValue = try ResidentID(id, today: today).value } catch { idProblem = error.explanation(id) }
                }
            }
            if let idProblem { problem(positions.id, idProblem) }
            let date = cell(positions.date)
            if date != dateText {
                dateText = date
                dayValue = Day(iso: date)
            }
            if dayValue == nil {
                problem(positions.date, date.isEmpty ? Text(en: "date is empty", zh: "日期不能为空")
                        : Text(en: "'\(date)' is not a date: write YYYY-MM-DD", zh: "“\(date)”不是日期：请写成 YYYY-MM-DD"))
            } else if let day = dayValue, today < day {
                problem(positions.date, Text(en: "\(day) is in the future: attendance is recorded for days that have passed",
                                             zh: "\(day) 晚于今天：考勤只能登记已过去的日期"))
            }
            let statusText = cell(positions.status)
            let status = statuses[statusText] ?? statuses[statusText.lowercased()]
            if status == nil {
                problem(positions.status, statusText.isEmpty ? Text(en: "status is empty", zh: "考勤状态不能为空") : Text(
                    en: "unknown attendance status '\(statusText)': use present 出勤, absent 缺勤 or leave 请假",
                    zh: "未知的考勤状态“\(statusText)”：可用 present 出勤、absent 缺勤、leave 请假"))
            }
            guard let idValue, let day = dayValue, today >= day, let status else { return }
            let key = Gathered.Key(id: idValue, month: Int32(day.year * 12 + day.month - 1))
            let slot: Int
            if key == lastKey { slot = lastSlot } else { slot = gathered.slot(key); lastKey = key; lastSlot = slot }
            let at = slot * 31 + day.day - 1
            let earlier = gathered.lines[at]
            if earlier != 0 {
                let before = gathered.days[at]
                if before == status {
                    problem(positions.date, Text(en: "this person's attendance on \(day) is already on line \(earlier)",
                                                         zh: "该人员 \(day) 的考勤已在第 \(earlier) 行出现"))
                } else {
                    let (en, zh) = statusNames[before]!, (en2, zh2) = statusNames[status]!
                    problem(positions.status, Text(
                        en: "two statuses for one day: line \(earlier) says \(en) on \(day), this line \(en2)",
                        zh: "同一天两种考勤状态：第 \(earlier) 行为\(zh)，本行为\(zh2)（\(day)）"))
                }
                return
            }
            gathered.days[at] = status
            gathered.lines[at] = Int32(line)
        }
        guard header != nil else {
            throw AppError(.input, code: "BAD_FILE", Text(en: "the file is empty: it needs a header row and at least one data row",
                                                           zh: "文件为空：需要表头行和至少一行数据"),
                           problems: [FileProblem(line: 1, problem: Text(en: "no header row", zh: "没有表头行"))])
        }
        guard rows > 0 else {
            throw AppError(.input, code: "BAD_FILE", Text(en: "the file has a header but no data rows; nothing was imported",
                                                           zh: "文件只有表头没有数据，未导入任何数据"),
                           problems: [FileProblem(line: 2, problem: Text(en: "no data rows", zh: "没有数据行"))])
        }
        let map = header!
        return try Database.mapped {
            try connection.transaction {
                try connection.execute("""
                    CREATE TEMP TABLE attendance_stage (slot int NOT NULL, id_number text COLLATE "C" NOT NULL, month date NOT NULL,
                      days text COLLATE "C" NOT NULL) ON COMMIT DROP
                    """)
                _ = try connection.copyIn("COPY attendance_stage FROM STDIN") { writer in
                    for (slot, key) in gathered.keys.enumerated() {
                        let month = Gathered.month(key)
                        let start = slot * 31
                        try writer.write(String(slot))
                        try writer.write(byte: 0x09)
                        try writer.write(key.id)
                        try writer.write(byte: 0x09)
                        try writer.write(month.firstDay.iso)
                        try writer.write(byte: 0x09)
                        try writer.write(String(decoding: gathered.days[start..<(start + month.dayCount)], as: UTF8.self))
                        try writer.write(byte: 0x0A)
                    }
                }
                let bulk = gathered.keys.count > Staging.bulkRows
                if bulk { try connection.execute("SET LOCAL enable_nestloop = off") }
                try Database.tuneForBulk(connection)
                // Each person-month with the county of its placement(s) in the month, and whether
                // one placement spans every recorded day (the usual case; the others are checked
                // day by day below).
                try connection.execute("""
                    CREATE TEMP TABLE attendance_checked ON COMMIT DROP AS
                    SELECT s.slot, s.id_number, s.month, s.days, min(pl.county_code) AS county_code,
                           coalesce(bool_or(pl.start_on <= s.month + (length(s.days) - length(ltrim(s.days, '-')))
                                            AND coalesce(pl.exit_on, s.month + 31) >= s.month + (length(rtrim(s.days, '-')) - 1)), false) AS spanned
                    FROM attendance_stage s
                    LEFT JOIN placement pl ON pl.id_number = s.id_number AND pl.start_on < (s.month + interval '1 month')::date
                      AND (pl.exit_on IS NULL OR pl.exit_on >= s.month)
                    GROUP BY s.slot, s.id_number, s.month, s.days
                    """)
                func linesOf(_ slot: Int, _ month: Month, only days: Set<Int>? = nil) -> [Int] {
                    (1...month.dayCount).compactMap { day in
                        let line = Int(gathered.lines[slot * 31 + day - 1])
                        return line != 0 && (days?.contains(day) ?? true) ? line : nil
                    }
                }
                func add(_ slot: Int, _ lines: [Int], _ key: String, _ text: Text) {
                    let column = map.position[key]!
                    problems += lines.map { FileProblem(line: $0, column: column + 1, header: map.headers[column], problem: text) }
                }
                // Persons nobody registered (those of another region are refused apart, below).
                let unseen = """
                    NOT EXISTS (SELECT 1 FROM person p WHERE p.id_number = c.id_number)
                    AND NOT EXISTS (SELECT 1 FROM placement pl WHERE pl.id_number = c.id_number)
                    """
                let outside = "c.id_number IN (SELECT persons_outside_region(array_agg(id_number)) FROM attendance_checked)"
                for row in try connection.query("SELECT c.slot FROM attendance_checked c WHERE \(unseen) AND NOT \(outside)") {
                    let slot = Int(row["slot"] ?? "") ?? 0
                    add(slot, linesOf(slot, Gathered.month(gathered.keys[slot])), "id_number", Text(
                        en: "no person with this resident ID is registered: import them with `person import` first ",
                        zh: "未登记该身份证号的人员：请先用 `person import` 导入"))
                }
                // Recorded days outside the person's placements in the month.
                for row in try connection.query("""
                    SELECT c.slot, array_to_string(array_agg(d.n ORDER BY d.n), ',') AS days
                    FROM attendance_checked c CROSS JOIN LATERAL generate_series(1, length(c.days)) d(n)
                    WHERE NOT c.spanned AND NOT (\(unseen)) AND substr(c.days, d.n, 1) <> '-'
                      AND NOT EXISTS (SELECT 1 FROM placement pl WHERE pl.id_number = c.id_number
                                        AND pl.start_on <= c.month + (d.n - 1) AND (pl.exit_on IS NULL OR pl.exit_on >= c.month + (d.n - 1)))
                    GROUP BY c.slot
                    """) {
                    let slot = Int(row["slot"] ?? "") ?? 0
                    let days = Set((row["days"] ?? "").split(separator: ",").compactMap { Int($0) })
                    add(slot, linesOf(slot, Gathered.month(gathered.keys[slot]), only: days), "date", Text(
                        en: "this person is not in a placement on this day: attendance is recorded for days in post (check the date, or record the hire or exit first)",
                        zh: "该人员当日不在聘用期内：考勤只登记在岗期间（请核对日期，或先办理聘用、退岗）"))
                }
                // An assessment of the month that gives absent days of its own (SPEC §14).
                for row in try connection.query("""
                    SELECT c.slot, to_char(c.month, 'YYYY-MM') AS month, max(a.absent_days) AS absent
                    FROM attendance_checked c JOIN placement pl ON pl.id_number = c.id_number
                    JOIN assessment a ON a.placement_id = pl.id AND a.month = c.month AND a.absent_days > 0
                    GROUP BY c.slot, c.month
                    """) {
                    let slot = Int(row["slot"] ?? "") ?? 0
                    add(slot, linesOf(slot, Gathered.month(gathered.keys[slot])).prefix(1).map { $0 }, "id_number", Text(
                        en: "the assessment of \(row["month"] ?? "") gives \(row["absent"] ?? "") absent days: where attendance is recorded, absent days come from it; record the assessment again without --absent-days first",
                        zh: "\(row["month"] ?? "") 的考核已填写缺勤 \(row["absent"] ?? "") 天：登记考勤后缺勤天数以考勤为准；请先将该考核的缺勤天数改为0"))
                }
                if !problems.isEmpty {
                    let sorted = problems.sorted { ($0.line, $0.column ?? 0) < ($1.line, $1.column ?? 0) }
                    throw AppError(.input, code: "BAD_FILE", Text(
                        en: "\(Set(problems.map(\.line)).count) row(s) of the file are not right; nothing was imported. Correct them and import the file again:",
                        zh: "文件中有 \(Set(problems.map(\.line)).count) 行有误，未导入任何数据。请改正后重新导入："), problems: sorted)
                }
                let refused = try connection.query("SELECT c.slot FROM attendance_checked c WHERE \(unseen) AND \(outside)")
                if !refused.isEmpty {
                    let column = map.position["id_number"]!
                    let lines = refused.flatMap { row -> [Int] in
                        let slot = Int(row["slot"] ?? "") ?? 0
                        return linesOf(slot, Gathered.month(gathered.keys[slot]))
                    }.sorted()
                    throw AppError(.rule, code: "OUTSIDE_REGION", Text(
                        en: "\(lines.count) row(s) of the file are outside your region; nothing was imported. Leave them to their own region's operator:",
                        zh: "文件中有 \(lines.count) 行不在您的管辖区域内，未导入任何数据。请交由所属区域的操作员办理："),
                        problems: lines.map { FileProblem(line: $0, column: column + 1, header: map.headers[column], problem: Text(
                            en: "this person is registered in another region", zh: "该人员已在其他区域登记")) })
                }
                let counts = try connection.query("""
                    SELECT count(*) FILTER (WHERE a.id_number IS NULL) AS inserted,
                           count(*) FILTER (WHERE a.id_number IS NOT NULL AND attendance_overlay(a.days, c.days) <> a.days) AS updated
                    FROM attendance_checked c
                    LEFT JOIN attendance a ON a.county_code = c.county_code AND a.id_number = c.id_number AND a.month = c.month
                    """)[0]
                if !dryRun {
                    try connection.command("""
                        INSERT INTO attendance AS a (county_code, id_number, month, days)
                        SELECT c.county_code, c.id_number, c.month, c.days FROM attendance_checked c ORDER BY c.county_code, c.id_number, c.month
                        ON CONFLICT (county_code, id_number, month) DO UPDATE SET days = attendance_overlay(a.days, EXCLUDED.days), recorded_at = now()
                        WHERE attendance_overlay(a.days, EXCLUDED.days) <> a.days
                        """)
                }
                return Outcome(rows: rows, personMonths: gathered.keys.count, inserted: try counts.decode("inserted"),
                               updated: try counts.decode("updated"), dryRun: dryRun)
            }
        }
    }

    /// A person's recorded months (the newest first), with the days as stored and their counts.
    public static func months(_ connection: Connection, person: ResidentID, month: Month?) throws -> [Row] {
        _ = try Persons.find(connection, person)
        return try Database.mapped {
            try connection.query("""
                SELECT to_char(a.month, 'YYYY-MM') AS month, a.days,
                       attendance_count(a.days, 'P', 1, 31) AS present, attendance_count(a.days, 'A', 1, 31) AS absent,
                       attendance_count(a.days, 'L', 1, 31) AS leave, attendance_count(a.days, '-', 1, 31) AS unrecorded
                FROM attendance a WHERE a.id_number = $1 AND ($2::date IS NULL OR a.month = $2::date)
                ORDER BY a.month DESC
                """, [person.value, month?.firstDay.iso])
        }
    }
}
