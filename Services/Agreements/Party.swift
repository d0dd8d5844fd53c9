import ConcordFields
import ConcordProtocol
import ConcordRecords
import ConcordStorage

/// Who takes part in an instrument, owns an action or raised an obstacle: exactly one of a
/// country, a region or an official (records participants keeps), or a named organisation.
struct PartyRef: Codable, Sendable, Hashable {
    var country: String?
    var region: String?
    var official: String?
    var organisation: String?

    /// Checks that exactly one is given and normalises it.
    func normalised(field: String) throws(ConcordError) -> PartyRef {
        let given = [self.country, self.region, self.official, self.organisation].compactMap { $0 }
        guard given.count == 1 else {
            throw ConcordError(.badRequest, "\(field) names exactly one of country, region, official or organisation; got \(given.count)", field: field)
        }
        var party = PartyRef()
        if let country { party.country = try FieldRules.countryCode(country, field: "\(field).country") }
        if let region { party.region = try FieldRules.regionCode(region, field: "\(field).region") }
        if let official { party.official = try FieldRules.slug(official, field: "\(field).official") }
        if let organisation { party.organisation = try FieldRules.text(organisation, field: "\(field).organisation", max: 300) }
        return party
    }

    /// `country:IR`, `region:IR-01`, `official:kazem-jalali`, `organisation:<name>`: one text
    /// for indexed columns and filters.
    var key: String {
        if let country { return "country:" + country }
        if let region { return "region:" + region }
        if let official { return "official:" + official }
        return "organisation:" + (self.organisation ?? "").lowercased()
    }

    /// `key` with an organisation's name as written: how a brief names an owner.
    var shown: String { self.organisation.map { "organisation:" + $0 } ?? self.key }

    var label: String { self.country ?? self.region ?? self.official ?? self.organisation ?? "" }

    /// The participants record it names, which must exist.
    func remoteReference(field: String) -> RemoteReference? {
        if let country { return .country(country, field: "\(field).country") }
        if let region { return .region(region, field: "\(field).region") }
        if let official { return .official(official, field: "\(field).official") }
        return nil
    }
}

extension RemoteKind {
    /// The participants kinds a party (a country, a region or an official) at each of `fields`
    /// names, and a session at each of `sessions`.
    static func parties(at fields: [String], sessions: [String] = []) -> [RemoteKind] {
        [
            .countries(at: fields.map { "\($0).country" }),
            .regions(at: fields.map { "\($0).region" }),
            .officials(at: fields.map { "\($0).official" }),
        ] + (sessions.isEmpty ? [] : [.sessions(at: sessions)])
    }
}

/// A dated, sourced entry in a record's history (a status change, a progress update).
struct SourcedDate: Codable, Sendable, Hashable {
    var date: String
    var source: String?
}

/// Text fields of lists kept as `|a|b|` columns, so one value matches exactly with LIKE.
func barList(_ values: [String]) -> String {
    "|" + values.joined(separator: "|") + "|"
}

/// A session number as the rules want it (`FieldRules.sessionNumber`), where there is one.
func sessionNumber(_ number: Int64?, field: String) throws(ConcordError) -> Int64? {
    try number.map { number throws(ConcordError) in try FieldRules.sessionNumber(number, field: field) }
}
