import ConcordWire
import ConcordFields
import ConcordProtocol
import ConcordRecords
import ConcordServer
import ConcordStorage

/// The agreements service's own verbs: moving an instrument's status, recording an action's
/// progress, and the follow-up questions (what is overdue, where a session's items stand).
struct FollowUp: Sendable {
    let store: RecordStore
    let today: @Sendable () -> String

    // MARK: Writes

    /// `agreements.instruments.transition {id, version, to, date, note?, source?, force?}`.
    func transition(_ body: JSONObject, context: RequestContext) async throws -> Instrument {
        try RecordBody.checkFields(body, allowed: ["id", "version", "to", "date", "note", "source", "force"])
        let key = try RecordBody.key(Instrument.self, in: body)
        let version = try RecordBody.version(in: body, required: true)!
        guard let toText = try RecordBody.string("to", in: body) else {
            throw ConcordError(.badRequest, "to is required: the status to move to", field: "to", rule: .required)
        }
        let target = try FieldRules.oneOf(toText, InstrumentStatus.self, field: "to")
        guard let dateText = try RecordBody.string("date", in: body) else {
            throw ConcordError(.badRequest, "date is required: when the move happened (YYYY, YYYY-MM or YYYY-MM-DD)", field: "date", rule: .required)
        }
        let date = try PartialDate(parsing: dateText, field: "date").description
        let note = try FieldRules.optionalText(try RecordBody.string("note", in: body), field: "note", max: 2000)
        let source = try FieldRules.optionalText(try RecordBody.string("source", in: body), field: "source", max: 1000)
        let force: Bool
        switch body["force"] {
        case nil, .null?: force = false
        case .bool(let value)?: force = value
        default: throw ConcordError(.badRequest, "force must be true or false", field: "force", rule: .type(expected: .boolean))
        }
        let write = WriteContext(context)
        if force, write.actor.role != "admin" {
            throw ConcordError(.forbidden, "only an admin may move an instrument outside its workflow (force)", field: "force")
        }
        let at = self.store.now()
        var change = body
        change["version"] = nil
        return try await self.store.change(Instrument.self, key: key, expectedVersion: version, change: .object(change), context: write) { document in
            var instrument = try RecordBody.record(Instrument.self, from: document)
            let current = try FieldRules.oneOf(instrument.status, InstrumentStatus.self, field: "status")
            let decision = current.move(to: target, force: force)
            if case .refused(let reason) = decision {
                throw ConcordError(
                    .badRequest, reason, field: "to",
                    rule: .move(from: current.rawValue, allowed: current.next.map(\.rawValue), got: target.rawValue)
                )
            }
            instrument.status = target.rawValue
            switch target {
            case .signed where instrument.signed == nil: instrument.signed = date
            case .inForce where instrument.inForce == nil: instrument.inForce = date
            case .proposed where instrument.proposed == nil: instrument.proposed = date
            default: break
            }
            instrument.history = (instrument.history ?? []) + [Instrument.Transition(
                from: current.rawValue, to: target.rawValue, date: date, note: note, source: source,
                by: write.actor.name, at: at, forced: decision == .forced ? true : nil
            )]
            return instrument
        }
    }

    /// `agreements.actions.progress {id, version, progress, date, status?, note?, source?}`:
    /// appends a dated update to the action's timeline.
    func progress(_ body: JSONObject, context: RequestContext) async throws -> Action {
        try RecordBody.checkFields(body, allowed: ["id", "version", "progress", "date", "status", "note", "source"])
        let key = try RecordBody.key(Action.self, in: body)
        let version = try RecordBody.version(in: body, required: true)!
        guard case .integer(let progress)? = body["progress"], (0...100).contains(progress) else {
            throw ConcordError(.badRequest, "progress is required: a percentage from 0 to 100", field: "progress", rule: .required)
        }
        guard let dateText = try RecordBody.string("date", in: body) else {
            throw ConcordError(.badRequest, "date is required: when the progress was reported", field: "date", rule: .required)
        }
        let date = try PartialDate(parsing: dateText, field: "date").description
        let status = try (try RecordBody.string("status", in: body)).map { text throws(ConcordError) in
            try FieldRules.oneOf(text, Action.Status.self, field: "status").rawValue
        }
        let note = try FieldRules.optionalText(try RecordBody.string("note", in: body), field: "note", max: 2000)
        let source = try FieldRules.optionalText(try RecordBody.string("source", in: body), field: "source", max: 1000)
        let children = try await self.store.all(Action.self, where: ["parent": key], limit: 1)
        guard children.isEmpty else {
            throw ConcordError(
                .badRequest, "the progress of action \(RecordStore.show(key)) is rolled up from its child actions; record progress on them",
                field: "id"
            )
        }
        let write = WriteContext(context)
        var change = body
        change["version"] = nil
        return try await self.store.change(Action.self, key: key, expectedVersion: version, change: .object(change), context: write) { document in
            var action = try RecordBody.record(Action.self, from: document)
            action.progress = Int(progress)
            if let status { action.status = status }
            action.timeline = (action.timeline ?? []) + [Action.ProgressUpdate(
                date: date, progress: Int(progress), status: status, note: note, source: source, by: write.actor.name
            )]
            return action
        }
    }

