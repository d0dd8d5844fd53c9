import ConcordWire
import Testing

/// The status graph as a pure value: every pair of statuses, allowed or refused.
@Suite("Instrument status graph")
struct InstrumentStatusTests {
    static let allowed: [InstrumentStatus: Set<InstrumentStatus>] = [
        .recorded: [.proposed, .underNegotiation, .completed, .withdrawn],
        .proposed: [.underNegotiation, .signed, .rejected, .withdrawn],
        .underNegotiation: [.proposed, .signed, .rejected, .withdrawn],
        .signed: [.inForce, .withdrawn],
        .inForce: [.suspended, .completed, .expired, .terminated],
        .suspended: [.inForce, .terminated, .expired],
        .completed: [], .expired: [], .withdrawn: [], .rejected: [], .terminated: [],
    ]

    @Test(arguments: InstrumentStatus.allCases)
    func everyMoveFrom(status: InstrumentStatus) {
        for target in InstrumentStatus.allCases {
            let decision = status.move(to: target, force: false)
            if Self.allowed[status]!.contains(target) {
                #expect(decision == .allowed, "\(status) -> \(target)")
            } else {
                guard case .refused(let reason) = decision else {
                    Issue.record("\(status) -> \(target) was not refused")
                    continue
                }
                if target != status, !status.isFinal {
                    // The refusal says which moves are allowed.
                    for next in status.next { #expect(reason.contains(next.rawValue), "\(reason)") }
                }
            }
            let forced = status.move(to: target, force: true)
            if target == status {
                #expect(forced != .allowed && forced != .forced, "no move to itself, forced or not")
            } else {
                #expect(forced == (Self.allowed[status]!.contains(target) ? .allowed : .forced))
            }
        }
    }

    @Test func finalStatesSayTheyAreFinal() {
        for status in InstrumentStatus.allCases where Self.allowed[status]!.isEmpty {
            #expect(status.isFinal)
            guard case .refused(let reason) = status.move(to: .proposed, force: false) else {
                Issue.record("\(status) moved")
                continue
            }
            #expect(reason.contains("final"))
        }
    }
}
