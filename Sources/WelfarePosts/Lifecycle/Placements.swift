import Postgres

/// Placements (聘任) and their contracts: hire per post, renew, exit, and the corrections of
/// SPEC §5 (`exit --correct`, `hire --void`).
public enum Placements {
    /// Hires a person into a post with a first contract, checking every rule of SPEC §5 on the
    /// start date. The post row and the household are locked first, so two administrators
    /// hiring into one post, or two members of one household, at once end with one success and
    /// one refusal.
    public static func hire(_ connection: Connection, post id: String, person: ResidentID, start: Day, end: Day,
                            kind: String?) throws -> Placement {
        let kind = try kind.map { try Vocabulary.load(connection).require(.contractKind, $0) } ?? "service-agreement"
        try checkTerm(start: start, end: end)
        return try Database.mapped {
            try connection.transaction {
                let post = try Posts.find(connection, id, on: start, lock: true)
                try requireInForce(post, from: start)
                let holder = try connection.query("""
                    SELECT pe.name, pl.id_number, pl.start_on, pl.exit_on FROM placement pl
                    LEFT JOIN person pe ON pe.id_number = pl.id_number
                    WHERE pl.post_id = $1 AND (pl.exit_on IS NULL OR pl.exit_on >= $2::date) ORDER BY pl.start_on LIMIT 1
                    """, [id, start])
                if let holder = holder.first {
                    let exit: Day? = try holder.decodeIfPresent("exit_on"), from: Day = try holder.decode("start_on")
                    throw AppError(rule: .postNotOpen, Text(
                        en: "post \(id) is not vacant from \(start): \(holder["name"] ?? "") is in post from \(from)\(exit.map { " to \($0)" } ?? ""); exit them first or choose another post",
                        zh: "岗位 \(id) 自 \(start) 起不空缺：\(holder["name"] ?? "") 自 \(from) 起在岗\(exit.map { "至 \($0)" } ?? "")；请先办理退岗或另选岗位"))
                }
                let person = try Persons.find(connection, person, on: start)
                // One household's hires wait for each other: the cap is counted after the wait.
                try lockHousehold(connection, person)
                let elsewhere = try connection.query("""
                    SELECT post_id, start_on FROM placement
                    WHERE id_number = $1 AND (exit_on IS NULL OR exit_on >= $2::date) LIMIT 1
                    """, [person.idNumber, start])
                if let other = elsewhere.first {
                    let from: Day = try other.decode("start_on")
                    throw AppError(rule: .onePostPerPerson, Text(
                        en: "\(person.name) is in post \(other["post_id"] ?? "") from \(from): record their exit from it first",
                        zh: "\(person.name) 自 \(from) 起在岗位 \(other["post_id"] ?? "") 任职：请先办理该岗位的退岗"))
                }
                try Eligibility.check(connection, .init(id: try ResidentID(person.idNumber), postRegion: post.regionCode,
                                                        postType: post.postType, start: start, end: end, newPlacement: true))
                try Publicity.requireNotice(connection, postID: post.id, postRegion: post.regionCode, person: person.idNumber, start: start)
                let placement = try connection.query("""
                    INSERT INTO placement (county_code, post_id, id_number, start_on) VALUES ($1, $2, $3, $4::date) RETURNING id
                    """, [post.countyCode, id, person.idNumber, start])[0]
                let placementID: Int64 = try placement.decode("id")
                try connection.command("""
                    INSERT INTO contract (county_code, placement_id, kind, start_on, end_on) VALUES ($1, $2, $3, $4::date, $5::date)
                    """, [post.countyCode, placementID, kind, start, end])
                return try Placement.load(connection, id: placementID)
            }
        }
    }

