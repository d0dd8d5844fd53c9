/// Where an instrument stands, as a graph of states with the moves allowed from each
/// (OpenSlides' motion workflow): a change of status is a move along an edge, made by
/// `agreements.instruments.transition`; an admin may move outside the graph, and that is kept
/// in the history as forced. Shared: the console offers only the moves allowed.
public enum InstrumentStatus: String, Codable, Sendable, CaseIterable, Comparable {
    /// Recorded at a session (a review, a statement) with no commitment stated yet.
    case recorded
    case proposed
    case underNegotiation = "under-negotiation"
    case signed
    case inForce = "in-force"
    case suspended
    case completed
    case expired
    case withdrawn
    case rejected
    case terminated

    /// The moves allowed from each state. Withdrawn and rejected end a proposal or a
    /// negotiation; suspended and terminated apply only to what is in force; completed and
    /// expired end what was in force.
    public var next: [InstrumentStatus] {
        switch self {
        case .recorded: [.proposed, .underNegotiation, .completed, .withdrawn]
        case .proposed: [.underNegotiation, .signed, .rejected, .withdrawn]
        case .underNegotiation: [.proposed, .signed, .rejected, .withdrawn]
        case .signed: [.inForce, .withdrawn]
        case .inForce: [.suspended, .completed, .expired, .terminated]
        case .suspended: [.inForce, .terminated, .expired]
        case .completed, .expired, .withdrawn, .rejected, .terminated: []
        }
    }

    public var isFinal: Bool { self.next.isEmpty }

    /// The decision for a move: allowed along an edge; refused otherwise, saying what is allowed.
    public enum Decision: Equatable {
        case allowed
        case forced
        case refused(String)
    }

    /// Whether `self` may move to `target`; `force` (an admin's) allows any move but to itself.
    public func move(to target: InstrumentStatus, force: Bool) -> Decision {
        if target == self { return .refused("the instrument is already \(self.rawValue)") }
        if self.next.contains(target) { return .allowed }
        if force { return .forced }
        let allowed = self.next.map(\.rawValue)
        return .refused(
            allowed.isEmpty
                ? "\(self.rawValue) is final: no move is allowed from it"
                : "from \(self.rawValue) an instrument may move to \(allowed.joined(separator: ", ")); not \(target.rawValue)"
        )
    }

    public static func < (lhs: InstrumentStatus, rhs: InstrumentStatus) -> Bool {
        Self.allCases.firstIndex(of: lhs)! < Self.allCases.firstIndex(of: rhs)!
    }
}
