import Postgres

/// Placements (聘任) and their contracts: hire per post, renew, exit.
public enum Placements {
    static let summary = """
        SELECT pl.id, pl.post_id, pl.id_number, pe.name, pl.start_on::text, pl.exit_on::text, pl.exit_reason,
               c.kind, c.start_on::text AS contract_start, c.end_on::text AS contract_end
        FROM placement pl LEFT JOIN person pe ON pe.id_number = pl.id_number
        LEFT JOIN LATERAL (SELECT * FROM contract c WHERE c.placement_id = pl.id ORDER BY c.start_on DESC LIMIT 1) c ON true
        WHERE pl.id = $1
        """

    /// Hires a person into a post with a first contract, checking every rule of SPEC §5. The
    /// post row and the household are locked first, so two administrators hiring into one post,
    /// or two members of one household, at once end with one success and one refusal.
    public static func hire(_ connection: Connection, post id: String, person: ResidentID, start: Day, end: Day,
                            kind: String?) throws -> Row {
        let kind = try kind.map { try Vocabulary.load(connection).require(.contractKind, $0) } ?? "service-agreement"
        try checkTerm(start: start, end: end)
        return try Database.mapped {
            try connection.transaction {
                let post = try Posts.find(connection, id, lock: true)
                guard post["state"] == "approved" else {
                    throw AppError(rule: .postNotOpen, Text(
                        en: "post \(id) is \(post["state"] ?? ""): only an approved post that is not closed can be filled",
                        zh: "岗位 \(id) 当前为“\(post["state"] ?? "")”：只有已审批且未撤销的岗位才能聘用"))
                }
                let holder = try connection.query("""
                    SELECT pe.name, pl.id_number, pl.start_on::text, pl.exit_on::text FROM placement pl
                    LEFT JOIN person pe ON pe.id_number = pl.id_number
                    WHERE pl.post_id = $1 AND (pl.exit_on IS NULL OR pl.exit_on >= $2::date) ORDER BY pl.start_on LIMIT 1
                    """, [id, start.iso])
                if let holder = holder.first {
                    throw AppError(rule: .postNotOpen, Text(
                        en: "post \(id) is not vacant from \(start): \(holder["name"] ?? "") is in post from \(holder["start_on"] ?? "")\(holder["exit_on"].map { " to \($0)" } ?? ""); exit them first or choose another post",
                        zh: "岗位 \(id) 自 \(start) 起不空缺：\(holder["name"] ?? "") 自 \(holder["start_on"] ?? "") 起在岗\(holder["exit_on"].map { "至 \($0)" } ?? "")；请先办理退岗或另选岗位"))
                }
                let person = try Persons.find(connection, person)
                // One household's hires wait for each other: the cap is counted after the wait.
                try connection.query("SELECT pg_advisory_xact_lock(hashtext('household/' || $1 || '/' || $2))",
                                     [person["county_code"], person["household_id"]])
                let elsewhere = try connection.query("""
                    SELECT post_id, start_on::text FROM placement
                    WHERE id_number = $1 AND (exit_on IS NULL OR exit_on >= $2::date) LIMIT 1
                    """, [person["id_number"], start.iso])
                if let other = elsewhere.first {
                    throw AppError(rule: .onePostPerPerson, Text(
                        en: "\(person["name"] ?? "") is in post \(other["post_id"] ?? "") from \(other["start_on"] ?? ""): record their exit from it first",
                        zh: "\(person["name"] ?? "") 自 \(other["start_on"] ?? "") 起在岗位 \(other["post_id"] ?? "") 任职：请先办理该岗位的退岗"))
                }
                try Eligibility.check(connection, .init(id: try ResidentID(person["id_number"] ?? ""), postRegion: post["region_code"] ?? "",
                                                        postType: post["post_type"] ?? "", start: start, end: end, newPlacement: true))
                try Publicity.requireNotice(connection, post: post, person: person, start: start)
                let placement = try connection.query("""
                    INSERT INTO placement (county_code, post_id, id_number, start_on) VALUES ($1, $2, $3, $4::date) RETURNING id
                    """, [post["county_code"], id, person["id_number"], start.iso])[0]
                try connection.command("""
                    INSERT INTO contract (county_code, placement_id, kind, start_on, end_on) VALUES ($1, $2, $3, $4::date, $5::date)
                    """, [post["county_code"], placement["id"], kind, start.iso, end.iso])
                return try connection.query(summary, [placement["id"]])[0]
            }
        }
    }

