/// What the record store refuses, in the store's own terms: which rule of records a write or a
/// read met, the record field it concerns (as the record names it: `id`, `version`,
/// `rows[3].partner`) and a message for people. It says nothing of the wire: `WireErrors` (the
/// one boundary) gives each reason its code and each field its place in the request.
public struct RecordError: Error, Sendable, Hashable, CustomStringConvertible {
    public enum Reason: String, Sendable, Hashable, CaseIterable {
        /// No record has the key.
        case notFound = "not_found"
        /// A create of a key that is taken.
        case exists
        /// The record is not at the version the write was based on, or moved while it was written.
        case versionMoved = "version_moved"
        /// A delete while records (here or in another service) still name the record, or while
        /// another delete of it is under way.
        case stillNamed = "still_named"
        /// A batch names a key that is stored with other content.
        case differsFromStored = "differs_from_stored"
        /// A record names another that does not exist.
        case unknownReference = "unknown_reference"
        /// A change would move the record to another key.
        case keyChanged = "key_changed"
        /// An idempotency key used before for another request.
        case idempotencyKeyReused = "idempotency_key_reused"
        /// A row of a batch its kind refuses, or a key twice in one batch.
        case invalidRow = "invalid_row"
        /// What the record names in another service was checked too long before the write
        /// could commit, or nobody can be asked: nothing was written, and the write may be sent
        /// again.
        case notConfirmed = "not_confirmed"
        /// A position past the end of the change feed: a cursor this store never gave out.
        case pastTheEnd = "past_the_end"
        /// A kind's declaration does not hold (a filter or a remote kind it does not declare):
        /// a defect, not the caller's doing.
        case misdeclared
    }

    public var reason: Reason
    public var message: String
    /// The record field at fault, as the record names it; nil for the record as a whole.
    public var field: String?

    public init(_ reason: Reason, _ message: String, field: String? = nil) {
        (self.reason, self.message, self.field) = (reason, message, field)
    }

    public var description: String { "\(self.reason.rawValue): \(self.message)" + (self.field.map { " (\($0))" } ?? "") }
}