    /// POST_NOT_OPEN for a placement from `start` with no exit yet: the post must be in force on
    /// the start (approved on or before it, not closed on it), and not close at all, since an
    /// open placement would outlast it.
    static func requireInForce(_ post: Post, from start: Day) throws {
        guard post.state == .approved else {
            if let approved = post.approvedOn, start < approved {
                throw AppError(rule: .postNotOpen, Text(
                    en: "post \(post.id) is in force from \(approved) (its approval date): nobody can be in post in it on \(start)",
                    zh: "岗位 \(post.id) 自 \(approved)（审批日期）起设立：\(start) 不能在该岗位上岗"))
            }
            if let closed = post.closedOn, start >= closed {
                throw AppError(rule: .postNotOpen, Text(
                    en: "post \(post.id) is closed from \(closed): nobody can be in post in it on \(start)",
                    zh: "岗位 \(post.id) 自 \(closed) 起已撤销：\(start) 不能在该岗位上岗"))
            }
            let state = post.state?.rawValue ?? "not yet proposed"
            throw AppError(rule: .postNotOpen, Text(
                en: "post \(post.id) is \(state) on \(start): only an approved post that is not closed can be filled",
                zh: "岗位 \(post.id) 在 \(start) 为“\(state)”：只有已审批且未撤销的岗位才能聘用"))
        }
        if let closed = post.closedOn {
            throw AppError(rule: .postNotOpen, Text(
                en: "post \(post.id) is closed from \(closed): a placement in it must end before then, and a hire has no exit yet",
                zh: "岗位 \(post.id) 自 \(closed) 起已撤销：在该岗位的聘用须在此前结束，而新聘用尚无退岗日期"))
        }
    }

    static func lockHousehold(_ connection: Connection, _ person: PersonFacts) throws {
        try connection.query("SELECT pg_advisory_xact_lock(hashtext('household/' || $1 || '/' || $2))",
                             [person.countyCode, person.householdID])
    }

    /// The next contract of the person's open placement. It starts by default the day after the
    /// last one ends; a later start leaves a gap, which is days without pay.
    public static func renew(_ connection: Connection, person: ResidentID, start: Day?, end: Day, kind: String?) throws -> Placement {
        let kind = try kind.map { try Vocabulary.load(connection).require(.contractKind, $0) } ?? "service-agreement"
        return try Database.mapped {
            try connection.transaction {
                let placement = try current(connection, person, open: true)
                let last = try connection.query("SELECT max(end_on) AS last FROM contract WHERE placement_id = $1", [placement.id])[0]
                let lastEnd: Day? = try last.decodeIfPresent("last")
                let start = start ?? lastEnd?.adding(days: 1) ?? placement.startOn
                try checkTerm(start: start, end: end)
                if let lastEnd, start <= lastEnd {
                    throw AppError(.rule, code: "CONTRACT_OVERLAP", Text(
                        en: "the current contract runs to \(lastEnd); a new one starts on \(lastEnd.adding(days: 1)) or later",
                        zh: "现合同至 \(lastEnd) 止；新合同应自 \(lastEnd.adding(days: 1)) 或之后开始"))
                }
                if let closed = placement.closedOn, start >= closed {
                    throw AppError(rule: .postNotOpen, Text(
                        en: "post \(placement.postID) is closed from \(closed): no contract can start on \(start)",
                        zh: "岗位 \(placement.postID) 自 \(closed) 起已撤销：不能签订自 \(start) 起的合同"))
                }
                try Eligibility.check(connection, .init(id: person, postRegion: placement.regionCode,
                                                        postType: placement.postType, start: start, end: end, newPlacement: false))
                try connection.command("""
                    INSERT INTO contract (county_code, placement_id, kind, start_on, end_on) VALUES ($1, $2, $3, $4::date, $5::date)
                    """, [placement.countyCode, placement.id, kind, start, end])
                return try Placement.load(connection, id: placement.id)
            }
        }
    }

    /// Closes the person's open placement; `day` is the last day in post and may be in the past
    /// (payroll then corrects what was paid for the days after it). Nobody is in post on or
    /// after the day of their death, so an exit is dated before a recorded death.
    public static func exit(_ connection: Connection, person: ResidentID, on day: Day, reason: String) throws -> Placement {
        let reason = try Vocabulary.load(connection).require(.exitReason, reason)
        return try Database.mapped {
            try connection.transaction {
                let placement = try current(connection, person, open: true)
                try checkExit(connection, placement, day)
                try connection.command("UPDATE placement SET exit_on = $2::date, exit_reason = $3 WHERE id = $1",
                                       [placement.id, day, reason])
                return try Placement.load(connection, id: placement.id)
            }
        }
    }

