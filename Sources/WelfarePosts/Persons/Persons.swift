import Postgres

/// Persons and the facts recorded about them.
public enum Persons {
    /// A resident ID from the command line, checked as SPEC §3 says.
    public static func parseID(_ text: String, today: Day = .today()) throws -> ResidentID {
        do {
            return try ResidentID(text.trimmingWhitespace(), today: today)
        } catch {
            throw AppError.badInput(error.explanation(text), code: "BAD_ID")
        }
    }

    /// The person as on a day (default today): their facts in force that day (SPEC §5, facts
    /// with history), or NOT_FOUND.
    public static func find(_ connection: Connection, _ id: ResidentID, on day: Day = .today()) throws -> PersonFacts {
        let rows = try Database.mapped {
            try connection.query("""
                SELECT p.id_number, p.name, p.phone, resident_birth_date(p.id_number) AS birth_date, f.county_code,
                       f.household_id, f.village_code, v.name AS village, t.name AS township, f.category, f.labour_capacity,
                       f.bank_account, f.facts_from, $2::date AS day, p.facts_from AS latest_from,
                       p.county_code AS registered_county
                FROM person p CROSS JOIN LATERAL person_facts_on(p.id_number, $2::date) f
                JOIN region v ON v.code = f.village_code
                LEFT JOIN region t ON t.code = v.parent_code
                WHERE p.id_number = $1
                """, [id.value, day])
        }
        guard let row = rows.first else {
            // Row-level security hides persons of other regions: say so rather than "not registered".
            if try Database.mapped({ try connection.query("SELECT person_exists($1) AS e", [id.value])[0]["e"] }) == "t" {
                throw Access.outsideRegion(Text(en: "the person \(id.masked)", zh: "人员 \(id.masked) "))
            }
            throw notRegistered(id)
        }
        return try Database.mapped { try PersonFacts(row: row) }
    }

    /// `person list` (SPEC §16): finds persons without their resident ID. Every filter is
    /// optional and they combine: a part of the name (`--name`), a village or any region above
    /// it (`--village`), a household ID (`--household`), and only those in post on the day
    /// (`--in-post`). Each row carries the post of the placement open on the day (`--on`,
    /// default today) and whether the person is in post then as SPEC §5 says: the placement
    /// open, a contract covering the day, and no death recorded on or before it. Row-level
    /// security keeps an operator to the persons of its region.
    public static func list(_ connection: Connection, name: String?, village: String?, household: String?,
                            inPostOnly: Bool, on day: Day) throws -> [Row] {
        let name = name?.trimmingWhitespace(), household = household?.trimmingWhitespace()
        let prefix = try Regions.prefix(connection, village)
        if let scope = try Database.mapped({ try connection.query("SELECT operator_scope() AS s")[0]["s"] }),
           !prefix.hasPrefix(scope), !scope.hasPrefix(prefix) {
            throw Access.outsideRegion(Text(en: "region \(village ?? prefix)", zh: "区划 \(village ?? prefix) "))
        }
        return try Database.mapped {
            try connection.query("""
                SELECT p.id_number, p.name, resident_birth_date(p.id_number)::text AS birth_date, p.household_id,
                       p.village_code, v.name AS village, t.name AS township, p.category, p.labour_capacity,
                       h.post_id, coalesce(h.in_post, false) AS in_post
                FROM person p
                JOIN region v ON v.code = p.village_code
                LEFT JOIN region t ON t.code = v.parent_code
                LEFT JOIN LATERAL (
                  SELECT pl.post_id,
                         EXISTS (SELECT 1 FROM contract c WHERE c.placement_id = pl.id AND c.start_on <= $5::date AND c.end_on >= $5::date)
                         AND NOT EXISTS (SELECT 1 FROM person_status s WHERE s.id_number = p.id_number AND s.status = 'deceased'
                                         AND s.valid_from <= $5::date) AS in_post
                  FROM placement pl
                  WHERE pl.id_number = p.id_number AND pl.start_on <= $5::date AND (pl.exit_on IS NULL OR pl.exit_on >= $5::date)
                  ORDER BY pl.start_on DESC LIMIT 1) h ON true
                WHERE p.village_code LIKE $2 || '%'
                  AND ($1::text IS NULL OR strpos(lower(p.name), lower($1)) > 0)
                  AND ($3::text IS NULL OR p.household_id = $3)
                  AND (NOT $4::boolean OR coalesce(h.in_post, false))
                ORDER BY p.village_code, p.household_id, p.id_number
                """, [name.flatMap { $0.isEmpty ? nil : $0 }, prefix, household.flatMap { $0.isEmpty ? nil : $0 },
                      inPostOnly ? "true" : "false", day.iso])
        }
    }

