/// What happened in a window, as `brief.digest` answers it: each service's part, computed by the
/// service that keeps the data (`agreements.digest`, `trade.digest`), and the parts that did not
/// come. Decidim's digests, for a secretariat: read once a week instead of one message a change.
public struct Digest: Codable, Sendable {
    public var brief = "digest"
    public var since: String
    public var until: String
    public var agreements: AgreementsDigest?
    public var trade: TradeDigest?
    public var missing: [MissingPart]

    public init(since: String, until: String, agreements: AgreementsDigest?, trade: TradeDigest?, missing: [MissingPart]) {
        (self.since, self.until, self.agreements) = (since, until, agreements)
        (self.trade, self.missing) = (trade, missing)
    }
}

/// `agreements.digest {since, until?}`: in the window, instruments that moved and to what,
/// progress recorded, actions that became overdue, obstacles raised and resolved.
public struct AgreementsDigest: Codable, Sendable, Equatable {
    /// A write of the window to a record, with who made it and when.
    public struct Entry: Codable, Sendable, Equatable {
        public var id: String
        public var title: String
        /// The title in other languages, where the record has it (an instrument's).
        public var localTitles: [String: String]?
        /// The instrument's new status; the obstacle's category.
        public var to: String?
        /// The progress recorded (0 to 100) and its note.
        public var progress: Int?
        public var note: String?
        /// The date the write says it happened (a transition's or progress update's), else nil.
        public var date: String?
        /// An action's due date and owner, for one that became overdue.
        public var due: String?
        public var owner: String?
        public var by: String?
        public var at: String?

        public init(
            id: String, title: String, localTitles: [String: String]? = nil, to: String? = nil, progress: Int? = nil, note: String? = nil, date: String? = nil,
            due: String? = nil, owner: String? = nil, by: String? = nil, at: String? = nil
        ) {
            (self.id, self.title, self.localTitles, self.to) = (id, title, localTitles, to)
            (self.progress, self.note, self.date, self.due) = (progress, note, date, due)
            (self.owner, self.by, self.at) = (owner, by, at)
        }
    }

    public var moved: [Entry]
    public var progress: [Entry]
    public var becameOverdue: [Entry]
    public var obstaclesRaised: [Entry]
    public var obstaclesResolved: [Entry]

    public init(moved: [Entry], progress: [Entry], becameOverdue: [Entry], obstaclesRaised: [Entry], obstaclesResolved: [Entry]) {
        (self.moved, self.progress, self.becameOverdue) = (moved, progress, becameOverdue)
        (self.obstaclesRaised, self.obstaclesResolved) = (obstaclesRaised, obstaclesResolved)
    }
}

/// `trade.digest {since, until?}`: the trade data imported in the window, by series, with the
/// months it covers.
public struct TradeDigest: Codable, Sendable, Equatable {
    public struct Published: Codable, Sendable, Equatable {
        public var reporter: String
        public var partner: String
        public var flow: String
        /// The first and last period of the rows imported (YYYY-MM, or a year).
        public var from: String
        public var to: String
        public var observations: Int

        public init(reporter: String, partner: String, flow: String, from: String, to: String, observations: Int) {
            (self.reporter, self.partner, self.flow) = (reporter, partner, flow)
            (self.from, self.to, self.observations) = (from, to, observations)
        }
    }

    public var published: [Published]

    public init(published: [Published]) {
        self.published = published
    }
}
