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
        (self.cursor, self.service, self.kind, self.key, self.operation) = (cursor, service, kind, key, operation)
        (self.versionBefore, self.versionAfter, self.verb) = (versionBefore, versionAfter, verb)
        (self.actor, self.actorRole, self.at, self.traceID) = (actor, actorRole, at, traceID)
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
        (self.items, self.cursor, self.more) = (items, cursor, more)
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

/// Where a watch stands in every service it follows, written `participants:12,agreements:40`
/// (each service's feed cursor, comma-separated): what `watch` takes as `after` and gives with
/// every event, so a watcher that reconnects with the last one it saw misses nothing.
public struct WatchCursor: Sendable, Equatable, CustomStringConvertible {
    public var positions: [String: Int64]

    public init(positions: [String: Int64] = [:]) {
        self.positions = positions
    }

    /// Nil when a part is not `SERVICE:POSITION` or a service is named twice.
    public init?(parsing text: String) {
        var positions: [String: Int64] = [:]
        for part in text.split(separator: ",", omittingEmptySubsequences: false) {
            guard let cursor = FeedCursor(parsing: String(part)), positions[cursor.service] == nil else { return nil }
            positions[cursor.service] = cursor.position
        }
        self.positions = positions
    }

    public var description: String {
        self.positions.sorted { $0.key < $1.key }.map { "\($0.key):\($0.value)" }.joined(separator: ",")
    }
}

/// One item of a `watch` stream: `start` (where it starts, first), a `change`, or word that a
/// service cannot be asked for now (`unavailable`; the watch keeps asking it and misses nothing).
public struct WatchEvent: Codable, Sendable, Equatable {
    public var type: String
    public var change: Change?
    public var service: String?
    public var message: String?
    /// Where the watch stands once this event is seen: `after` for a watch that resumes.
    public var cursor: String

    public init(type: String, change: Change? = nil, service: String? = nil, message: String? = nil, cursor: String) {
        (self.type, self.change, self.service) = (type, change, service)
        (self.message, self.cursor) = (message, cursor)
    }
}

/// The final answer of a `watch`: where to resume, and why it ended. `resync` is true when the
/// watcher read too slowly and the gateway stopped rather than buffer more for it.
public struct WatchEnd: Codable, Sendable, Equatable {
    public var cursor: String
    public var resync: Bool
    public var reason: String

    public init(cursor: String, resync: Bool, reason: String) {
        (self.cursor, self.resync, self.reason) = (cursor, resync, reason)
    }
}

extension Change {
    /// The change as JSON with its keys in order, byte for byte what `JSONEncoder` writes with
    /// `.sortedKeys` and `.withoutEscapingSlashes`, written by hand: the gateway writes one for
    /// every change it hands to its watchers, between a commit and the watchers hearing of it,
    /// and the encoder cost ten times this. Nil when a text has a control character, which the
    /// encoder escapes its own way: encode that change with the encoder.
    public func sortedJSON() -> [UInt8]? {
        guard !SortedJSONWriter.needsEncoder([self.actor, self.actorRole, self.at, self.cursor, self.key, self.kind, self.operation,
                                              self.service, self.traceID, self.verb])
        else { return nil }
        var json = SortedJSONWriter(capacity: 320)
        json.add("actor", self.actor)
        json.add("actorRole", self.actorRole)
        json.add("at", self.at)
        json.add("cursor", self.cursor)
        json.add("key", self.key)
        json.add("kind", self.kind)
        json.add("operation", self.operation)
        json.add("service", self.service)
        json.add("traceID", self.traceID)
        json.add("verb", self.verb)
        json.add("versionAfter", self.versionAfter)
        json.add("versionBefore", self.versionBefore)
        return json.finish()
    }
}