    // MARK: Reads

    typealias Overdue = OverdueActions<Action>

    /// `agreements.actions.overdue {asOf?, owner?, instrument?, sector?, limit?}`: actions whose
    /// due date has passed (a partial date is due at the end of its month or year) and that are
    /// neither done nor cancelled, oldest first.
    func overdue(_ body: JSONObject) async throws -> Overdue {
        try RecordBody.checkFields(body, allowed: ["asOf", "owner", "instrument", "sector", "limit"])
        let asOf = try self.asOf(body)
        let limit = try RecordBody.limit(in: body)
        var filters: [(RecordFilter, SQLValue)] = [(Action.overdueOn, .text(asOf))]
        for name in ["owner", "instrument"] {
            guard let value = try RecordBody.string(name, in: body) else { continue }
            let filter = Action.filters.first { $0.field == name }!
            filters.append((filter, .text(try filter.normalise?(value) ?? value)))
        }
        guard let sectorText = try RecordBody.string("sector", in: body) else {
            return Overdue(asOf: asOf, items: try await self.store.select(Action.self, filters: filters, order: Action.oldestDueFirst, limit: limit))
        }
        let sector = try FieldRules.oneOf(sectorText, Instrument.Sector.self, field: "sector").rawValue
        let instruments = Set(try await self.store.all(Instrument.self, where: ["sector": .text(sector)]).compactMap(\.id))
        let candidates = try await self.store.select(Action.self, filters: filters, order: Action.oldestDueFirst, limit: 5_000)
        return Overdue(asOf: asOf, items: Array(candidates.filter { $0.instrument.map(instruments.contains) ?? false }.prefix(limit)))
    }

    /// Everything overdue across sessions, by owner, and the obstacles that block the most.
    struct OverdueByOwner: Encodable, Sendable {
        struct Owner: Encodable, Sendable {
            /// The owner's kind and id, `official:kazem-jalali`.
            var owner: String
            var actions: [Action]
        }

        struct Blocking: Encodable, Sendable {
            var obstacle: Obstacle
            /// How many of the overdue actions name it.
            var blockedActions: Int
        }

        var asOf: String
        /// Owners with the most overdue actions first.
        var byOwner: [Owner]
        /// Every obstacle not resolved, those that block the most overdue actions first.
        var blockingMost: [Blocking]
    }

    /// The most overdue actions and obstacles `agreements.followup.all` weighs.
    static let followUpAllLimit = 500

    /// `agreements.followup.all {asOf?}`: the oldest overdue actions (at most 500) grouped by
    /// owner, and the unresolved obstacles by how many of them each blocks: what the gateway's
    /// `brief.followup` shows, joined here where both live.
    func overdueByOwner(_ body: JSONObject) async throws -> OverdueByOwner {
        try RecordBody.checkFields(body, allowed: ["asOf"])
        var overdueBody: JSONObject = ["limit": .integer(Int64(Self.followUpAllLimit))]
        overdueBody["asOf"] = body["asOf"]
        async let obstaclesRead = self.store.select(Obstacle.self, filters: [], order: nil, limit: Self.followUpAllLimit)
        let overdue = try await self.overdue(overdueBody)
        let grouped = Dictionary(grouping: overdue.items) { $0.owner.shown }
        let byOwner = grouped.map { OverdueByOwner.Owner(owner: $0.key, actions: $0.value) }
            .sorted { ($0.actions.count, $1.owner) > ($1.actions.count, $0.owner) }
        var counts: [String: Int] = [:]
        for action in overdue.items { for id in action.obstacles ?? [] { counts[id, default: 0] += 1 } }
        let blockingMost = try await obstaclesRead.filter { $0.status != Obstacle.Status.resolved.rawValue }
            .map { OverdueByOwner.Blocking(obstacle: $0, blockedActions: counts[$0.id ?? ""] ?? 0) }
            .sorted { ($0.blockedActions, $1.obstacle.id ?? "") > ($1.blockedActions, $0.obstacle.id ?? "") }
        return OverdueByOwner(asOf: overdue.asOf, byOwner: byOwner, blockingMost: blockingMost)
    }

    typealias SessionFollowUp = ConcordWire.SessionFollowUp<Instrument, Action, Obstacle, Indicator>

