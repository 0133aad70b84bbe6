import Postgres

/// NOT_PUBLICISED (SPEC §13, 公开招聘、公示5天无异议后聘用): where the policy in force on the
/// start date asks for notice days, a hire follows a notice (公示) of that person for that post
/// that lasted those days, ended before the start, and has no upheld and no unresolved
/// objection; of several, the latest published before the start decides. Where it asks for none (0, the default), a hire is refused only when notices of
/// that person for that post were published and none of them clears: a county that publicises
/// of its own accord is held to its notices.
///
/// Called by `hire` with the post row locked: objections are recorded under the same lock, so
/// none can slip in between this check and the hire.
enum Publicity {
    static func requireNotice(_ connection: Connection, postID: String, postRegion: String, person id: String, start: Day) throws {
        let required = Int(try connection.query("SELECT notice_days_on($1, $2::date) AS days",
                                                [postRegion, start.iso])[0]["days"] ?? "") ?? 0
        let notices = try connection.query("""
            SELECT n.id, n.from_on::text, n.to_on::text, n.days,
                   min(o.id) FILTER (WHERE o.finding = 'upheld') AS upheld, min(o.resolved_on::text) FILTER (WHERE o.finding = 'upheld') AS upheld_on,
                   min(o.id) FILTER (WHERE o.finding IS NULL) AS unresolved
            FROM notice n LEFT JOIN notice_objection o ON o.notice_id = n.id
            WHERE n.post_id = $1 AND n.id_number = $2
            GROUP BY n.id ORDER BY n.from_on DESC, n.id DESC
            """, [postID, id])
        func clears(_ notice: Row) -> Bool {
            guard let to = notice["to_on"].flatMap(Day.init(iso:)), let days = Int(notice["days"] ?? "") else { return false }
            return to < start && days >= required && notice["upheld"] == nil && notice["unresolved"] == nil
        }
        // The latest notice published before the start decides (a newer finding overrides an older
        // clean notice); failing that, the latest of all, to say what is missing.
        let deciding = notices.first { ($0["from_on"].flatMap(Day.init(iso:)) ?? start) < start } ?? notices.first
        if deciding.map(clears) ?? (required == 0) { return }
        let name = try connection.query("SELECT name FROM person WHERE id_number = $1", [id]).first?["name"] ?? ""
        let who = "\(name) (\((try? ResidentID(id))?.masked ?? id))"
        let rule = Text(en: required > 0 ? "the policy in force on \(start) requires \(required) days' public notice (公示) ending before the start, with no objection upheld or unresolved"
                                         : "a notice was published for this hire and it must clear first",
                        zh: required > 0 ? "\(start) 执行的政策要求聘用前公示 \(required) 天，公示须在上岗日前结束且无成立或未处理的异议"
                                         : "该聘用已进行公示，须公示无异议后方可聘用")
        guard let latest = deciding, let to = latest["to_on"].flatMap(Day.init(iso:)) else {
            throw AppError(rule: .notPublicised, Text(
                en: "\(who) has not been publicised for post \(postID): \(rule.en). Publish a notice with `notice publish --post \(postID) --person ID --from DATE` and hire from the day after it ends",
                zh: "\(who) 未就岗位 \(postID) 进行公示：\(rule.zh)。请先用 `notice publish --post \(postID) --person 身份证号 --from 日期` 发布公示，公示结束次日起方可聘用"))
        }
        let number = latest["id"] ?? ""
        let reason: Text
        if let objection = latest["upheld"] {
            reason = Text(en: "objection \(objection) to notice \(number) was upheld on \(latest["upheld_on"] ?? ""): \(name) cannot be hired on that notice",
                          zh: "对公示 \(number) 的异议 \(objection) 已于 \(latest["upheld_on"] ?? "") 认定成立：不能据此公示聘用 \(name)")
        } else if let objection = latest["unresolved"] {
            reason = Text(en: "objection \(objection) to notice \(number) is not resolved: settle it with `notice resolve \(number) --upheld|--dismissed --note TEXT` first",
                          zh: "对公示 \(number) 的异议 \(objection) 尚未处理：请先用 `notice resolve \(number) --upheld|--dismissed --note 说明` 作出处理")
        } else if to >= start {
            reason = Text(en: "notice \(number) runs from \(latest["from_on"] ?? "") to \(to): the hire can start on \(to.adding(days: 1)) at the earliest",
                          zh: "公示 \(number) 期间为 \(latest["from_on"] ?? "") 至 \(to)：最早可于 \(to.adding(days: 1)) 上岗")
        } else {
            reason = Text(en: "notice \(number) ran \(latest["days"] ?? "") days, fewer than the \(required) required: publish a new notice",
                          zh: "公示 \(number) 仅 \(latest["days"] ?? "") 天，少于规定的 \(required) 天：请重新公示")
        }
        throw AppError(rule: .notPublicised, Text(en: "\(who) cannot be hired into \(postID) from \(start): \(reason.en) (\(rule.en))",
                                                  zh: "\(who) 不能自 \(start) 起聘用到岗位 \(postID)：\(reason.zh)（\(rule.zh)）"))
    }
}