    /// `exit --correct`: changes the exit date or the reason of the person's latest placement, a
    /// mistake put right rather than hidden (the journal keeps both). The corrected placement is
    /// held to SPEC §5 as a new one would be: days added after the old exit must find the post
    /// in force and free, the person in no other post, and the household within its cap. Payroll
    /// adjusts approved months for it on its next run (§6).
    public static func correctExit(_ connection: Connection, person: ResidentID, on day: Day?, reason: String?) throws -> Placement {
        let reason = try reason.map { try Vocabulary.load(connection).require(.exitReason, $0) }
        guard day != nil || reason != nil else {
            throw AppError.badInput(Text(en: "--correct needs the corrected --on, the corrected --reason, or both",
                                         zh: "--correct 需给出更正后的 --on 或 --reason（或两者）"))
        }
        return try Database.mapped {
            try connection.transaction {
                let placement = try current(connection, person, open: false)
                guard let oldExit = placement.exitOn, let oldReason = placement.exitReason else {
                    throw AppError(.rule, code: "NOT_EXITED", Text(
                        en: "the placement of \(person.masked) in post \(placement.postID) from \(placement.startOn) has no exit to correct: record the exit with `exit` (without --correct)",
                        zh: "\(person.masked) 在岗位 \(placement.postID) 自 \(placement.startOn) 起的聘用尚未退岗，无可更正：请用 `exit`（不加 --correct）办理退岗"))
                }
                let newExit = day ?? oldExit
                try checkExit(connection, placement, newExit)
                if newExit > oldExit {
                    let facts = try Persons.find(connection, person, on: oldExit.adding(days: 1))
                    try lockHousehold(connection, facts)
                    if let closed = placement.closedOn, newExit >= closed {
                        throw AppError(rule: .postNotOpen, Text(
                            en: "post \(placement.postID) is closed from \(closed): the last day in post can be \(closed.adding(days: -1)) at the latest",
                            zh: "岗位 \(placement.postID) 自 \(closed) 起已撤销：最后在岗日最晚为 \(closed.adding(days: -1))"))
                    }
                    let row = try connection.query("""
                        SELECT household_in_post($1, $2::date, $3::date) AS others, e.household_cap
                        FROM eligibility_on($4, $2::date) e
                        """, [person.value, oldExit.adding(days: 1), newExit, placement.regionCode])[0]
                    let others: Int = try row.decode("others"), cap: Int = try row.decode("household_cap")
                    if others + 1 > cap {
                        throw AppError(rule: .householdCap, Text(
                            en: "\(others) member(s) of \(facts.name)'s household are in post between \(oldExit.adding(days: 1)) and \(newExit); the policy allows \(cap) per household, so the exit cannot move to \(newExit)",
                            zh: "\(facts.name) 的家庭在 \(oldExit.adding(days: 1)) 至 \(newExit) 期间已有 \(others) 人在岗；政策规定每户最多 \(cap) 人，退岗日期不能改为 \(newExit)"))
                    }
                }
                if newExit == oldExit && (reason ?? oldReason) == oldReason {
                    return try Placement.load(connection, id: placement.id)
                }
                try connection.command("UPDATE placement SET exit_on = $2::date, exit_reason = $3 WHERE id = $1",
                                       [placement.id, newExit, reason ?? oldReason])
                return try Placement.load(connection, id: placement.id)
            }
        }
    }

    /// What `hire --void` did: the placement as it was, and why it was cancelled.
    public struct Voided: Sendable {
        public let placement: Placement
        public let reason: String
    }

    /// `hire --void`: cancels the person's latest placement, typed in by mistake: its contracts
    /// and assessments go with it, and a record of what was cancelled, by whom and why stays
    /// (`placement_void`), beside the journal's entries of every row removed. Removing a
    /// placement breaks no rule of SPEC §5; payroll takes back what approved months paid for
    /// it as adjustment lines on its next run (§6). Done by `placement_void()`, which checks the
    /// caller's role and region: administrators get no DELETE on placements otherwise.
    public static func void(_ connection: Connection, person: ResidentID, reason: String) throws -> Voided {
        guard !reason.trimmingWhitespace().isEmpty else {
            throw AppError.badInput(Text(en: "--reason must say why the placement is cancelled", zh: "--reason 需说明撤销聘用的原因"))
        }
        return try Database.mapped {
            try connection.transaction {
                let placement = try Placement.load(connection, id: try current(connection, person, open: false).id)
                try connection.query("SELECT placement_void($1, $2)", [placement.id, reason.trimmingWhitespace()])
                return Voided(placement: placement, reason: reason.trimmingWhitespace())
            }
        }
    }