    /// The next contract of the person's open placement. It starts by default the day after the
    /// last one ends; a later start leaves a gap, which is days without pay.
    public static func renew(_ connection: Connection, person: ResidentID, start: Day?, end: Day, kind: String?) throws -> Row {
        let kind = try kind.map { try Vocabulary.load(connection).require(.contractKind, $0) } ?? "service-agreement"
        return try Database.mapped {
            try connection.transaction {
                let placement = try openPlacement(connection, person)
                let last = try connection.query("SELECT max(end_on)::text AS last FROM contract WHERE placement_id = $1", [placement["id"]])[0]
                let start = start ?? last["last"].flatMap(Day.init(iso:))?.adding(days: 1) ?? Day(iso: placement["start_on"] ?? "")!
                try checkTerm(start: start, end: end)
                if let lastEnd = last["last"].flatMap(Day.init(iso:)), start <= lastEnd {
                    throw AppError(.rule, code: "CONTRACT_OVERLAP", Text(
                        en: "the current contract runs to \(lastEnd); a new one starts on \(lastEnd.adding(days: 1)) or later",
                        zh: "现合同至 \(lastEnd) 止；新合同应自 \(lastEnd.adding(days: 1)) 或之后开始"))
                }
                if let closed = placement["closed_on"].flatMap(Day.init(iso:)), start >= closed {
                    throw AppError(rule: .postNotOpen, Text(
                        en: "post \(placement["post_id"] ?? "") is closed from \(closed): no contract can start on \(start)",
                        zh: "岗位 \(placement["post_id"] ?? "") 自 \(closed) 起已撤销：不能签订自 \(start) 起的合同"))
                }
                try Eligibility.check(connection, .init(id: person, postRegion: placement["region_code"] ?? "",
                                                        postType: placement["post_type"] ?? "", start: start, end: end, newPlacement: false))
                try connection.command("""
                    INSERT INTO contract (county_code, placement_id, kind, start_on, end_on) VALUES ($1, $2, $3, $4::date, $5::date)
                    """, [placement["county_code"], placement["id"], kind, start.iso, end.iso])
                return try connection.query(summary, [placement["id"]])[0]
            }
        }
    }

    /// Closes the person's open placement; `day` is the last day in post and may be in the past
    /// (payroll then corrects what was paid for the days after it).
    public static func exit(_ connection: Connection, person: ResidentID, on day: Day, reason: String) throws -> Row {
        let reason = try Vocabulary.load(connection).require(.exitReason, reason)
        return try Database.mapped {
            try connection.transaction {
                let placement = try openPlacement(connection, person)
                if let start = placement["start_on"].flatMap(Day.init(iso:)), day < start {
                    throw AppError(.rule, code: "EXIT_BEFORE_START", Text(
                        en: "the placement in post \(placement["post_id"] ?? "") starts on \(start); an exit cannot be dated before that",
                        zh: "岗位 \(placement["post_id"] ?? "") 的聘用自 \(start) 开始；退岗日期不能早于此日"))
                }
                try connection.command("UPDATE placement SET exit_on = $2::date, exit_reason = $3 WHERE id = $1",
                                       [placement["id"], day.iso, reason])
                return try connection.query(summary, [placement["id"]])[0]
            }
        }
    }

    /// The person's placement with no exit yet, locked; refused when there is none.
    static func openPlacement(_ connection: Connection, _ person: ResidentID) throws -> Row {
        let rows = try connection.query("""
            SELECT pl.id, pl.county_code, pl.post_id, pl.start_on::text, p.region_code, p.post_type, p.closed_on::text
            FROM placement pl JOIN post p ON p.id = pl.post_id
            WHERE pl.id_number = $1 AND pl.exit_on IS NULL FOR UPDATE OF pl
            """, [person.value])
        guard let row = rows.first else {
            _ = try Persons.find(connection, person)
            throw AppError(.rule, code: "NOT_IN_POST", Text(
                en: "\(person.masked) has no open placement: hire them into a post first",
                zh: "\(person.masked) 当前没有在岗聘用记录：请先办理聘用"))
        }
        return row
    }

    /// CONTRACT_TERM with a message that names the last allowed day (the constraint `contract_term`
    /// keeps the same rule for every other writer).
    static func checkTerm(start: Day, end: Day) throws {
        guard end >= start else {
            throw AppError(rule: .contractTerm, Text(en: "the contract ends (\(end)) before it starts (\(start))",
                                                     zh: "合同终止日期（\(end)）早于起始日期（\(start)）"))
        }
        let limit = start.nextAnniversary().adding(days: -1)
        guard end <= limit else {
            throw AppError(rule: .contractTerm, Text(
                en: "a contract signed from \(start) may run to \(limit) at most (每次签订期限不超过1年); sign it to \(limit) and renew later",
                zh: "自 \(start) 起签订的合同最长至 \(limit)（每次签订期限不超过1年）；请签至 \(limit)，到期后续签"))
        }
    }
}
