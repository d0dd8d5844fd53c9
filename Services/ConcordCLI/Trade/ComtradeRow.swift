import ConcordFields
import ConcordProtocol
import ConcordTradeCodes

/// A row of UN Comtrade's bulk or API CSV, read by its header's column names, as the
/// observation `trade.observations.import` takes. By default only rows that are not broken down
/// further are kept (second partner the world, every mode of transport, every customs
/// procedure): summing the breakdowns too counts the same trade several times over.
struct ComtradeColumns {
    let index: [String: Int]

    /// The columns this reader understands; any others are ignored.
    static let known = [
        "typeCode", "freqCode", "refPeriodId", "refYear", "refMonth", "period", "reporterCode", "reporterISO", "reporterDesc",
        "flowCode", "flowDesc", "partnerCode", "partnerISO", "partnerDesc", "partner2Code", "partner2ISO", "classificationCode",
        "cmdCode", "cmdDesc", "aggrLevel", "customsCode", "motCode", "qtyUnitAbbr", "qty", "netWgt", "grossWgt", "cifvalue",
        "fobvalue", "primaryValue", "isReported", "isAggregate", "isEstimated", "synthetic",
    ]

    init(header: [String]) throws(ComtradeProblem) {
        var index: [String: Int] = [:]
        for (position, name) in header.enumerated() {
            let trimmed = name.trimmingSpaces()
            if let canonical = Self.known.first(where: { $0.lowercased() == trimmed.lowercased() }) { index[canonical] = position }
        }
        for required in ["flowCode", "primaryValue"] where index[required] == nil {
            throw ComtradeProblem(column: required, reason: "the header has no \(required) column")
        }
        guard index["period"] != nil || index["refYear"] != nil else {
            throw ComtradeProblem(column: "period", reason: "the header has neither period nor refYear")
        }
        guard index["reporterISO"] != nil || index["reporterCode"] != nil else {
            throw ComtradeProblem(column: "reporterISO", reason: "the header has neither reporterISO nor reporterCode")
        }
        guard index["partnerISO"] != nil || index["partnerCode"] != nil else {
            throw ComtradeProblem(column: "partnerISO", reason: "the header has neither partnerISO nor partnerCode")
        }
        self.index = index
    }

    func value(_ column: String, in fields: [String]) -> String? {
        guard let position = self.index[column], position < fields.count else { return nil }
        let text = fields[position].trimmingSpaces()
        return text.isEmpty ? nil : text
    }
}

struct ComtradeProblem: Error {
    var column: String
    var reason: String
}

enum ComtradeRow {
    /// What became of one row.
    enum Outcome {
        case observation([String: JSONFieldValue])
        /// A breakdown row (second partner, mode of transport or customs procedure), left out.
        case breakdown
    }

    /// A JSON value as the import body writes it.
    enum JSONFieldValue {
        case text(String)
        case flag(Bool)
    }