    /// `agreements.followup {session, asOf?}`: what session N proposed or agreed, and where each
    /// item stands now.
    func followUp(_ body: JSONObject) async throws -> SessionFollowUp {
        try RecordBody.checkFields(body, allowed: ["session", "asOf"])
        guard case .integer(let session)? = body["session"] else {
            throw ConcordError(.badRequest, "session is required: the session's number, e.g. 6", field: "session", rule: .required)
        }
        let asOf = try self.asOf(body)
        // Six reads side by side, whatever the number of instruments: the session's instruments,
        // the obstacles raised there, its actions, and the actions, obstacles and indicators of
        // all its instruments at once (asked an instrument at a time, these were three reads an
        // instrument, and their hops to the database's threads most of this verb's CPU).
        let store = self.store
        let ofItsInstruments: [(RecordFilter, SQLValue)] = [(Self.ofSessionInstruments, .integer(session))]
        let obstaclesOfItsInstruments: [(RecordFilter, SQLValue)] = [(Self.affectingSessionInstruments, .integer(session))]
        async let instrumentsRead = store.all(Instrument.self, where: ["session": .integer(session)])
        async let raisedRead = store.all(Obstacle.self, where: ["session": .integer(session)])
        async let sessionActionsRead = store.all(Action.self, where: ["session": .integer(session)])
        async let actionsRead = store.select(Action.self, filters: ofItsInstruments, order: nil, limit: Self.allOfASession)
        async let obstaclesRead = store.select(Obstacle.self, filters: obstaclesOfItsInstruments, order: nil, limit: Self.allOfASession)
        async let indicatorsRead = store.select(Indicator.self, filters: ofItsInstruments, order: nil, limit: Self.allOfASession)
        let instruments = try await instrumentsRead
        let raised = try await raisedRead
        let actionsByInstrument = Dictionary(grouping: try await actionsRead) { $0.instrument ?? "" }
        let obstaclesOfInstruments = try await obstaclesRead
        let indicatorsByInstrument = Dictionary(grouping: try await indicatorsRead) { $0.instrument ?? "" }
        // The obstacles open actions name that do not affect their instrument: one read for all.
        let isOpen = { (action: Action) in ![Action.Status.done.rawValue, Action.Status.cancelled.rawValue].contains(action.status) }
        let named = Set(actionsByInstrument.values.joined().filter(isOpen).flatMap { $0.obstacles ?? [] })
            .subtracting(obstaclesOfInstruments.compactMap(\.id))
        let obstaclesNamed = try await store.get(Obstacle.self, keys: named.map { .text($0) })
        var items: [SessionFollowUp.Item] = []
        for instrument in instruments {
            let id = instrument.id ?? ""
            let actions = actionsByInstrument[id] ?? []
            let open = actions.filter(isOpen)
            let overdue = open.filter { ($0.dueBy ?? "9999") < asOf }
            var blocking = obstaclesOfInstruments.filter { $0.affects?.instruments?.contains(id) ?? false }
            for obstacleID in Set(open.flatMap { $0.obstacles ?? [] }).sorted() where !blocking.contains(where: { $0.id == obstacleID }) {
                if let obstacle = obstaclesNamed[.text(obstacleID)] { blocking.append(obstacle) }
            }
            items.append(SessionFollowUp.Item(
                instrument: instrument, openActions: open, overdueActions: overdue,
                blockingObstacles: blocking.filter { $0.status != Obstacle.Status.resolved.rawValue },
                indicators: indicatorsByInstrument[id] ?? []
            ))
        }
        let sessionActions = try await sessionActionsRead.filter { $0.instrument == nil }
        // Nothing under the number: ask participants whether there is such a session at all, so
        // a mistyped number reads as not found, not as a session where nothing was agreed. (Only
        // an empty answer pays for the question; when participants cannot say, the answer stays.)
        if items.isEmpty, sessionActions.isEmpty, raised.isEmpty, let remote = store.remote {
            if (try? await remote.exists(.session(session, field: "session"))) == false {
                throw ConcordError(.notFound, "no session \(session)", field: "session", rule: .noRecord)
            }
        }
        let checks = items.flatMap(\.indicators).compactMap(\.check)
        return SessionFollowUp(
            session: session, asOf: asOf, items: items, sessionActions: sessionActions, obstacles: raised,
            indicatorChecks: checks.isEmpty ? nil : checks
        )
    }

    /// Rows whose instrument was proposed or agreed at session `?`.
    static let ofSessionInstruments = RecordFilter(
        field: "session", .namesRecordOf("instrument", table: "instruments", key: "id", where: "session"), isInteger: true
    )
    /// Obstacles affecting an instrument of session `?`.
    static let affectingSessionInstruments = RecordFilter(
        field: "session",
        .listNamesRecordOf("affected_instruments", table: "instruments", key: "id", where: "session"),
        isInteger: true
    )
    /// Enough for every row of a session's instruments (an instrument's were read up to
    /// `RecordBody.maximumLimit` each before).
    static let allOfASession = 100_000

    /// The day overdue is counted on: `asOf` (a full date) or today.
    private func asOf(_ body: JSONObject) throws(ConcordError) -> String {
        try RecordBody.day("asOf", in: body) ?? self.today()
    }
}
