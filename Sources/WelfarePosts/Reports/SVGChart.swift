/// Charts drawn by the tool itself as inline SVG: a report must open and print without a
/// network or a script, so no charting library is loaded. Each chart is drawn in a fixed
/// coordinate space (`width` units wide) and scales to the page (`width: 100%` in the page's
/// CSS), so it fits the A4 width when printed. Every label is escaped; every bar and point
/// carries its value in a `data-value` attribute and a `<title>` (shown on hover).
public enum SVGChart {
    /// The drawing's width in its own units (about 0.27 mm each on A4).
    static let width = 700.0

    /// Colours that stay apart in print and for the common colour blindnesses (Okabe–Ito, then greys).
    public static let palette = ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000", "#999999", "#666666"]

    /// A named series of values, one per category (month).
    public struct Series: Sendable {
        public let name: String
        public let values: [Int]

        public init(name: String, values: [Int]) {
            self.name = name
            self.values = values
        }
    }

    /// One bar of a horizontal bar chart: its label, its value, and the value as shown.
    public struct Bar: Sendable {
        public let label: String
        public let value: Int64
        public let shown: String

        public init(label: String, value: Int64, shown: String) {
            self.label = label
            self.value = value
            self.shown = shown
        }
    }

    /// Horizontal bars, one per item, longest for the largest value, the value written after each.
    public static func bars(_ bars: [Bar], color: String = palette[0]) -> String {
        let rowHeight = 20.0, top = 6.0, labelWidth = 210.0
        let valueWidth = max(40, (bars.map { estimatedWidth($0.shown) }.max() ?? 0) + 12)
        let height = top * 2 + rowHeight * Double(max(bars.count, 1))
        let maximum = Double(max(bars.map(\.value).max() ?? 0, 1))
        let plot = width - labelWidth - valueWidth
        var out = svgOpen(height: height)
        out += line(labelWidth, top - 2, labelWidth, height - top + 2, stroke: "#444")
        for (index, bar) in bars.enumerated() {
            let y = top + rowHeight * Double(index)
            let length = Double(max(bar.value, 0)) / maximum * plot
            out += text(labelWidth - 6, y + rowHeight * 0.68, clipped(bar.label, 34), anchor: "end")
            out += "<rect x=\"\(fmt(labelWidth))\" y=\"\(fmt(y + 3))\" width=\"\(fmt(max(length, bar.value > 0 ? 1 : 0)))\" height=\"\(fmt(rowHeight - 6))\" fill=\"\(color)\" data-value=\"\(bar.value)\">"
                + "<title>\(HTML.escape(bar.label)): \(HTML.escape(bar.shown))</title></rect>\n"
            out += text(labelWidth + length + 5, y + rowHeight * 0.68, bar.shown, anchor: "start")
        }
        return out + "</svg>\n"
    }

    /// Columns per category (month), each stacked from the series, with a value axis, the
    /// categories' labels beneath (thinned when many) and the legend under the chart. At most
    /// `palette.count` series are drawn apart: the smallest of any more are drawn together
    /// under `otherLabel`.
    public static func stackedColumns(categories: [String], series: [Series], otherLabel: String) -> String {
        let series = limited(series, otherLabel: otherLabel)
        let totals = categories.indices.map { index in series.reduce(0) { $0 + ($1.values.indices.contains(index) ? $1.values[index] : 0) } }
        let frame = Frame(categories: categories.count, maximum: totals.max() ?? 0)
        var out = svgOpen(height: frame.height) + frame.axes(categories)
        let slot = frame.slot
        for index in categories.indices {
            var base = 0
            for (number, one) in series.enumerated() {
                let value = one.values.indices.contains(index) ? one.values[index] : 0
                guard value > 0 else { continue }
                let y0 = frame.y(base), y1 = frame.y(base + value)
                out += "<rect x=\"\(fmt(frame.x(index) - slot * 0.35))\" y=\"\(fmt(y1))\" width=\"\(fmt(slot * 0.7))\" height=\"\(fmt(y0 - y1))\" fill=\"\(palette[number % palette.count])\" data-series=\"\(HTML.escape(one.name))\" data-category=\"\(HTML.escape(categories[index]))\" data-value=\"\(value)\">"
                    + "<title>\(HTML.escape(categories[index])) · \(HTML.escape(one.name)): \(value)</title></rect>\n"
                base += value
            }
        }
        return out + "</svg>\n" + legend(series.map(\.name))
    }

    /// Lines over the categories (months), one per series, a dot and its value at each point
    /// when there are few enough to read.
    public static func lines(categories: [String], series: [Series]) -> String {
        let frame = Frame(categories: categories.count, maximum: series.flatMap(\.values).max() ?? 0)
        var out = svgOpen(height: frame.height) + frame.axes(categories)
        for (number, one) in series.enumerated() {
            let color = palette[number % palette.count]
            let points = one.values.enumerated().map { "\(fmt(frame.x($0.offset))),\(fmt(frame.y($0.element)))" }
            // Solid, dashed, dotted, each thinner than the one before: lines with the same
            // values stay visible on top of each other.
            let dash = ["", " stroke-dasharray=\"8 4\"", " stroke-dasharray=\"2 3\""][number % 3]
            if points.count > 1 {
                out += "<polyline points=\"\(points.joined(separator: " "))\" fill=\"none\" stroke=\"\(color)\" stroke-width=\"\(fmt(3.5 - Double(number % 3)))\"\(dash)/>\n"
            }
            for (index, value) in one.values.enumerated() where categories.indices.contains(index) {
                out += "<circle cx=\"\(fmt(frame.x(index)))\" cy=\"\(fmt(frame.y(value)))\" r=\"\(fmt(3.5 - Double(number % 3)))\" fill=\"\(color)\" data-series=\"\(HTML.escape(one.name))\" data-category=\"\(HTML.escape(categories[index]))\" data-value=\"\(value)\">"
                    + "<title>\(HTML.escape(categories[index])) · \(HTML.escape(one.name)): \(value)</title></circle>\n"
            }
        }
        return out + "</svg>\n" + legend(series.map(\.name))
    }

