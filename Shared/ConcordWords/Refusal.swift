import ConcordProtocol

extension Words {
    /// What a refused request broke, for a person: in Persian and Russian the rule the error
    /// carries said in that language, naming the field by `label` (a form's label) or by its
    /// place in the request without `body.`; with no rule, and in English, the service's own
    /// message. A record's rule (no such record, still named...) adds the service's message,
    /// which names the records.
    ///
    /// `isolate` wraps what is not the reader's language (a field's name, codes, what was given,
    /// the service's message): in FSI ... PDI for a page, as it is for a terminal, which shows
    /// those characters rather than following them. `labelOf` gives the form's label of another
    /// field a rule names (the start an end is before), where the form has one.
    public func refusal(
        _ error: ConcordError, label: String? = nil, labelOf: (String) -> String? = { _ in nil },
        isolate: (String) -> String = Words.isolated
    ) -> String {
        guard let rule = error.rule else { return error.message }
        // A form's label is in the reader's language; a field's name is Latin.
        return self.said(
            rule, field: label ?? isolate(Self.fieldName(error.field)), message: error.message,
            other: { labelOf($0) ?? isolate(Self.fieldName($0)) }, isolate: isolate
        )
    }

    /// `rule` said in this language of `field` (already as the reader should read it), with
    /// `message`, the English it stands for: in English the message itself. Another field the
    /// rule names is named as `isolate` gives it.
    public func said(_ rule: Rule, field: String, message: String, isolate: (String) -> String = Words.isolated) -> String {
        self.said(rule, field: field, message: message, other: isolate, isolate: isolate)
    }

    /// `said`, with `other` naming another field the rule names as the reader should read it.
    func said(_ rule: Rule, field: String, message: String, other: (String) -> String, isolate: (String) -> String) -> String {
        guard self.language != .en else { return message }
        let detail = " (" + isolate(message) + ")"
        switch rule {
        case .required: return self(.ruleRequired, field)
        case .empty: return self(.ruleEmpty, field)
        case .tooLong(let max): return self(.ruleTooLong, field, self.integer(max))
        case .tooMany(let max): return self(.ruleTooMany, field, self.integer(max))
        case .controlCharacters: return self(.ruleControlCharacters, field)
        case .oneOf(let allowed, let got):
            return self(.ruleOneOf, field, isolate(allowed.joined(separator: ", ")), isolate(got))
        case .form(let form, let got): return self(.ruleForm, field, self(Self.key(form)), isolate(got))
        case .type(let expected): return self(.ruleType, field, self(Self.key(expected)))
        case .range(let low, let high, let got, let part):
            let value = isolate(self.digits(got))
            return self(.ruleRange, field, part.map { self(Self.key($0), value) } ?? value, isolate(self.digits(low)), isolate(self.digits(high)))
        case .json: return self(.ruleJSON)
        case .noRecord: return self(.ruleNoRecord, field) + detail
        case .exists: return self(.ruleExists, field) + detail
        case .versionMoved: return self(.ruleVersionMoved)
        case .stillNamed: return self(.ruleStillNamed) + detail
        case .unknownReference: return self(.ruleUnknownReference, field) + detail
        case .notBefore(let start): return self(.ruleNotBefore, field, other(start))
        case .notAfter(let end): return self(.ruleNotAfter, field, other(end))
        case .differs(let from): return self(.ruleDiffers, field, other(from))
        case .cycle: return self(.ruleCycle, field)
        case .move(let from, let allowed, let got):
            if allowed.isEmpty { return self(.ruleMoveFinal, isolate(from)) }
            return self(.ruleMove, isolate(from), isolate(allowed.joined(separator: ", ")), isolate(got))
        case .unknownField(let allowed): return self(.ruleUnknownField, field, isolate(allowed.joined(separator: ", ")))
        }
    }

    /// What an error's code means, for a person who reads no English: said before the
    /// service's message where no rule says more.
    public func meaning(of code: ErrorCode) -> String {
        switch code {
        case .badRequest: self(.codeBadRequest)
        case .unauthorized: self(.codeUnauthorized)
        case .forbidden: self(.codeForbidden)
        case .notFound: self(.codeNotFound)
        case .conflict: self(.codeConflict)
        case .tooLarge: self(.codeTooLarge)
        case .rateLimited: self(.codeRateLimited)
        case .unavailable: self(.codeUnavailable)
        case .deadlineExceeded: self(.codeDeadlineExceeded)
        default: self(.codeInternal)
        }
    }

    /// A refused field as a person reads it: `body.rows[3].partner` as `rows[3].partner`.
    static func fieldName(_ path: String?) -> String {
        guard let path else { return "body" }
        return path.hasPrefix("body.") ? String(path.dropFirst(5)) : path
    }

    static func key(_ form: Rule.Form) -> Key {
        switch form {
        case .countryCode: .formCountryCode
        case .regionCode: .formRegionCode
        case .slug: .formSlug
        case .decimal: .formDecimal
        case .date: .formDate
        case .day: .formDay
        case .month: .formMonth
        case .period: .formPeriod
        case .commodity: .formCommodity
        case .languageCode: .formLanguageCode
        case .cursor: .formCursor
        case .watchCursor: .formWatchCursor
        }
    }

    static func key(_ part: Rule.Part) -> Key {
        switch part {
        case .year: .partYear
        case .month: .partMonth
        case .day: .partDay
        }
    }

    static func key(_ type: Rule.ValueType) -> Key {
        switch type {
        case .string: .typeString
        case .integer: .typeInteger
        case .number: .typeNumber
        case .boolean: .typeBoolean
        case .array: .typeArray
        case .object: .typeObject
        }
    }
}
