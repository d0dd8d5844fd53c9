import ConcordFields
import ConcordProtocol
import ConcordRecords
import ConcordStorage

/// One session of the committee. Co-chairs are the attendees with role `co-chair`; `sessions.get`
/// lists them.
struct CommitteeSession: StoredRecord, Equatable {
    var number: Int64
    /// As precise as reporting allows: 2025, 2025-12 or 2025-12-10.
    var startDate: String
    var endDate: String?
    var city: String
    var hostCountry: String
    var summary: String?
    var source: String?
    var coChairs: [String]?
    var version: Int64?
    var createdAt: String?
    var updatedAt: String?

    enum CodingKeys: String, CodingKey, CaseIterable {
        case number, startDate, endDate, city, hostCountry, summary, source, coChairs, version, createdAt, updatedAt
    }

    static let table = "sessions"
    /// Agreements and trade-metrics name them: a delete asks them first.
    static let namedByOtherServices = true
    static let noun = "session"
    static let keyField = "number"
    static let keyIsInteger = true
    static let filters: [RecordFilter] = [.country("hostCountry", "host_country"), .column("year", isInteger: true)]
    static let referencedBy = [IncomingReference(table: "attendance", column: "session", nouns: "attendance records")]
    /// Derived on read from attendance; never stored.
    static let serviceFields: Set<String> = ["coChairs"]
    static let decoratesOnRead = true

    /// A session shows its co-chairs: the attendees with role `co-chair`.
    static func decorate(_ session: CommitteeSession, using store: RecordStore) async throws -> CommitteeSession {
        var session = session
        session.coChairs = Self.coChairs(among: try await store.all(Attendance.self, where: ["session": .integer(session.number), "role": "co-chair"]))
        return session
    }

    /// The co-chairs among a session's attendance, in order.
    static func coChairs(among attendance: [Attendance]) -> [String] {
        attendance.filter { $0.role == "co-chair" }.map(\.official).sorted()
    }

    var key: SQLValue { .integer(self.number) }
    var columns: [(String, SQLValue)] {
        [("host_country", .text(self.hostCountry)), ("year", .integer(Int64(self.startDate.prefix(4)) ?? 0))]
    }
    var searchText: String { [String(self.number), self.city, self.summary ?? ""].joined(separator: " ").lowercased() }
    var references: [OutgoingReference] {
        [.to(Country.self, field: "hostCountry", .text(self.hostCountry))]
    }

    func normalised(isNew: Bool) throws(ConcordError) -> CommitteeSession {
        var record = self
        try FieldRules.sessionNumber(self.number, field: "number")
        let start = try PartialDate(parsing: self.startDate, field: "startDate")
        record.startDate = start.description
        if let endText = self.endDate, !endText.isEmpty {
            let end = try PartialDate(parsing: endText, field: "endDate")
            guard end >= start else {
                throw ConcordError(.badRequest, "endDate \(end) is before startDate \(start)", field: "endDate", rule: .notBefore(other: "startDate"))
            }
            record.endDate = end.description
        } else {
            record.endDate = nil
        }
        record.city = try FieldRules.text(self.city, field: "city")
        record.hostCountry = try FieldRules.countryCode(self.hostCountry, field: "hostCountry")
        record.summary = try FieldRules.optionalText(self.summary, field: "summary", max: 4000)
        record.source = try FieldRules.optionalText(self.source, field: "source", max: 1000)
        // Derived on read from attendance; never stored.
        record.coChairs = nil
        return record
    }
}
