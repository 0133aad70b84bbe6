import Postgres

/// The demo county recruits openly (SPEC §13): everyone applies in December, the applicants of
/// each post are ranked, the intended holders are publicised for the county's five days, one
/// objection is dismissed and one upheld (that post stays vacant).
enum DemoSelection {
    static func walk(_ connection: Connection, posts: [String], intended: [String], spare: String?) throws -> [DemoLifecycle.Step] {
        var steps: [DemoLifecycle.Step] = []
        func note(_ action: Text, _ outcome: Text) { steps.append(DemoLifecycle.Step(action: action, outcome: outcome, refusal: nil)) }
        let day = { (text: String) in Day(iso: text)! }
        let name = { (id: String) in try connection.query("SELECT name FROM person WHERE id_number = $1", [id])[0]["name"] ?? "" }
        // People the policy does not admit apply too (category `other`, or no capacity to work).
        let others = try connection.query("""
            SELECT id_number FROM person WHERE county_code = '320321' AND (category = 'other' OR labour_capacity = 'none')
            ORDER BY id_number
            """).compactMap { $0["id_number"] }
        var csv = "岗位编号,身份证号,报名日期\n"
        for (index, person) in intended.enumerated() {
            csv += "\(posts[index]),\(person),2025-12-16\n"
            if !others.isEmpty { csv += "\(posts[index]),\(others[index % others.count]),2025-12-17\n" }
        }
        if let spare { csv += "\(posts[intended.count]),\(spare),2025-12-16\n" }
        let applications = try Applications.importFile(connection, file: try CSVFile(data: Array(csv.utf8)), dryRun: false,
                                                       today: day("2025-12-18"))
        note(Text(en: "take applications for \(posts.count) posts (报名)", zh: "\(posts.count) 个岗位接受报名"),
             Text(en: "\(applications.inserted) applications, 2025-12-16 to 2025-12-17", zh: "报名 \(applications.inserted) 人次（2025-12-16 至 2025-12-17）"))
        let ranked = try Applications.ranked(connection, post: posts[0], on: day("2026-01-01"))
        note(Text(en: "rank the applicants of \(posts[0]) by the policy's priority", zh: "按政策优先顺序对 \(posts[0]) 的报名人员排序"),
             Text(en: ranked.map { "\($0["rank"] ?? ""). \($0["name"] ?? "") (\($0["category"] ?? ""), \($0["labour_capacity"] ?? ""))"
                      + (($0["breaks"] ?? "").isEmpty ? "" : " would break \($0["breaks"]!)") }.joined(separator: "; "),
                  zh: ranked.map { "\($0["rank"] ?? ""). \($0["name"] ?? "")" + (($0["breaks"] ?? "").isEmpty ? "" : "（不符合 \($0["breaks"]!)）") }
                      .joined(separator: "；")))
        for (index, person) in intended.enumerated() {
            _ = try Notices.publish(connection, post: posts[index], person: try ResidentID(person), from: day("2025-12-20"), days: nil,
                                    contact: "丰县人力资源和社会保障局 0516-89210000")
        }
        note(Text(en: "publicise the \(intended.count) intended holders (公示)", zh: "公示 \(intended.count) 名拟聘人员"),
             Text(en: "five days, 2025-12-20 to 2025-12-24; `notice print` writes each village's sheet",
                  zh: "公示5天（2025-12-20 至 2025-12-24）；`notice print` 生成各村张贴的公示表"))
        if intended.count > 2 {
            let notice = try connection.query("SELECT id FROM notice WHERE post_id = $1", [posts[2]])[0]["id"] ?? ""
            _ = try Notices.object(connection, notice: notice, reason: "反映其家庭有稳定收入", on: day("2025-12-21"))
            _ = try Notices.resolve(connection, notice: notice, upheld: false, note: "经村委会核实，家庭收入低于监测标准，异议不成立",
                                    objection: nil, on: day("2025-12-23"))
            note(Text(en: "an objection to notice \(notice) (\(try name(intended[2])))", zh: "对公示 \(notice)（\(try name(intended[2]))）的异议"),
                 Text(en: "dismissed on 2025-12-23 after the village checked the household's income", zh: "经村委会核实，2025-12-23 认定异议不成立"))
        }
        if let spare {
            let notice = try Notices.publish(connection, post: posts[intended.count], person: try ResidentID(spare), from: day("2025-12-20"),
                                             days: nil, contact: "丰县人力资源和社会保障局 0516-89210000")["id"] ?? ""
            _ = try Notices.object(connection, notice: notice, reason: "长期在外务工，不在本村居住", on: day("2025-12-22"))
            _ = try Notices.resolve(connection, notice: notice, upheld: true, note: "经核实属实，不予聘用", objection: nil, on: day("2025-12-24"))
            note(Text(en: "an objection to notice \(notice) (\(try name(spare)) for \(posts[intended.count]))",
                      zh: "对公示 \(notice)（\(try name(spare))，\(posts[intended.count])）的异议"),
                 Text(en: "upheld on 2025-12-24: they work away from the village; the post stays vacant",
                      zh: "2025-12-24 认定异议成立：长期在外务工；该岗位暂时空缺"))
        }
        return steps
    }
}
