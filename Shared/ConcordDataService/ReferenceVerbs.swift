import ConcordProtocol
import ConcordRecords
import ConcordServer
import ConcordStorage
import ConcordWire

/// What `SERVICE.references` answers: who in this service names a record of another.
public struct ReferencesAnswer: Codable, Sendable {
    public var service: String
    /// The kind asked about, `participants.officials`.
    public var kind: String
    public var key: String
    /// Whether any kind of this service declares fields that name that kind.
    public var declares: Bool
    public var count: Int64
    public var examples: [RemoteHolding.Example]
}

extension Router {
    /// `SERVICE.references {kind: "participants.officials", key}`: who names it here (holder
    /// side); `SERVICE.KIND.may-name {KEYFIELD: key}`: whether a record of this service may be
    /// named now (owner side: not found while it is being deleted); `SERVICE.references.named`:
    /// every record of other services named here; `SERVICE.references.dangling`: those of them their
    /// service does not have, for `concord doctor`.
    public mutating func registerReferenceVerbs(service: String, store: RecordStore, kinds: [any StoredRecord.Type]) {
        // The other services' kinds these kinds name, by "service.kind".
        var remoteKinds: [String: RemoteKind] = [:]
        for kind in kinds {
            for remote in kind.remoteKinds where remoteKinds["\(remote.service).\(remote.kind)"] == nil {
                remoteKinds["\(remote.service).\(remote.kind)"] = remote
            }
        }
        let declaredKinds = remoteKinds
        self.registerRecordVerb("\(service).references", kind: .read) { body, _ in
            try RecordBody.checkFields(body, allowed: ["kind", "key"])
            guard let kind = try RecordBody.string("kind", in: body), kind.contains(".") else {
                throw ConcordError(.badRequest, "kind is required: the service and kind named, e.g. participants.officials", field: "kind", rule: .required)
            }
            let key: String
            switch body["key"] {
            case .string(let text)?: key = text
            case .integer(let number)?: key = String(number)
            default: throw ConcordError(.badRequest, "key is required: the record's key, text or a number", field: "key", rule: .required)
            }
            let parts = kind.split(separator: ".", maxSplits: 1).map(String.init)
            let found = try await store.holdings(service: parts[0], kind: parts[1], key: key)
            return ReferencesAnswer(service: service, kind: kind, key: key, declares: declaredKinds[kind] != nil, count: found.count, examples: found.examples)
        }
        self.registerRecordVerb("\(service).references.named", kind: .read) { body, _ in
            try RecordBody.checkFields(body, allowed: [])
            return try await store.namedRemoteRecords().map { NamedRecord(service: $0.service, kind: $0.kind, key: $0.key, holders: $0.holders) }
        }
        self.registerRecordVerb("\(service).references.dangling", kind: .read) { body, _ in
            try RecordBody.checkFields(body, allowed: [])
            guard let remote = store.remote else { return [NamedRecord]() }
            var dangling: [NamedRecord] = []
            for named in try await store.namedRemoteRecords() {
                guard let kind = declaredKinds["\(named.service).\(named.kind)"] else { continue }
                let key: SQLValue = kind.integerKey ? (Int64(named.key).map(SQLValue.integer) ?? .text(named.key)) : .text(named.key)
                let reference = RemoteReference(field: "", service: named.service, kind: named.kind, keyField: kind.keyField, key: key, noun: kind.kind)
                if try await !remote.exists(reference) {
                    dangling.append(NamedRecord(service: named.service, kind: named.kind, key: named.key, holders: named.holders))
                }
            }
            return dangling
        }
        for kind in kinds where kind.namedByOtherServices {
            self.registerCheck(kind, service: service, store: store)
        }
    }

    private mutating func registerCheck<Record: StoredRecord>(_ type: Record.Type, service: String, store: RecordStore) {
        self.registerRecordVerb("\(service).\(Record.table).may-name", kind: .read) { body, _ in
            let key = try RecordBody.key(Record.self, in: body)
            guard try await store.mayBeNamed(Record.self, key: key) else {
                throw ConcordError(.notFound, "no \(Record.noun) \(RecordStore.show(key)) (or it is being deleted)", field: Record.keyField, rule: .noRecord)
            }
            return ["found": true]
        }
    }
}
