import ConcordProtocol
import ConcordRecords
import ConcordStorage
import ConcordWire

/// `trade.digest {since, until?}`: the trade data imported in a window, both days included, by
/// series (reporter, partner, flow) with the months its rows cover.
struct TradeDigesting: Sendable {
    let store: RecordStore

    func digest(_ body: JSONObject) async throws -> TradeDigest {
        try RecordBody.checkFields(body, allowed: ["since", "until"])
        guard let since = try RecordBody.day("since", in: body) else {
            throw ConcordError(.badRequest, "since is required: the first day of the digest, YYYY-MM-DD", field: "since", rule: .required)
        }
        let until = try RecordBody.day("until", in: body) ?? "9999-12-31"
        guard since <= until else { throw ConcordError(.badRequest, "since (\(since)) is after until (\(until))", field: "since", rule: .notAfter(other: "until")) }
        // `created_at` is when a row was imported (ISO 8601): the window's last day is whole.
        let rows = try await self.store.database.read { session in
            try await session.query(
                """
                SELECT reporter, partner, flow, MIN(period) AS first, MAX(period) AS last, COUNT(*) AS n FROM observations
                WHERE created_at >= $1 AND created_at <= $2 GROUP BY reporter, partner, flow ORDER BY reporter, partner, flow
                """,
                [.text(since), .text(until + "T23:59:59.999Z")]
            )
        }
        return TradeDigest(published: try rows.map { row in
            TradeDigest.Published(
                reporter: try row.text("reporter"), partner: try row.text("partner"), flow: try row.text("flow"),
                from: try row.text("first"), to: try row.text("last"), observations: Int(try row.integer("n"))
            )
        })
    }
}
