import ConcordFields
import ConcordProtocol

import ConcordTradeCodes

/// A row of UN Comtrade's bulk or API CSV, read by its header's column names, as the
/// observation `trade.observations.import` takes. By default only rows that are not broken down
/// further are kept (second partner the world, every mode of transport, every customs
/// procedure): summing the breakdowns too counts the same trade several times over.
public struct ComtradeColumns: Sendable {
    public let index: [String: Int]
    /// The positions of the columns every row reads, looked up once.
    let partner2Code, motCode, customsCode, reporterISO, reporterCode, partnerISO, partnerCode, flowCode, period, refYear, refMonth,
        freqCode, cmdCode, classificationCode, primaryValue, cifvalue, fobvalue, netWgt, qty, qtyUnitAbbr, isEstimated, synthetic: Int?

    /// The columns this reader understands; any others are ignored.
    public static let known = [
        "typeCode", "freqCode", "refPeriodId", "refYear", "refMonth", "period", "reporterCode", "reporterISO", "reporterDesc",
        "flowCode", "flowDesc", "partnerCode", "partnerISO", "partnerDesc", "partner2Code", "partner2ISO", "classificationCode",
        "cmdCode", "cmdDesc", "aggrLevel", "customsCode", "motCode", "qtyUnitAbbr", "qty", "netWgt", "grossWgt", "cifvalue",
        "fobvalue", "primaryValue", "isReported", "isAggregate", "isEstimated", "synthetic",
    ]

    public init(header: [String]) throws(ComtradeProblem) {
        var index: [String: Int] = [:]
        for (position, name) in header.enumerated() {
            let trimmed = name.trimmingSpaces()
            if let canonical = Self.known.first(where: { $0.lowercased() == trimmed.lowercased() }) { index[canonical] = position }
        }
        for required in ["flowCode", "primaryValue"] where index[required] == nil {
            throw ComtradeProblem(column: required, reason: "the header has no \(required) column", rule: .required)
        }
        guard index["period"] != nil || index["refYear"] != nil else {
            throw ComtradeProblem(column: "period", reason: "the header has neither period nor refYear", rule: .required)
        }
        guard index["reporterISO"] != nil || index["reporterCode"] != nil else {
            throw ComtradeProblem(column: "reporterISO", reason: "the header has neither reporterISO nor reporterCode", rule: .required)
        }
        guard index["partnerISO"] != nil || index["partnerCode"] != nil else {
            throw ComtradeProblem(column: "partnerISO", reason: "the header has neither partnerISO nor partnerCode", rule: .required)
        }
        self.index = index
        (self.partner2Code, self.motCode, self.customsCode) = (index["partner2Code"], index["motCode"], index["customsCode"])
        (self.reporterISO, self.reporterCode, self.partnerISO, self.partnerCode) = (index["reporterISO"], index["reporterCode"], index["partnerISO"], index["partnerCode"])
        (self.flowCode, self.period, self.refYear, self.refMonth, self.freqCode) = (index["flowCode"], index["period"], index["refYear"], index["refMonth"], index["freqCode"])
        (self.cmdCode, self.classificationCode) = (index["cmdCode"], index["classificationCode"])
        (self.primaryValue, self.cifvalue, self.fobvalue, self.netWgt, self.qty) = (index["primaryValue"], index["cifvalue"], index["fobvalue"], index["netWgt"], index["qty"])
        (self.qtyUnitAbbr, self.isEstimated, self.synthetic) = (index["qtyUnitAbbr"], index["isEstimated"], index["synthetic"])
    }

    /// A row's value in the column at `position`, trimmed; nil when absent or empty.
    public func value(_ position: Int?, in fields: [String]) -> String? {
        guard let position, position < fields.count else { return nil }
        let text = fields[position].trimmingSpaces()
        return text.isEmpty ? nil : text
    }
}

/// What is wrong with a row of a Comtrade file (or its header): the column, an English reason,
/// and where a rule says it, the rule (for a reader of another language).
public struct ComtradeProblem: Error, Sendable {
    public var column: String
    public var reason: String
    public var rule: Rule?

    public init(column: String, reason: String, rule: Rule? = nil) {
        (self.column, self.reason, self.rule) = (column, reason, rule)
    }
}

public enum ComtradeRow {
    /// What became of one row.
    public enum Outcome {
        /// The row's values in `columns` order.
        case observation([TableBody.Cell])
        /// A breakdown row (second partner, mode of transport or customs procedure), left out.
        case breakdown
    }

    /// The fields `trade.observations.import` is sent, in the order each row's values come.
    public static let columns = [
        "reporter", "partner", "flow", "period", "commodity", "classification", "primaryValue", "cifValue", "fobValue", "netWeightKg",
        "quantity", "quantityUnit", "estimate", "synthetic", "source", "published",
    ]