    static func notRegistered(_ id: ResidentID) -> AppError {
        AppError.notFound(Text(en: "no person with resident ID \(id.masked) is registered: import them with `person import`",
                               zh: "未登记身份证号为 \(id.masked) 的人员：请先用 `person import` 导入"))
    }

    /// Status periods of a person, oldest first.
    public static func statuses(_ connection: Connection, id: String) throws -> [StatusPeriod] {
        try Database.mapped {
            try connection.query("""
                SELECT status, valid_from, valid_to FROM person_status
                WHERE id_number = $1 ORDER BY valid_from, status
                """, [id]).map(StatusPeriod.init(row:))
        }
    }

    /// The person's placements, oldest first, each with its contracts as `kind start…end; …`.
    public static func placements(_ connection: Connection, id: String) throws -> [PersonPlacement] {
        try Database.mapped {
            try connection.query("""
                SELECT pl.post_id, r.name AS region_name, pl.start_on, pl.exit_on, pl.exit_reason,
                       (SELECT string_agg(c.kind || ' ' || c.start_on || '…' || c.end_on, '; ' ORDER BY c.start_on)
                        FROM contract c WHERE c.placement_id = pl.id) AS contracts
                FROM placement pl JOIN post p ON p.id = pl.post_id JOIN region r ON r.code = p.region_code
                WHERE pl.id_number = $1 ORDER BY pl.start_on
                """, [id]).map(PersonPlacement.init(row:))
        }
    }

    /// Other members of the person's household on the person's day, by household ID within the
    /// county (households as they were that day).
    public static func household(_ connection: Connection, of person: PersonFacts) throws -> [HouseholdMember] {
        try Database.mapped {
            try connection.query("""
                SELECT v.id_number, p.name FROM person_version v JOIN person p ON p.id_number = v.id_number
                WHERE v.county_code = $1 AND v.household_id = $2 AND v.id_number <> $3 AND v.valid @> $4::date ORDER BY v.id_number
                """, [person.countyCode, person.householdID, person.idNumber, person.day]).map(HouseholdMember.init(row:))
        }
    }

    /// Every version of the person's facts, oldest first, each with the days it held.
    public static func history(_ connection: Connection, id: String) throws -> [FactsVersion] {
        try Database.mapped {
            try connection.query("""
                SELECT lower(valid) AS valid_from, upper(valid) - 1 AS valid_to, household_id, village_code,
                       category, labour_capacity, bank_account
                FROM person_version WHERE id_number = $1 ORDER BY lower(valid) NULLS FIRST
                """, [id]).map(FactsVersion.init(row:))
        }
    }

    /// Records a status period (`person status ID --set S --from D [--to D]`). The same status
    /// with the same from-date is replaced (to close a period, give its --to); an overlap with
    /// another period of the same status is refused.
    public static func setStatus(_ connection: Connection, id: ResidentID, status text: String, from: Day, to: Day?) throws -> StatusPeriod {
        let status = try Vocabulary.load(connection).require(.personStatus, text)
        if let to, to < from {
            throw AppError.toBeforeFrom(from, to)
        }
        let person = try find(connection, id)
        return try Database.mapped {
            try connection.transaction {
                try connection.command("DELETE FROM person_status WHERE id_number = $1 AND status = $2 AND valid_from = $3::date",
                                       [person.idNumber, status, from.iso])
                do {
                    return try connection.query("""
                        INSERT INTO person_status (county_code, id_number, status, valid_from, valid_to)
                        VALUES ($1, $2, $3, $4::date, $5::date)
                        RETURNING status, valid_from, valid_to
                        """, [person.registeredCounty, person.idNumber, status, from.iso, to?.iso]).map(StatusPeriod.init(row:))[0]
                } catch let error as PostgresError where error.constraintName == "status_no_overlap" {
                    throw AppError.badInput(Text(
                        en: "this person already has a '\(status)' period overlapping \(from)…\(to?.iso ?? ""): close or correct that period (same --from) instead",
                        zh: "该人员已有与 \(from)…\(to?.iso ?? "") 重叠的“\(status)”记录：请以相同的 --from 修改原记录"), code: "STATUS_OVERLAP")
                }
            }
        }
    }
}

