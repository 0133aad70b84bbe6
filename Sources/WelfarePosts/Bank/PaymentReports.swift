import Postgres

/// What a county shows of its payments: the village's payment notice (公开公示) and how
/// promptly it pays (按时足额).
public enum PaymentReports {
    /// `payroll timeliness`: per county and month of an approved payroll, the person-posts it
    /// pays (a net above zero), how many were paid and paid in full, the days from the month's
    /// end to the payment that completed them, and the share paid in full within 30 days.
    public static func timeliness(_ connection: Connection, region: String?, from: Month?, to: Month?) throws -> [Row] {
        let counties = try Payroll.counties(connection, region: region)
        return try Database.mapped {
            try connection.query("""
                WITH nets AS (
                  SELECT l.county_code, l.month, l.id_number, l.post_id, sum(l.total_fen) AS net
                  FROM payroll_line l
                  JOIN payroll_run r ON r.county_code = l.county_code AND r.month = l.month AND r.state = 'approved'
                  WHERE l.county_code = ANY ($1::text[]) AND ($2::date IS NULL OR l.month >= $2::date) AND ($3::date IS NULL OR l.month <= $3::date)
                  GROUP BY 1, 2, 3, 4 HAVING sum(l.total_fen) > 0
                ), paid AS (
                  SELECT n.*, p.paid_fen, p.first_on, p.last_on,
                         (n.month + interval '1 month' - interval '1 day')::date AS month_end
                  FROM nets n LEFT JOIN LATERAL (
                    SELECT sum(d.amount_fen) AS paid_fen, min(d.paid_on) AS first_on, max(d.paid_on) AS last_on FROM disbursement d
                    WHERE d.id_number = n.id_number AND d.month = n.month AND (d.post_id IS NULL OR d.post_id = n.post_id)) p ON true
                ), days AS (
                  SELECT paid.*, CASE WHEN paid_fen >= net THEN last_on - month_end END AS full_days FROM paid
                )
                SELECT county_code, to_char(month, 'YYYY-MM') AS month, count(*) AS lines, sum(net) AS booked_fen,
                       count(first_on) AS paid, coalesce(sum(paid_fen), 0) AS paid_fen, count(full_days) AS paid_in_full,
                       count(*) FILTER (WHERE full_days <= 30) AS on_time,
                       round(100.0 * count(*) FILTER (WHERE full_days <= 30) / count(*), 1) AS on_time_share,
                       percentile_disc(0.5) WITHIN GROUP (ORDER BY full_days) AS median_days, max(full_days) AS max_days,
                       count(*) - count(first_on) AS unpaid
                FROM days GROUP BY county_code, month ORDER BY county_code, month
                """, [counties, from?.firstDay.iso, to?.firstDay.iso])
        }
    }

    /// `payroll notice`: the month's payment notice for a village, to post publicly — every
    /// person-post of the village's posts that the month pays, with the name, the masked ID,
    /// the days in post and the amount — as one HTML page printable on A4 (inline CSS only).
    public static func notice(_ connection: Connection, month: Month, village: String) throws -> String {
        try Database.mapped {
            let code = try Regions.require(connection, village)
            guard code.level == .village else {
                throw AppError.badInput(Text(en: "--region names a village (12 digits): the notice is posted in one village",
                                             zh: "--region 应为村（12位代码）：公示在一个村张贴"), code: "BAD_REGION")
            }
            let names = try connection.query("""
                SELECT (SELECT name FROM region WHERE code = left($1, 6) || '000000') AS county,
                       (SELECT name FROM region WHERE code = rpad(left($1, 9), 12, '0')) AS township,
                       (SELECT name FROM region WHERE code = $1) AS village,
                       (SELECT state FROM payroll_run WHERE county_code = left($1, 6) AND month = $2::date) AS state
                """, [code.value, month.firstDay.iso])[0]
            guard let state = names["state"] else {
                throw AppError.notFound(Text(en: "there is no payroll of \(month) for that village's county: run `payroll run \(month)` first",
                                             zh: "该村所在县没有 \(month) 的工资表：请先运行 `payroll run \(month)`"))
            }
            let rows = try connection.query("""
                SELECT pe.name, mask_id(l.id_number) AS id, pt.label_zh AS post_type, l.post_id,
                       coalesce(sum(l.days_in_post) FILTER (WHERE l.kind = 'regular'), 0) AS days,
                       sum(l.post_subsidy_fen) AS post_fen, sum(l.social_insurance_fen) AS si_fen, sum(l.adjustment_fen) AS adjustment_fen,
                       sum(l.total_fen) AS total_fen
                FROM payroll_line l JOIN post p ON p.id = l.post_id JOIN person pe ON pe.id_number = l.id_number
                JOIN post_type pt ON pt.code = p.post_type
                WHERE l.county_code = left($1, 6) AND l.month = $2::date AND p.region_code = $1
                GROUP BY pe.name, l.id_number, pt.label_zh, l.post_id
                HAVING sum(l.total_fen) > 0
                ORDER BY l.post_id, l.id_number
                """, [code.value, month.firstDay.iso])
            return html(month: month, county: names["county"] ?? "", township: names["township"] ?? "", village: names["village"] ?? code.value,
                        draft: state != "approved", rows: rows)
        }
    }