    static func read(
        _ fields: [String], columns: ComtradeColumns, source: String, published: String, keepBreakdowns: Bool
    ) throws(ComtradeProblem) -> Outcome {
        func value(_ column: String) -> String? { columns.value(column, in: fields) }
        if !keepBreakdowns {
            if let partner2 = value("partner2Code"), partner2 != "0" { return .breakdown }
            if let mode = value("motCode"), mode != "0" { return .breakdown }
            if let customs = value("customsCode"), customs.uppercased() != "C00" { return .breakdown }
        }
        var row: [String: JSONFieldValue] = ["source": .text(source), "published": .text(published)]
        row["reporter"] = .text(try Self.area(iso: value("reporterISO"), code: value("reporterCode"), column: "reporter", worldAllowed: false))
        row["partner"] = .text(try Self.area(iso: value("partnerISO"), code: value("partnerCode"), column: "partner", worldAllowed: true))
        if case .text(let reporter)? = row["reporter"], case .text(let partner)? = row["partner"], reporter == partner {
            throw ComtradeProblem(column: "partnerISO", reason: "the partner is the reporter itself (\(partner))")
        }
        let flow = (value("flowCode") ?? "").uppercased()
        guard TradeCodes.Flow(rawValue: flow) != nil else {
            throw ComtradeProblem(column: "flowCode", reason: "'\(flow)' is not a flow this service keeps (M, X, RM, RX)")
        }
        row["flow"] = .text(flow)
        let period: String
        if let text = value("period") {
            period = text
        } else if let year = value("refYear") {
            let month = value("refMonth").flatMap { Int($0) }.flatMap { $0 >= 1 && $0 <= 12 ? $0 : nil }
            let frequency = value("freqCode")?.uppercased() ?? (month == nil ? "A" : "M")
            period = frequency == "M" ? year + (month.map { $0 < 10 ? "0\($0)" : "\($0)" } ?? "") : year
        } else {
            throw ComtradeProblem(column: "period", reason: "no period and no refYear")
        }
        do {
            row["period"] = .text(try TradeCodes.period(period, field: "period").period)
            row["commodity"] = .text(try TradeCodes.commodity(value("cmdCode"), field: "cmdCode"))
        } catch {
            throw ComtradeProblem(column: error.field ?? "period", reason: error.message)
        }
        if let classification = value("classificationCode") { row["classification"] = .text(classification) }
        for (column, field) in [("primaryValue", "primaryValue"), ("cifvalue", "cifValue"), ("fobvalue", "fobValue"), ("netWgt", "netWeightKg"), ("qty", "quantity")] {
            guard let text = value(column) else {
                if column == "primaryValue" { throw ComtradeProblem(column: column, reason: "is empty") }
                continue
            }
            let plain = Self.plainDecimal(text)
            guard let plain, Milli.parse(plain) != nil || column == "netWgt" || column == "qty" else {
                throw ComtradeProblem(column: column, reason: "'\(text)' is not a number this service keeps exactly (at most three decimals)")
            }
            row[field] = .text(plain)
        }
        if let unit = value("qtyUnitAbbr"), unit.uppercased() != "N/A" { row["quantityUnit"] = .text(unit) }
        if let estimated = value("isEstimated") { row["estimate"] = .flag(["true", "1"].contains(estimated.lowercased())) }
        if let synthetic = value("synthetic") { row["synthetic"] = .flag(["true", "1"].contains(synthetic.lowercased())) }
        return .observation(row)
    }

    /// ISO alpha-3 (IRN) or M49 (364) to alpha-2; partner code 0 or W00 is the world.
    static func area(iso: String?, code: String?, column: String, worldAllowed: Bool) throws(ComtradeProblem) -> String {
        if worldAllowed, code == "0" || iso?.uppercased() == "W00" || iso?.uppercased() == "WLD" { return TradeCodes.world }
        if let iso = iso?.uppercased() {
            if iso.count == 3, let alpha2 = TradeCodes.byAlpha3[iso] { return alpha2 }
            if iso.count == 2, TradeCodes.alpha2.contains(iso) { return iso }
        }
        if let code, let number = Int(code), let alpha2 = TradeCodes.byNumeric[number] { return alpha2 }
        throw ComtradeProblem(column: column + (iso != nil ? "ISO" : "Code"), reason: "'\(iso ?? code ?? "")' is not a country in ISO 3166-1")
    }

    /// A number as Comtrade writes it (`1234.5`, `1.2345E9`) as a plain decimal, or nil.
    static func plainDecimal(_ text: String) -> String? {
        let upper = text.uppercased()
        guard let e = upper.firstIndex(of: "E") else {
            return (try? FieldRules.decimal(text, field: "value"))
        }
        guard let exponent = Int(upper[upper.index(after: e)...]), (-20...30).contains(exponent) else { return nil }
        let mantissa = String(upper[..<e])
        guard (try? FieldRules.decimal(mantissa, field: "value")) != nil else { return nil }
        let negative = mantissa.hasPrefix("-")
        let digitsText = negative ? String(mantissa.dropFirst()) : mantissa
        let parts = digitsText.split(separator: ".", omittingEmptySubsequences: false)
        var digits = String(parts[0]) + (parts.count > 1 ? String(parts[1]) : "")
        var point = parts[0].count + exponent
        if point <= 0 { digits = String(repeating: "0", count: -point + 1) + digits; point = 1 }
        if point > digits.count { digits += String(repeating: "0", count: point - digits.count) }
        var whole = String(digits.prefix(point))
        var fraction = String(digits.dropFirst(point))
        while whole.count > 1, whole.hasPrefix("0") { whole.removeFirst() }
        while fraction.hasSuffix("0") { fraction.removeLast() }
        return (negative ? "-" : "") + whole + (fraction.isEmpty ? "" : "." + fraction)
    }
}
