import ConcordPool
import ConcordProtocol
import ConcordServer
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import NIOCore
import ConcordWire

/// The verbs the gateway answers by combining services: `brief.session`, `brief.region` and
/// `brief.followup`. Each asks its services in parallel, within what is left of the request's
/// deadline, as the token's holder and under the request's trace; the answer holds each part as
/// its service answered it (bodies stay bytes), and `missing` names every part that failed or
/// was late, with its service and error. It never waits past the deadline.
struct Briefs: Sendable {
    let pools: [String: ServicePool]

    /// One question to one service.
    struct Part: Sendable {
        var name: String
        var service: String
        var verb: String
        var body: String
        /// The fields of the brief this part's answer (a JSON object) holds, written into the
        /// brief as they are; empty: the answer is the field `name`.
        var fields: [String] = []
    }

    /// Time kept back from each part's deadline so the combined answer is written before the
    /// request's own deadline fires (50 ms was too little on a loaded two-core machine: the
    /// answer of an 800 ms brief once arrived after its caller had given up).
    static let margin: Duration = .milliseconds(100)

    /// Asks every part at once; returns each part's answer body, or why it is missing. Returns
    /// at the deadline at the latest: a part still out then is missing as `deadline_exceeded`
    /// (its call goes on and its answer is dropped).
    ///
    /// The calls are forwarded and gathered on the request's event loop, as the gateway forwards
    /// a single request: no task a part and no stream, which cost a brief more than its own work.
    func ask(
        _ parts: [Part], context: RequestContext, actor: (name: String, role: String)?
    ) async -> (answers: [String: ByteBuffer], missing: [MissingPart]) {
        guard !parts.isEmpty else { return ([:], []) }
        let until = context.deadline - TimeAmount(Self.margin)
        let metadata = Metadata(trace: context.metadata.trace)
        let pools = self.pools
        let eventLoop = context.eventLoop
        return await withCheckedContinuation { continuation in
            eventLoop.execute {
                let gathering = NIOLoopBound(Gathering(parts: parts, continuation: continuation), eventLoop: eventLoop)
                let timer = eventLoop.scheduleTask(deadline: until) { gathering.value.deadlinePassed() }
                gathering.value.timer = timer
                for part in parts {
                    guard let pool = pools[part.service] else {
                        gathering.value.answered(part.name, .failure(MissingPart(
                            part: part.name, service: part.service, code: ErrorCode.unavailable.wire,
                            message: "no route to \(part.service) behind this gateway"
                        )))
                        continue
                    }
                    // Every part is a read (a brief writes nothing): another replica may be asked.
                    let request = Request(id: "brief", verb: part.verb, metadata: metadata, body: ByteBuffer(string: part.body))
                    pool.forward(request, kind: .read, actor: actor, deadline: until, eventLoop: eventLoop) { result in
                        // Forwarding answers on the loop it was given.
                        eventLoop.assertInEventLoop()
                        gathering.value.answered(part.name, result.mapError { error in
                            MissingPart(part: part.name, service: part.service, code: error.code.wire, message: error.message)
                        })
                    }
                }
            }
        }
    }

    /// The answers of one `ask` as they come, on the request's event loop; resumes its caller
    /// once, when every part has answered or the deadline has passed.
    private final class Gathering {
        let parts: [Part]
        var pending: Set<String>
        var answers: [String: ByteBuffer] = [:]
        var missing: [MissingPart] = []
        var continuation: CheckedContinuation<(answers: [String: ByteBuffer], missing: [MissingPart]), Never>?
        var timer: Scheduled<Void>?

        init(parts: [Part], continuation: CheckedContinuation<(answers: [String: ByteBuffer], missing: [MissingPart]), Never>) {
            self.parts = parts
            self.pending = Set(parts.map(\.name))
            self.continuation = continuation
        }

        func answered(_ name: String, _ result: Result<ByteBuffer, MissingPart>) {
            guard self.pending.remove(name) != nil else { return }
            switch result {
            case .success(let body): self.answers[name] = body
            case .failure(let failure): self.missing.append(failure)
            }
            if self.pending.isEmpty { self.finish() }
        }

