/// The pages the tool writes (the audit and ledger reports, the notice sheet, the payment
/// notice) are opened by people on office machines without a network, and printed: so each is
/// one file that needs nothing else — inline CSS, no script, no font or image from anywhere —
/// and every value in it, all of which may come from user input (names, developers, region
/// names), is escaped here, in one place.
public enum HTML {
    /// Text for HTML content or a quoted attribute: control and reordering characters shown as
    /// visible escapes (`TextValue.displayed`: a name cannot reorder what the reader sees), then
    /// the five characters that mean something in HTML escaped.
    public static func escape(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count)
        for scalar in TextValue.displayed(text).unicodeScalars {
            switch scalar {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out
    }

    /// A table cell: its text (escaped when made), whether it is a number (right-aligned), and
    /// an optional `data-` key for a reader that checks the figures (the tests, a script).
    public struct Cell: Sendable {
        let html: String
        let numeric: Bool
        let wrap: Wrap

        /// Where a cell's text may break across lines.
        public enum Wrap: Sendable {
            /// Anywhere a line may break (prose: an explanation).
            case anywhere
            /// Never (an ID, a code, a name).
            case never
            /// Only at spaces, never inside a word or a Chinese name (a place: 县 乡镇 村).
            case atSpaces
        }

        public init(_ text: String?, numeric: Bool = false, wrap: Wrap = .anywhere) {
            html = HTML.escape(text ?? "")
            self.numeric = numeric
            self.wrap = wrap
        }

        public static func number(_ value: Int) -> Cell { Cell(String(value), numeric: true) }
        public static func yuan(_ fen: Int64) -> Cell { Cell(Fen(fen).yuanText, numeric: true) }
    }

    /// A table whose header row repeats on every printed page (`thead` as a header group) and
    /// whose rows are never split across two pages. `id` names the table for readers that check
    /// it; `rowKeys` (one per row, optional) become `data-key` attributes.
    public static func table(id: String, caption: String? = nil, headers: [String], rows: [[Cell]], rowKeys: [String]? = nil,
                             footer: [Cell]? = nil) -> String {
        var out = "<table id=\"\(escape(id))\">\n"
        if let caption { out += "<caption>\(escape(caption))</caption>\n" }
        out += "<thead><tr>" + headers.map { "<th>\(escape($0))</th>" }.joined() + "</tr></thead>\n<tbody>\n"
        for (index, row) in rows.enumerated() {
            let key = rowKeys.map { " data-key=\"\(escape($0[index]))\"" } ?? ""
            out += "<tr\(key)>" + row.map(cell).joined() + "</tr>\n"
        }
        if let footer {
            out += "<tr class=\"total\" data-key=\"total\">" + footer.map(cell).joined() + "</tr>\n"
        }
        return out + "</tbody></table>\n"
    }

    private static func cell(_ cell: Cell) -> String {
        if cell.numeric { return "<td class=\"n\">\(cell.html)</td>" }
        switch cell.wrap {
        case .anywhere: return "<td>\(cell.html)</td>"
        case .never: return "<td class=\"w\">\(cell.html)</td>"
        case .atSpaces: return "<td class=\"s\">\(cell.html)</td>"
        }
    }

    /// A whole report page for the screen and A4: a title, a line saying what it covers, then
    /// `body` (already HTML). Charts are scaled to the printed width; tables break across pages
    /// with their headers repeated.
    public static func page(lang: Lang, title: String, subtitle: String, body: String) -> String {
        """
        <!DOCTYPE html>
        <html lang="\(lang == .zh ? "zh-CN" : "en")">
        <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <title>\(escape(title))</title>
        <style>
        @page { size: A4; margin: 14mm 12mm; }
        * { box-sizing: border-box; }
        body { margin: 0 auto; max-width: 186mm; padding: 6mm 0; color: #111; font-size: 10pt; line-height: 1.45;
               font-family: "Noto Sans CJK SC", "Source Han Sans SC", "WenQuanYi Micro Hei", "Microsoft YaHei", "PingFang SC", sans-serif; }
        h1 { font-size: 17pt; margin: 0 0 1mm; }
        h2 { font-size: 12.5pt; margin: 7mm 0 2mm; border-bottom: 0.3mm solid #444; padding-bottom: 0.5mm; break-after: avoid; }
        p.covers { margin: 0 0 4mm; color: #333; }
        figure { margin: 2mm 0 5mm; break-inside: avoid; page-break-inside: avoid; }
        figcaption { font-weight: bold; margin-bottom: 1mm; }
        svg { display: block; width: 100%; height: auto; max-width: 100%; }
        svg text { font-family: inherit; }
        table { width: 100%; border-collapse: collapse; margin: 1mm 0 5mm; font-size: 8.5pt; }
        caption { text-align: left; font-weight: bold; padding: 1mm 0; }
        th, td { border: 0.2mm solid #777; padding: 0.8mm 1.5mm; vertical-align: top; text-align: left; overflow-wrap: break-word; }
        th { background: #eee; }
        thead { display: table-header-group; }
        tr { break-inside: avoid; page-break-inside: avoid; }
        td.n { text-align: right; white-space: nowrap; font-variant-numeric: tabular-nums; }
        td.w { white-space: nowrap; }
        td.s { word-break: keep-all; }
        tr.total td { font-weight: bold; background: #f6f6f6; }
        .none { color: #555; font-style: italic; }
        .legend { margin: 1mm 0 0; padding: 0; list-style: none; font-size: 8.5pt; }
        .legend li { display: inline-block; margin: 0 4mm 1mm 0; }
        .legend span { display: inline-block; width: 3mm; height: 3mm; margin-right: 1mm; vertical-align: middle; }
        @media print { body { padding: 0; max-width: none; } h2 { break-after: avoid; } }
        </style>
        </head>
        <body>
        <h1>\(escape(title))</h1>
        <p class="covers">\(escape(subtitle))</p>
        \(body)
        </body>
        </html>

        """
    }

    /// A section heading.
    public static func heading(_ text: String) -> String { "<h2>\(escape(text))</h2>\n" }

    /// A figure: the chart (SVG, already made) under its caption.
    public static func figure(id: String, caption: String, _ svg: String) -> String {
        "<figure id=\"\(escape(id))\"><figcaption>\(escape(caption))</figcaption>\n\(svg)</figure>\n"
    }

    /// A line saying there is nothing to show.
    public static func none(_ text: String) -> String { "<p class=\"none\">\(escape(text))</p>\n" }
}
