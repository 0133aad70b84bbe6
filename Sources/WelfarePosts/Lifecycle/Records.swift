import Postgres

/// Days travel to and from PostgreSQL as ISO text (`date` prints so under DateStyle ISO).
extension Day: PostgresEncodable, PostgresDecodable {
    public var postgresText: String? { iso }
    public init?(postgresText: String) { self.init(iso: postgresText) }
}

/// A post's state (SPEC §5): proposed → approved → closed, or proposed → rejected.
public enum PostState: String, Sendable, CaseIterable {
    case proposed, approved, rejected, closed
}

/// A post (岗位), as read from the database: every field of a post in one place.
public struct Post: Sendable {
    public let id: String
    public let countyCode: String
    public let regionCode: String
    public let regionName: String
    public let postType: String
    public let fundingChannel: String
    public let developer: String
    public let need: String
    /// The last transition recorded, whatever its date.
    public let lastTransition: PostState
    /// The state on `day`, from the dates (`post_state_on`); nil before the post was proposed.
    public let state: PostState?
    /// The day `state` is for.
    public let day: Day
    public let proposedOn: Day
    public let approvedOn: Day?
    public let rejectedOn: Day?
    public let rejectReason: String?
    /// The first day the post no longer exists.
    public let closedOn: Day?
    public let closeReason: String?

    /// The columns `init(row:)` reads, for a query on `post p JOIN region r` with the day as `dayParameter`.
    static func columns(day dayParameter: String) -> String {
        """
        p.id, p.county_code, p.region_code, r.name AS region_name, p.post_type, p.funding_channel, p.developer, p.need,
        p.state, post_state_on(p.proposed_on, p.approved_on, p.rejected_on, p.closed_on, \(dayParameter)) AS state_on,
        \(dayParameter)::text AS state_day, p.proposed_on, p.approved_on, p.rejected_on, p.reject_reason, p.closed_on, p.close_reason
        """
    }

    init(row: Row) throws {
        id = try row.decode("id")
        countyCode = try row.decode("county_code")
        regionCode = try row.decode("region_code")
        regionName = try row.decode("region_name")
        postType = try row.decode("post_type")
        fundingChannel = try row.decode("funding_channel")
        developer = try row.decode("developer")
        need = try row.decode("need")
        lastTransition = try row.decode("state", as: String.self).postState()
        state = try row.decodeIfPresent("state_on", as: String.self).map { try $0.postState() }
        day = try row.decode("state_day")
        proposedOn = try row.decode("proposed_on")
        approvedOn = try row.decodeIfPresent("approved_on")
        rejectedOn = try row.decodeIfPresent("rejected_on")
        rejectReason = try row.decodeIfPresent("reject_reason")
        closedOn = try row.decodeIfPresent("closed_on")
        closeReason = try row.decodeIfPresent("close_reason")
    }
}

/// A post as a listing shows it: with its holder on the listing's day.
public struct PostListing: Sendable {
    public let post: Post
    public let holderID: String?
    public let holderName: String?
}

/// A placement (聘任): a person in a post from a start date until an exit date (open while
/// none), with its latest contract.
public struct Placement: Sendable {
    public let id: Int64
    public let countyCode: String
    public let postID: String
    public let idNumber: String
    public let name: String?
    public let startOn: Day
    /// The last day in post; nil while open.
    public let exitOn: Day?
    public let exitReason: String?
    public let contractKind: String?
    public let contractStart: Day?
    public let contractEnd: Day?

    /// The query `init(row:)` reads, for placement `$1`.
    static let query = """
        SELECT pl.id, pl.county_code, pl.post_id, pl.id_number, pe.name, pl.start_on, pl.exit_on, pl.exit_reason,
               c.kind AS contract_kind, c.start_on AS contract_start, c.end_on AS contract_end
        FROM placement pl LEFT JOIN person pe ON pe.id_number = pl.id_number
        LEFT JOIN LATERAL (SELECT * FROM contract c WHERE c.placement_id = pl.id ORDER BY c.start_on DESC LIMIT 1) c ON true
        WHERE pl.id = $1
        """

    init(row: Row) throws {
        id = try row.decode("id")
        countyCode = try row.decode("county_code")
        postID = try row.decode("post_id")
        idNumber = try row.decode("id_number")
        name = try row.decodeIfPresent("name")
        startOn = try row.decode("start_on")
        exitOn = try row.decodeIfPresent("exit_on")
        exitReason = try row.decodeIfPresent("exit_reason")
        contractKind = try row.decodeIfPresent("contract_kind")
        contractStart = try row.decodeIfPresent("contract_start")
        contractEnd = try row.decodeIfPresent("contract_end")
    }

    static func load(_ connection: Connection, id: Int64) throws -> Placement {
        try Placement(row: try connection.query(query, [id])[0])
    }
}

/// A placement as a post's history shows it: who held the post, when, and to when the last
/// contract ran.
public struct Holding: Sendable {
    public let idNumber: String
    public let name: String?
    public let startOn: Day
    public let exitOn: Day?
    public let exitReason: String?
    public let contractEnd: Day?

    init(row: Row) throws {
        idNumber = try row.decode("id_number")
        name = try row.decodeIfPresent("name")
        startOn = try row.decode("start_on")
        exitOn = try row.decodeIfPresent("exit_on")
        exitReason = try row.decodeIfPresent("exit_reason")
        contractEnd = try row.decodeIfPresent("contract_end")
    }
}

extension String {
    func postState() throws -> PostState {
        guard let state = PostState(rawValue: self) else {
            throw PostgresError(kind: .decoding, message: "unknown post state \(self)")
        }
        return state
    }
}
