/// One committed write as `SERVICE.changes` answers it (and, later, `watch` pushes it): what
/// changed, how, by whom and when, and the cursor that resumes right after it.
public struct Change: Codable, Sendable, Equatable {
    /// `SERVICE:POSITION`: ask again with `after` set to it for every later change.
    public var cursor: String
    public var service: String
    /// The record's kind (its table: `actions`) and key.
    public var kind: String
    public var key: String
    /// create, update, delete, or change (a kind's own verb: a transition, a progress update).
    public var operation: String
    public var versionBefore: Int64?
    public var versionAfter: Int64?
    public var verb: String
    public var actor: String
    public var actorRole: String?
    /// When the write was made, ISO 8601 with milliseconds (UTC).
    public var at: String
    public var traceID: String?

    public init(
        cursor: String, service: String, kind: String, key: String, operation: String, versionBefore: Int64?, versionAfter: Int64?,
        verb: String, actor: String, actorRole: String?, at: String, traceID: String?
    ) {
        self.cursor = cursor
        self.service = service
        self.kind = kind
        self.key = key
        self.operation = operation
        self.versionBefore = versionBefore
        self.versionAfter = versionAfter
        self.verb = verb
        self.actor = actor
        self.actorRole = actorRole
        self.at = at
        self.traceID = traceID
    }
}

/// The answer of `SERVICE.changes`: the changes after the cursor asked for, oldest first, and
/// the cursor to ask with next (the last change's, or the one given when there is none yet).
public struct ChangesPage: Codable, Sendable, Equatable {
    public var items: [Change]
    public var cursor: String
    /// Whether more changes were already committed past this page.
    public var more: Bool

    public init(items: [Change], cursor: String, more: Bool) {
        self.items = items
        self.cursor = cursor
        self.more = more
    }
}

/// A change feed's position, written `SERVICE:POSITION` (`agreements:42`): a cursor names its
/// service, so one from another service is refused rather than misread.
public struct FeedCursor: Sendable, Hashable, CustomStringConvertible {
    public var service: String
    public var position: Int64

    public init(service: String, position: Int64) {
        self.service = service
        self.position = position
    }

    /// Parses a cursor; nil when it is not `SERVICE:POSITION` with a non-negative position.
    public init?(parsing text: String) {
        guard let colon = text.lastIndex(of: ":"), colon != text.startIndex,
              let position = Int64(text[text.index(after: colon)...]), position >= 0,
              text[text.index(after: colon)...].allSatisfy(\.isASCII)
        else { return nil }
        self.service = String(text[..<colon])
        self.position = position
    }

    public var description: String { "\(self.service):\(self.position)" }
}