    /// An exit on `day`: not before the start, and before any recorded death.
    static func checkExit(_ connection: Connection, _ placement: Current, _ day: Day) throws {
        if day < placement.startOn {
            throw AppError(.rule, code: "EXIT_BEFORE_START", Text(
                en: "the placement in post \(placement.postID) starts on \(placement.startOn); an exit cannot be dated before that",
                zh: "岗位 \(placement.postID) 的聘用自 \(placement.startOn) 开始；退岗日期不能早于此日"))
        }
        if let died = placement.diedOn, day >= died, died <= placement.startOn {
            throw AppError(.rule, code: "EXIT_AFTER_DEATH", Text(
                en: "the person died on \(died), before this placement in post \(placement.postID) began on \(placement.startOn): it cannot have been; cancel it with `hire --void`",
                zh: "该人员于 \(died) 死亡，早于岗位 \(placement.postID) 的聘用开始日 \(placement.startOn)：该聘用不可能成立，请用 `hire --void` 撤销"))
        }
        if let died = placement.diedOn, day >= died {
            throw AppError(.rule, code: "EXIT_AFTER_DEATH", Text(
                en: "the person died on \(died): the last day in post is \(died.adding(days: -1)) at the latest; record the exit on \(died.adding(days: -1)) with reason deceased",
                zh: "该人员于 \(died) 死亡：最后在岗日最晚为 \(died.adding(days: -1))；请以 \(died.adding(days: -1)) 为退岗日期、以“死亡”为原因办理退岗"))
        }
    }

    /// The person's placement a command works on, with what the checks need of its post,
    /// locked: the open one (`open`), else the latest. Refused when there is none.
    struct Current {
        let id: Int64
        let countyCode: String
        let postID: String
        let startOn: Day
        let exitOn: Day?
        let exitReason: String?
        let regionCode: String
        let postType: String
        let closedOn: Day?
        let diedOn: Day?
    }

    static func current(_ connection: Connection, _ person: ResidentID, open: Bool) throws -> Current {
        let rows = try connection.query("""
            SELECT pl.id, pl.county_code, pl.post_id, pl.start_on, pl.exit_on, pl.exit_reason, p.region_code, p.post_type, p.closed_on,
                   (SELECT min(s.valid_from) FROM person_status s WHERE s.id_number = pl.id_number AND s.status = 'deceased') AS died_on
            FROM placement pl JOIN post p ON p.id = pl.post_id
            WHERE pl.id_number = $1 AND (NOT $2 OR pl.exit_on IS NULL) ORDER BY pl.start_on DESC LIMIT 1 FOR UPDATE OF pl
            """, [person.value, open])
        guard let row = rows.first else {
            _ = try Persons.find(connection, person)
            throw AppError(.rule, code: "NOT_IN_POST", Text(
                en: open ? "\(person.masked) has no open placement: hire them into a post first"
                         : "\(person.masked) has never been placed in a post: there is nothing to correct",
                zh: open ? "\(person.masked) 当前没有在岗聘用记录：请先办理聘用" : "\(person.masked) 没有任何聘用记录：无可更正"))
        }
        return Current(id: try row.decode("id"), countyCode: try row.decode("county_code"), postID: try row.decode("post_id"),
                       startOn: try row.decode("start_on"), exitOn: try row.decodeIfPresent("exit_on"),
                       exitReason: try row.decodeIfPresent("exit_reason"), regionCode: try row.decode("region_code"),
                       postType: try row.decode("post_type"), closedOn: try row.decodeIfPresent("closed_on"),
                       diedOn: try row.decodeIfPresent("died_on"))
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
