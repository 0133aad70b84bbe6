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

    /// The person's row (with labels resolved by the caller), or NOT_FOUND.
    public static func find(_ connection: Connection, _ id: ResidentID) throws -> Row {
        let rows = try Database.mapped {
            try connection.query("""
                SELECT p.id_number, p.name, p.household_id, p.village_code, v.name AS village,
                       t.name AS township, p.county_code, p.category, p.labour_capacity, p.bank_account, p.phone,
                       resident_birth_date(p.id_number)::text AS birth_date
                FROM person p JOIN region v ON v.code = p.village_code
                LEFT JOIN region t ON t.code = v.parent_code
                WHERE p.id_number = $1
                """, [id.value])
        }
        guard let row = rows.first else {
            // Row-level security hides persons of other regions: say so rather than "not registered".
            if try Database.mapped({ try connection.query("SELECT person_exists($1) AS e", [id.value])[0]["e"] }) == "t" {
                throw Access.outsideRegion(Text(en: "the person \(id.masked)", zh: "人员 \(id.masked) "))
            }
            throw notRegistered(id)
        }
        return row
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
    public static func statuses(_ connection: Connection, id: String) throws -> [Row] {
        try Database.mapped {
            try connection.query("""
                SELECT status, valid_from::text, valid_to::text FROM person_status
                WHERE id_number = $1 ORDER BY valid_from, status
                """, [id])
        }
    }

    /// The person's placements, oldest first, each with its contracts as `kind start…end; …`.
    public static func placements(_ connection: Connection, id: String) throws -> [Row] {
        try Database.mapped {
            try connection.query("""
                SELECT pl.post_id, r.name AS region_name, pl.start_on::text, pl.exit_on::text, pl.exit_reason,
                       (SELECT string_agg(c.kind || ' ' || c.start_on || '…' || c.end_on, '; ' ORDER BY c.start_on)
                        FROM contract c WHERE c.placement_id = pl.id) AS contracts
                FROM placement pl JOIN post p ON p.id = pl.post_id JOIN region r ON r.code = p.region_code
                WHERE pl.id_number = $1 ORDER BY pl.start_on
                """, [id])
        }
    }

    /// Other members of the person's household, by household ID within the county.
    public static func household(_ connection: Connection, of person: Row) throws -> [Row] {
        try Database.mapped {
            try connection.query("""
                SELECT id_number, name FROM person
                WHERE county_code = $1 AND household_id = $2 AND id_number <> $3 ORDER BY id_number
                """, [person["county_code"], person["household_id"], person["id_number"]])
        }
    }

    /// Records a status period (`person status ID --set S --from D [--to D]`). The same status
    /// with the same from-date is replaced (to close a period, give its --to); an overlap with
    /// another period of the same status is refused.
    public static func setStatus(_ connection: Connection, id: ResidentID, status text: String, from: Day, to: Day?) throws -> Row {
        let status = try Vocabulary.load(connection).require(.personStatus, text)
        if let to, to < from {
            throw AppError.toBeforeFrom(from, to)
        }
        let person = try find(connection, id)
        return try Database.mapped {
            try connection.transaction {
                try connection.command("DELETE FROM person_status WHERE id_number = $1 AND status = $2 AND valid_from = $3::date",
                                       [person["id_number"], status, from.iso])
                do {
                    return try connection.query("""
                        INSERT INTO person_status (county_code, id_number, status, valid_from, valid_to)
                        VALUES ($1, $2, $3, $4::date, $5::date)
                        RETURNING status, valid_from::text, valid_to::text
                        """, [person["county_code"], person["id_number"], status, from.iso, to?.iso])[0]
                } catch let error as PostgresError where error.constraintName == "status_no_overlap" {
                    throw AppError.badInput(Text(
                        en: "this person already has a '\(status)' period overlapping \(from)…\(to?.iso ?? ""): close or correct that period (same --from) instead",
                        zh: "该人员已有与 \(from)…\(to?.iso ?? "") 重叠的“\(status)”记录：请以相同的 --from 修改原记录"), code: "STATUS_OVERLAP")
                }
            }
        }
    }
}