        func deadlinePassed() {
            for part in self.parts where self.pending.contains(part.name) {
                self.missing.append(MissingPart(part: part.name, service: part.service, code: ErrorCode.deadlineExceeded.wire,
                                            message: "\(part.service) did not answer \(part.verb) before the deadline"))
            }
            self.pending.removeAll()
            self.finish()
        }

        private func finish() {
            self.timer?.cancel()
            self.timer = nil
            self.continuation?.resume(returning: (self.answers, self.missing.sorted { $0.part < $1.part }))
            self.continuation = nil
        }
    }

    /// `{"<part>": <its answer>, ..., "missing": [...]}` with `fields` first; a missing part is null.
    static func compose(
        fields: [(String, String)], parts: [Part], answers: [String: ByteBuffer], missing: [MissingPart], allocator: ByteBufferAllocator
    ) throws -> ByteBuffer {
        var out = allocator.buffer(capacity: 4096)
        out.writeString("{")
        var first = true
        func key(_ name: String) {
            if !first { out.writeString(",") }
            first = false
            JSONString.write(name, into: &out)
            out.writeString(":")
        }
        for (name, json) in fields {
            key(name)
            out.writeString(json)
        }
        for part in parts {
            if part.fields.isEmpty {
                key(part.name)
                if var body = answers[part.name] { out.writeBuffer(&body) } else { out.writeString("null") }
            } else if let body = answers[part.name], let members = Self.members(of: body) {
                if !first { out.writeString(",") }
                first = false
                out.writeBytes(members)
            } else {
                for field in part.fields {
                    key(field)
                    out.writeString("null")
                }
            }
        }
        key("missing")
        var list = try JSONBody.encode(missing)
        out.writeBuffer(&list)
        out.writeString("}")
        return out
    }

    /// The bytes between an object's braces (`"a":1,"b":2`), or nil if the body is not a
    /// non-empty object.
    static func members(of body: ByteBuffer) -> ByteBufferView? {
        let view = body.readableBytesView
        let isSpace: (UInt8) -> Bool = { $0 == 0x20 || $0 == 0x0A || $0 == 0x0D || $0 == 0x09 }
        guard let open = view.firstIndex(where: { !isSpace($0) }), view[open] == UInt8(ascii: "{"),
              let close = view.lastIndex(where: { !isSpace($0) }), view[close] == UInt8(ascii: "}"), close > open + 1
        else { return nil }
        return view[(open + 1)..<close]
    }

    // MARK: The briefs