    /// The plotting area of a chart over categories: a value axis with round steps on the left.
    struct Frame {
        let categories: Int
        let step: Int
        let top: Int
        let left = 48.0, right = 8.0, upper = 10.0, plotHeight = 190.0, below = 34.0

        init(categories: Int, maximum: Int) {
            self.categories = max(categories, 1)
            step = SVGChart.niceStep(maximum)
            top = max(step * Int((Double(maximum) / Double(step)).rounded(.up)), step)
        }

        var height: Double { upper + plotHeight + below }
        var slot: Double { (SVGChart.width - left - right) / Double(categories) }
        func x(_ index: Int) -> Double { left + slot * (Double(index) + 0.5) }
        func y(_ value: Int) -> Double { upper + plotHeight - Double(value) / Double(top) * plotHeight }

        func axes(_ labels: [String]) -> String {
            var out = ""
            var value = 0
            while value <= top {
                out += SVGChart.line(left, y(value), SVGChart.width - right, y(value), stroke: value == 0 ? "#444" : "#ddd")
                out += SVGChart.text(left - 5, y(value) + 4, String(value), anchor: "end")
                value += step
            }
            // Every label when they fit, else every n-th, so that they never overlap; a label
            // of two lines (month, then year) is written as two.
            let widest = labels.flatMap { $0.split(separator: "\n") }.map { SVGChart.estimatedWidth(String($0)) }.max() ?? 0
            let every = max(1, Int(((widest + 6) / slot).rounded(.up)))
            for (index, label) in labels.enumerated() where index % every == 0 {
                for (number, part) in label.split(separator: "\n").enumerated() {
                    out += SVGChart.text(x(index), upper + plotHeight + 14 + 13 * Double(number), String(part), anchor: "middle")
                }
            }
            return out
        }
    }

    /// A round step for about five gridlines up to `maximum`: 1, 2 or 5 times a power of ten.
    static func niceStep(_ maximum: Int) -> Int {
        guard maximum > 5 else { return 1 }
        let raw = Double(maximum) / 5
        var power = 1.0
        while power * 10 <= raw { power *= 10 }
        for multiple in [1.0, 2.0, 5.0, 10.0] where multiple * power >= raw {
            return Int(multiple * power)
        }
        return Int(power * 10)
    }

    /// The series as drawn: the largest `palette.count - 1` apart, the rest summed into one.
    static func limited(_ series: [Series], otherLabel: String) -> [Series] {
        guard series.count > palette.count else { return series }
        let ranked = series.enumerated().sorted { ($0.element.values.reduce(0, +), -$0.offset) > ($1.element.values.reduce(0, +), -$1.offset) }
        let kept = Set(ranked.prefix(palette.count - 1).map(\.offset))
        let rest = series.enumerated().filter { !kept.contains($0.offset) }.map(\.element)
        let length = series.map(\.values.count).max() ?? 0
        let other = Series(name: otherLabel, values: (0..<length).map { index in
            rest.reduce(0) { $0 + ($1.values.indices.contains(index) ? $1.values[index] : 0) }
        })
        return series.enumerated().filter { kept.contains($0.offset) }.map(\.element) + [other]
    }

    static func legend(_ names: [String]) -> String {
        "<ul class=\"legend\">" + names.enumerated().map {
            "<li><span style=\"background:\(palette[$0.offset % palette.count])\"></span>\(HTML.escape($0.element))</li>"
        }.joined() + "</ul>\n"
    }

    static func svgOpen(height: Double) -> String {
        "<svg viewBox=\"0 0 \(fmt(width)) \(fmt(height))\" role=\"img\" font-size=\"11\">\n"
    }

    static func line(_ x1: Double, _ y1: Double, _ x2: Double, _ y2: Double, stroke: String) -> String {
        "<line x1=\"\(fmt(x1))\" y1=\"\(fmt(y1))\" x2=\"\(fmt(x2))\" y2=\"\(fmt(y2))\" stroke=\"\(stroke)\" stroke-width=\"1\"/>\n"
    }

    static func text(_ x: Double, _ y: Double, _ content: String, anchor: String) -> String {
        "<text x=\"\(fmt(x))\" y=\"\(fmt(y))\" text-anchor=\"\(anchor)\" fill=\"#222\">\(HTML.escape(content))</text>\n"
    }

    /// About how wide `text` is drawn at the charts' font size: Chinese characters are square,
    /// others about 0.6 of the size.
    static func estimatedWidth(_ text: String) -> Double {
        text.unicodeScalars.reduce(0) { $0 + ($1.value >= 0x2E80 ? 11 : 6.6) }
    }

    /// At most `limit` characters, the rest replaced by an ellipsis (the tables beneath hold the whole text).
    static func clipped(_ text: String, _ limit: Int) -> String {
        text.count <= limit ? text : String(text.prefix(limit - 1)) + "…"
    }

    /// A coordinate with at most one decimal.
    static func fmt(_ value: Double) -> String {
        let tenths = (value * 10).rounded()
        return tenths.truncatingRemainder(dividingBy: 10) == 0 ? String(Int(tenths / 10)) : String(tenths / 10)
    }
}