    public static func read(
        _ fields: [String], columns: ComtradeColumns, source: String, published: String, keepBreakdowns: Bool
    ) throws(ComtradeProblem) -> Outcome {
        func value(_ position: Int?) -> String? { columns.value(position, in: fields) }
        func cell(_ text: String?) -> TableBody.Cell { text.map { .text($0) } ?? .null }
        if !keepBreakdowns {
            if let partner2 = value(columns.partner2Code), partner2 != "0" { return .breakdown }
            if let mode = value(columns.motCode), mode != "0" { return .breakdown }
            if let customs = value(columns.customsCode), customs.uppercasedIfNeeded() != "C00" { return .breakdown }
        }
        let reporter = try Self.area(iso: value(columns.reporterISO), code: value(columns.reporterCode), column: "reporter", worldAllowed: false)
        let partner = try Self.area(iso: value(columns.partnerISO), code: value(columns.partnerCode), column: "partner", worldAllowed: true)
        if reporter == partner {
            throw ComtradeProblem(column: "partnerISO", reason: "the partner is the reporter itself (\(partner))", rule: .differs(other: "reporterISO"))
        }
        let flow = (value(columns.flowCode) ?? "").uppercasedIfNeeded()
        guard TradeCodes.Flow(rawValue: flow) != nil else {
            throw ComtradeProblem(
                column: "flowCode", reason: "'\(flow)' is not a flow this service keeps (M, X, RM, RX)", rule: .oneOf(allowed: ["M", "X", "RM", "RX"], got: flow)
            )
        }
        var period: String
        if let text = value(columns.period) {
            period = text
        } else if let year = value(columns.refYear) {
            let month = value(columns.refMonth).flatMap { Int($0) }.flatMap { $0 >= 1 && $0 <= 12 ? $0 : nil }
            let frequency = value(columns.freqCode)?.uppercasedIfNeeded() ?? (month == nil ? "A" : "M")
            period = frequency == "M" ? year + (month.map { $0 < 10 ? "0\($0)" : "\($0)" } ?? "") : year
        } else {
            throw ComtradeProblem(column: "period", reason: "no period and no refYear", rule: .required)
        }
        let commodity: String
        do {
            period = try TradeCodes.period(period, field: "period").period
            commodity = try TradeCodes.commodity(value(columns.cmdCode), field: "cmdCode")
        } catch {
            throw ComtradeProblem(column: error.field ?? "period", reason: error.message, rule: error.rule)
        }
        var amounts: [TableBody.Cell] = []
        for (position, column) in [(columns.primaryValue, "primaryValue"), (columns.cifvalue, "cifvalue"), (columns.fobvalue, "fobvalue"), (columns.netWgt, "netWgt"), (columns.qty, "qty")] {
            guard let text = value(position) else {
                if column == "primaryValue" { throw ComtradeProblem(column: column, reason: "is empty", rule: .empty) }
                amounts.append(.null)
                continue
            }
            let plain = Self.plainDecimal(text)
            guard let plain, Milli.parse(plain) != nil || column == "netWgt" || column == "qty" else {
                throw ComtradeProblem(
                    column: column, reason: "'\(text)' is not a number this service keeps exactly (at most three decimals)", rule: .form(.decimal, got: text)
                )
            }
            amounts.append(.text(plain))
        }
        let unit = value(columns.qtyUnitAbbr).flatMap { $0.uppercasedIfNeeded() == "N/A" ? nil : $0 }
        func flag(_ position: Int?) -> TableBody.Cell {
            guard let text = value(position) else { return .null }
            return .flag(text == "1" || text == "true" || text.lowercased() == "true")
        }
        return .observation([
            .text(reporter), .text(partner), .text(flow), .text(period), .text(commodity), cell(value(columns.classificationCode)),
            amounts[0], amounts[1], amounts[2], amounts[3], amounts[4], cell(unit), flag(columns.isEstimated), flag(columns.synthetic),
            .text(source), .text(published),
        ])
    }

    /// ISO alpha-3 (IRN) or M49 (364) to alpha-2; partner code 0 or W00 is the world.
    public static func area(iso: String?, code: String?, column: String, worldAllowed: Bool) throws(ComtradeProblem) -> String {
        let iso = iso?.uppercasedIfNeeded()
        if worldAllowed, code == "0" || iso == "W00" || iso == "WLD" { return TradeCodes.world }
        if let iso {
            if iso.utf8.count == 3, let alpha2 = TradeCodes.byAlpha3[iso] { return alpha2 }
            if iso.utf8.count == 2, TradeCodes.alpha2.contains(iso) { return iso }
        }
        if let code, let number = Int(code), let alpha2 = TradeCodes.byNumeric[number] { return alpha2 }
        throw ComtradeProblem(
            column: column + (iso != nil ? "ISO" : "Code"), reason: "'\(iso ?? code ?? "")' is not a country in ISO 3166-1",
            rule: .form(.countryCode, got: iso ?? code ?? "")
        )
    }

    /// A number as Comtrade writes it (`1234.5`, `1.2345E9`) as a plain decimal, or nil.
    public static func plainDecimal(_ text: String) -> String? {
        if FieldRules.isPlainDecimal(text.utf8) { return text }
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