/// A person as on a day: who they are, and their facts in force that day.
public struct PersonFacts: Sendable {
    public let idNumber: String
    public let name: String
    public let phone: String?
    public let birthDate: Day
    /// The county of the village they lived in that day.
    public let countyCode: String
    public let householdID: String
    public let villageCode: String
    public let villageName: String
    public let townshipName: String?
    public let category: String
    public let labourCapacity: String
    public let bankAccount: String?
    /// The first day these facts held (nil: from the start).
    public let factsFrom: Day?
    /// The day the facts are for.
    public let day: Day
    /// The first day of the latest facts recorded (nil: from the start), which may be after `day`.
    public let latestFrom: Day?
    /// The county the person is registered in now (their latest village's).
    public let registeredCounty: String

    init(row: Row) throws {
        idNumber = try row.decode("id_number")
        name = try row.decode("name")
        phone = try row.decodeIfPresent("phone")
        birthDate = try row.decode("birth_date")
        countyCode = try row.decode("county_code")
        householdID = try row.decode("household_id")
        villageCode = try row.decode("village_code")
        villageName = try row.decode("village")
        townshipName = try row.decodeIfPresent("township")
        category = try row.decode("category")
        labourCapacity = try row.decode("labour_capacity")
        bankAccount = try row.decodeIfPresent("bank_account")
        factsFrom = try row.decodeIfPresent("facts_from")
        day = try row.decode("day")
        latestFrom = try row.decodeIfPresent("latest_from")
        registeredCounty = try row.decode("registered_county")
    }

}

/// A status period of a person (deceased, village cadre, …): from a day, to a day or open.
public struct StatusPeriod: Sendable {
    public let status: String
    public let from: Day
    public let to: Day?

    init(row: Row) throws {
        status = try row.decode("status")
        from = try row.decode("valid_from")
        to = try row.decodeIfPresent("valid_to")
    }
}

/// One of a person's placements, as `person show` lists them.
public struct PersonPlacement: Sendable {
    public let postID: String
    public let regionName: String
    public let startOn: Day
    public let exitOn: Day?
    public let exitReason: String?
    /// The contracts as `kind start…end; …`.
    public let contracts: String?

    init(row: Row) throws {
        postID = try row.decode("post_id")
        regionName = try row.decode("region_name")
        startOn = try row.decode("start_on")
        exitOn = try row.decodeIfPresent("exit_on")
        exitReason = try row.decodeIfPresent("exit_reason")
        contracts = try row.decodeIfPresent("contracts")
    }
}

/// Another member of a person's household.
public struct HouseholdMember: Sendable {
    public let idNumber: String
    public let name: String

    init(row: Row) throws {
        idNumber = try row.decode("id_number")
        name = try row.decode("name")
    }
}

/// One version of a person's facts and the days it held (`from` nil: from the start; `to` nil:
/// still in force).
public struct FactsVersion: Sendable {
    public let from: Day?
    public let to: Day?
    public let householdID: String
    public let villageCode: String
    public let category: String
    public let labourCapacity: String
    public let bankAccount: String?

    init(row: Row) throws {
        from = try row.decodeIfPresent("valid_from")
        to = try row.decodeIfPresent("valid_to")
        householdID = try row.decode("household_id")
        villageCode = try row.decode("village_code")
        category = try row.decode("category")
        labourCapacity = try row.decode("labour_capacity")
        bankAccount = try row.decodeIfPresent("bank_account")
    }
}
