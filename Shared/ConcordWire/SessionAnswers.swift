/// The answers a session brief is made of, declared once: each service encodes them over its
/// own records, whole; a reader (the gateway's brief, the CLI, the console) decodes them over the
/// fields it shows. A changed envelope breaks the build of every side.

/// `participants.sessions.overview`: a session (with its co-chairs) and everyone who attended.
public struct SessionOverview<Session: Sendable, Attendance: Sendable, Official: Sendable>: Sendable {
    public var session: Session
    public var attendees: [Attendee<Attendance, Official>]

    public init(session: Session, attendees: [Attendee<Attendance, Official>]) {
        (self.session, self.attendees) = (session, attendees)
    }
}

extension SessionOverview: Encodable where Session: Encodable, Attendance: Encodable, Official: Encodable {}
extension SessionOverview: Decodable where Session: Decodable, Attendance: Decodable, Official: Decodable {}

/// An attendance record with the official it names (`participants.sessions.attendees` lists them).
public struct Attendee<Attendance: Sendable, Official: Sendable>: Sendable {
    public var attendance: Attendance
    public var official: Official

    public init(attendance: Attendance, official: Official) {
        (self.attendance, self.official) = (attendance, official)
    }
}

extension Attendee: Encodable where Attendance: Encodable, Official: Encodable {}
extension Attendee: Decodable where Attendance: Decodable, Official: Decodable {}

/// `agreements.followup {session, asOf?}`: what a session proposed or agreed and where each item
/// stands, the session's own actions, the obstacles raised there, and what checks the items'
/// indicators bound to a trade series.
public struct SessionFollowUp<Instrument: Sendable, Action: Sendable, Obstacle: Sendable, Indicator: Sendable>: Sendable {
    /// An instrument of the session with its open and overdue actions, the unresolved obstacles
    /// blocking it, and its indicators.
    public struct Item: Sendable {
        public var instrument: Instrument
        public var openActions: [Action]
        public var overdueActions: [Action]
        public var blockingObstacles: [Obstacle]
        public var indicators: [Indicator]

        public init(instrument: Instrument, openActions: [Action], overdueActions: [Action], blockingObstacles: [Obstacle], indicators: [Indicator]) {
            (self.instrument, self.openActions, self.overdueActions) = (instrument, openActions, overdueActions)
            (self.blockingObstacles, self.indicators) = (blockingObstacles, indicators)
        }
    }

    public var session: Int64
    public var asOf: String
    public var items: [Item]
    /// Actions the session decided that belong to no instrument.
    public var sessionActions: [Action]
    /// Obstacles raised at the session.
    public var obstacles: [Obstacle]
    /// What checks the items' indicators bound to a trade series (the session brief asks
    /// trade-metrics each question); absent when none is.
    public var indicatorChecks: [IndicatorCheck]?

    public init(session: Int64, asOf: String, items: [Item], sessionActions: [Action], obstacles: [Obstacle], indicatorChecks: [IndicatorCheck]?) {
        (self.session, self.asOf, self.items) = (session, asOf, items)
        (self.sessionActions, self.obstacles, self.indicatorChecks) = (sessionActions, obstacles, indicatorChecks)
    }
}

extension SessionFollowUp: Encodable where Instrument: Encodable, Action: Encodable, Obstacle: Encodable, Indicator: Encodable {}
extension SessionFollowUp: Decodable where Instrument: Decodable, Action: Decodable, Obstacle: Decodable, Indicator: Decodable {}
extension SessionFollowUp.Item: Encodable where Instrument: Encodable, Action: Encodable, Obstacle: Encodable, Indicator: Encodable {}
extension SessionFollowUp.Item: Decodable where Instrument: Decodable, Action: Decodable, Obstacle: Decodable, Indicator: Decodable {}

/// A part of an answer a reader does not read: decoded from any object, keeping nothing.
public struct Unread: Decodable, Sendable {
    public init(from decoder: any Decoder) throws {}
}