    /// `brief.session {number}`: the session, its co-chairs and attendees; what it proposed or
    /// agreed and where each item stands, with open and overdue actions and blocking obstacles;
    /// and every figure stated there beside what the data say.
    func session(_ request: Request, context: RequestContext, actor: (name: String, role: String)?) async throws -> ByteBuffer {
        struct Body: Decodable { var number: Int }
        let number = try Self.decode(Body.self, request.body, example: #"{"number":6}"#).number
        let parts = [
            Part(name: "session", service: "participants", verb: "participants.sessions.overview", body: #"{"number":\#(number)}"#,
                 fields: ["session", "attendees"]),
            Part(name: "followup", service: "agreements", verb: "agreements.followup", body: #"{"session":\#(number)}"#),
            Part(name: "trade", service: "trade", verb: "trade.headline", body: #"{"session":\#(number)}"#),
        ]
        // The follow-up goes on its own: the questions that check its indicators bound to a trade
        // series (agreements says which) go to trade-metrics as soon as it answers, while the
        // other parts are still on their way (not after the slowest of them).
        async let others = self.ask(parts.filter { $0.name != "followup" }, context: context, actor: actor)
        let (followup, followupMissing) = await self.ask(parts.filter { $0.name == "followup" }, context: context, actor: actor)
        let checks = followup["followup"].map(Self.indicatorChecks) ?? []
        var indicators: String?
        var indicatorsMissing: [MissingPart] = []
        if !checks.isEmpty {
            let questions = try checks.map { check in
                Part(name: check.indicator.id, service: "trade", verb: "trade.growth", body: String(buffer: try JSONBody.encode(check.question)))
            }
            let (computed, stillMissing) = await self.ask(questions, context: context, actor: actor)
            indicatorsMissing = stillMissing.map { MissingPart(part: "indicator \($0.part)", service: $0.service, code: $0.code, message: $0.message) }
            // The indicator as the brief has always shown it: keys sorted, slashes as they are.
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
            var list = ByteBuffer(string: "[")
            for (index, check) in checks.enumerated() {
                list.writeString(index > 0 ? ",{\"indicator\":" : "{\"indicator\":")
                list.writeBytes(try encoder.encode(check.indicator))
                list.writeString(",\"actual\":")
                if var actual = computed[check.indicator.id] { list.writeBuffer(&actual) } else { list.writeString("null") }
                list.writeString("}")
            }
            list.writeString("]")
            indicators = String(buffer: list)
        }
        let (otherAnswers, otherMissing) = await others
        try Self.subjectFound(in: otherMissing, part: "session", field: "body.number")
        let answers = otherAnswers.merging(followup) { first, _ in first }
        let allMissing = (otherMissing + followupMissing).sorted { $0.part < $1.part } + indicatorsMissing
        var fields = [("brief", "\"session\""), ("number", String(number))]
        if let indicators { fields.append(("indicators", indicators)) }
        return try Self.compose(fields: fields, parts: parts, answers: answers, missing: allMissing, allocator: context.allocator)
    }

    /// The questions that check the follow-up's indicators, as agreements gives them.
    static let checksKey = Array(#""indicatorChecks""#.utf8)

    /// Whether `needle` occurs in `buffer`'s readable bytes, by hand: the standard library's
    /// `firstRange(of:)` is far slower here (docs/performance.md), and glibc's `memmem` is a GNU
    /// extension the Swift Glibc module does not export.
    static func contains(_ needle: [UInt8], in buffer: ByteBuffer) -> Bool {
        guard let first = needle.first else { return true }
        return buffer.withUnsafeReadableBytes { bytes in
            guard bytes.count >= needle.count else { return false }
            for start in 0...(bytes.count - needle.count) where bytes[start] == first {
                if needle.indices.allSatisfy({ bytes[start + $0] == needle[$0] }) { return true }
            }
            return false
        }
    }

    /// The checks in a follow-up answer. Most follow-ups have none, and are not decoded at all,
    /// since the brief waits on this before it can answer.
    static func indicatorChecks(_ followup: ByteBuffer) -> [IndicatorCheck] {
        struct FollowUp: Decodable { var indicatorChecks: [IndicatorCheck]? }
        guard Self.contains(Self.checksKey, in: followup), let decoded = try? JSONBody.decode(FollowUp.self, from: followup) else { return [] }
        return decoded.indicatorChecks ?? []
    }

    /// `brief.region {code}`: the region, its partnerships, the instruments it is a party to,
    /// the actions it owns (overdue first), and its trade where a source reports it.
    func region(_ request: Request, context: RequestContext, actor: (name: String, role: String)?) async throws -> ByteBuffer {
        struct Body: Decodable { var code: String }
        let code = try Self.decode(Body.self, request.body, example: #"{"code":"IR-01"}"#).code.uppercased()
        guard code.count <= 10, code.unicodeScalars.allSatisfy({ ("A"..."Z").contains($0) || ("0"..."9").contains($0) || $0 == "-" }) else {
            throw ConcordError(.badRequest, "code must be an ISO 3166-2 code such as IR-01; got '\(code)'", field: "body.code",
                rule: .form(.regionCode, got: code))
        }
        let owner = "region:\(code.lowercased())"
        let parts = [
            Part(name: "region", service: "participants", verb: "participants.regions.get", body: #"{"code":"\#(code)"}"#),
            Part(name: "partnerships", service: "participants", verb: "participants.partnerships.list", body: #"{"region":"\#(code)"}"#),
            Part(name: "instruments", service: "agreements", verb: "agreements.instruments.list", body: #"{"party":"region:\#(code)","limit":500}"#),
            Part(name: "overdueActions", service: "agreements", verb: "agreements.actions.overdue", body: #"{"owner":"\#(owner)","limit":500}"#),
            Part(name: "actions", service: "agreements", verb: "agreements.actions.list", body: #"{"owner":"\#(owner)","limit":500}"#),
            Part(name: "trade", service: "trade", verb: "trade.observations.list", body: #"{"reporter":"\#(code)","limit":500}"#),
        ]
        let (answers, missing) = await self.ask(parts, context: context, actor: actor)
        try Self.subjectFound(in: missing, part: "region", field: "body.code")
        var codeJSON = ByteBuffer()
        JSONString.write(code, into: &codeJSON)
        return try Self.compose(fields: [("brief", "\"region\""), ("code", String(buffer: codeJSON))], parts: parts, answers: answers,
                                missing: missing, allocator: context.allocator)
    }

    /// `brief.followup {asOf?}`: everything overdue across sessions, grouped by owner, and the
    /// obstacles blocking the most actions: one service's data, joined where they live
    /// (`agreements.followup.all`).
    func followUp(_ request: Request, context: RequestContext, actor: (name: String, role: String)?) async throws -> ByteBuffer {
        struct Body: Decodable { var asOf: String? }
        let asOf = try Self.decode(Body.self, request.body, example: #"{"asOf":"2026-12-01"}"#).asOf
        try Self.checkDay(asOf, field: "asOf")
        let parts = [
            Part(name: "followup", service: "agreements", verb: "agreements.followup.all", body: asOf.map { #"{"asOf":"\#($0)"}"# } ?? "{}",
                 fields: ["asOf", "blockingMost", "byOwner"]),
        ]
        let (answers, missing) = await self.ask(parts, context: context, actor: actor)
        return try Self.compose(fields: [("brief", "\"followup\"")], parts: parts, answers: answers, missing: missing, allocator: context.allocator)
    }

    /// `brief.digest {since, until?}`: what happened in a window, both days included: each
    /// service's part computed where its data live (`agreements.digest`, `trade.digest`).
    func digest(_ request: Request, context: RequestContext, actor: (name: String, role: String)?) async throws -> ByteBuffer {
        struct Body: Decodable { var since: String; var until: String? }
        let body = try Self.decode(Body.self, request.body, example: #"{"since":"2026-11-25","until":"2026-12-02"}"#)
        try Self.checkDay(body.since, field: "since")
        try Self.checkDay(body.until, field: "until")
        let until = body.until ?? String(Date().ISO8601Format().prefix(10))
        let window = #"{"since":"\#(body.since)","until":"\#(until)"}"#
        let parts = [
            Part(name: "agreements", service: "agreements", verb: "agreements.digest", body: window),
            Part(name: "trade", service: "trade", verb: "trade.digest", body: window),
        ]
        let (answers, missing) = await self.ask(parts, context: context, actor: actor)
        // A refusal of the window itself is the caller's to hear, not a missing part.
        if let refused = missing.first(where: { $0.code == ErrorCode.badRequest.wire }) {
            throw ConcordError(.badRequest, refused.message, field: "body")
        }
        let digest = Digest(
            since: body.since, until: until,
            agreements: try answers["agreements"].map { try JSONBody.decode(AgreementsDigest.self, from: $0) },
            trade: try answers["trade"].map { try JSONBody.decode(TradeDigest.self, from: $0) },
            missing: missing
        )
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return try JSONBody.encode(digest, using: encoder, allocator: context.allocator)
    }

    /// A date the gateway passes on: shaped YYYY-MM-DD (the service checks the rest).
    static func checkDay(_ day: String?, field: String) throws(ConcordError) {
        if let day, day.utf8.count != 10 || !day.utf8.allSatisfy({ $0 == UInt8(ascii: "-") || (48...57).contains($0) }) {
            throw ConcordError(.badRequest, "\(field) must be a date, YYYY-MM-DD; got '\(day)'", field: "body.\(field)", rule: .form(.day, got: day))
        }
    }

    /// A brief of a session or region that does not exist is none: when the part that is the
    /// brief's subject is not found, the brief answers so, not with a page of empty parts.
    static func subjectFound(in missing: [MissingPart], part: String, field: String) throws(ConcordError) {
        if let absent = missing.first(where: { $0.part == part && $0.code == ErrorCode.notFound.wire }) {
            throw ConcordError(.notFound, absent.message, field: field, rule: .noRecord)
        }
    }

    static func decode<T: Decodable>(_ type: T.Type, _ body: ByteBuffer, example: String) throws -> T {
        do {
            return try JSONBody.decode(T.self, from: body)
        } catch let error as DecodingError {
            throw ConcordError(decoding: error)
        } catch {
            throw ConcordError(.badRequest, "body must look like \(example)", field: "body")
        }
    }
}