    static func html(month: Month, county: String, township: String, village: String, draft: Bool, rows: [Row]) -> String {
        let title = "\(escape(village)) \(month.year)年\(month.month)月乡村公益性岗位补贴发放公示"
        var total: Int64 = 0
        var body = ""
        for (index, row) in rows.enumerated() {
            let fen = Int64(row["total_fen"] ?? "0") ?? 0
            total += fen
            let cells = [String(index + 1), escape(row["name"] ?? ""), escape(row["id"] ?? ""), escape(row["post_type"] ?? ""),
                         escape(row["post_id"] ?? ""), row["days"] ?? "0",
                         Fen(Int64(row["post_fen"] ?? "0") ?? 0).yuanText, Fen(Int64(row["si_fen"] ?? "0") ?? 0).yuanText,
                         Fen(Int64(row["adjustment_fen"] ?? "0") ?? 0).yuanText, Fen(fen).yuanText]
            body += "<tr>" + cells.enumerated().map { $0 >= 5 ? "<td class=\"n\">\($1)</td>" : "<td>\($1)</td>" }.joined() + "</tr>\n"
        }
        return """
            <!DOCTYPE html>
            <html lang="zh-CN"><head><meta charset="utf-8"><title>\(title)</title>
            <style>
            @page { size: A4; margin: 15mm 12mm; }
            body { font-family: "Noto Sans CJK SC", "Source Han Sans SC", "WenQuanYi Micro Hei", "Microsoft YaHei", SimSun, sans-serif; font-size: 11pt; color: #000; margin: 0; }
            h1 { font-size: 18pt; text-align: center; margin: 0 0 4mm; }
            p { margin: 2mm 0; line-height: 1.5; }
            .draft { color: #b00; font-weight: bold; text-align: center; font-size: 14pt; border: 2px solid #b00; padding: 2mm; }
            table { width: 100%; border-collapse: collapse; margin: 4mm 0; page-break-inside: auto; }
            th, td { border: 1px solid #000; padding: 1.5mm 2mm; font-size: 10pt; }
            th { background: #eee; }
            tr { page-break-inside: avoid; }
            thead { display: table-header-group; }
            td.n { text-align: right; white-space: nowrap; }
            .sign { margin-top: 10mm; text-align: right; }
            </style></head>
            <body>
            \(draft ? "<p class=\"draft\">草稿 DRAFT：工资表尚未审核，不得张贴</p>\n" : "")<h1>\(title)</h1>
            <p>根据乡村公益性岗位“在岗领补”的规定，现将\(escape(county))\(escape(township))\(escape(village)) \(month.year)年\(month.month)月公益性岗位补贴发放情况公示如下（身份证号已部分隐藏）：</p>
            <table>
            <thead><tr><th>序号</th><th>姓名</th><th>身份证号</th><th>岗位类型</th><th>岗位编号</th><th>在岗天数</th><th>岗位补贴（元）</th><th>社保补贴（元）</th><th>补扣发（元）</th><th>合计（元）</th></tr></thead>
            <tbody>
            \(body)<tr><td colspan="9"><b>合计 \(rows.count) 人次</b></td><td class="n"><b>\(Fen(total).yuanText)</b></td></tr>
            </tbody></table>
            <p>公示期：自张贴之日起5个工作日。如对公示内容有异议，请在公示期内向\(escape(township))人民政府或村民委员会反映。</p>
            <p class="sign">\(escape(township))人民政府　\(escape(village))村民委员会<br>\(Day.today().year)年\(Day.today().month)月\(Day.today().day)日</p>
            </body></html>

            """
    }

    /// Text for HTML (one escaping for every page the tool writes: `HTML.escape`).
    static func escape(_ text: String) -> String { HTML.escape(text) }
}
