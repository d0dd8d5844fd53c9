import ConcordClient
import ConcordProtocol
import ConcordRecords
import Foundation
import NIOCore

/// What the record kit promises for one kind, as a test exercises it: every generic verb
/// through the protocol, its errors, and its audit entries.
public struct RecordContract: Sendable {
    public var service: String
    public var table: String
    public var keyField: String
    public var key: JSONValue
    /// A create body for a record that does not exist yet.
    public var create: String
    /// Fields to change on update (key and version are added).
    public var patch: String
    /// A list body whose filters match the created record.
    public var filter: String
    /// Text that `search` finds the created record by.
    public var search: String
    /// The kind as the audit trail names it (its table), when the verbs name it otherwise.
    public var auditKind: String?

    public init(
        service: String, table: String, keyField: String, key: JSONValue, create: String, patch: String, filter: String, search: String,
        auditKind: String? = nil
    ) {
        self.auditKind = auditKind
        self.service = service
        self.table = table
        self.keyField = keyField
        self.key = key
        self.create = create
        self.patch = patch
        self.filter = filter
        self.search = search
    }

    var prefix: String { "\(self.service).\(self.table)." }
}

public struct ContractFailure: Error, CustomStringConvertible {
    public var problems: [String]
    public var description: String { "record contract broken:\n- " + self.problems.joined(separator: "\n- ") }
}

/// Runs every generic verb of every kind in `contracts`: creates in order, then get, update (and
/// a stale update), list with filters, search, the audit trail, a duplicate create and an unknown
/// field; finally deletes in reverse order (so references unwind), a stale delete first, and
/// checks the record is gone. Throws every broken promise at once.
public func checkRecordContracts(_ contracts: [RecordContract], client: ConcordClient) async throws {
    var problems: [String] = []
    func call(_ verb: String, _ body: String) async -> Result<JSONObject, ConcordError> {
        do {
            let answer = try await client.call(verb, body: ByteBuffer(string: body))
            return .success(try JSONDecoder().decode(JSONObject.self, from: Data(answer.readableBytesView)))
        } catch let error as ConcordError {
            return .failure(error)
        } catch {
            return .failure(ConcordError(.internal, "\(error)"))
        }
    }
    func json(_ object: JSONObject) -> String {
        String(decoding: (try? JSONEncoder().encode(object)) ?? Data("{}".utf8), as: UTF8.self)
    }
    func expectError(_ result: Result<JSONObject, ConcordError>, _ code: ErrorCode, field: String? = nil, _ what: String) {
        switch result {
        case .success: problems.append("\(what): succeeded, expected \(code)")
        case .failure(let error):
            if error.code != code { problems.append("\(what): \(error), expected \(code)") }
            if let field, error.field != field { problems.append("\(what): field \(error.field ?? "none"), expected \(field)") }
        }
    }

    for contract in contracts {
        let p = contract.prefix
        let keyBody = json([contract.keyField: contract.key])
        switch await call(p + "create", contract.create) {
        case .failure(let error):
            problems.append("\(p)create: \(error)")
            continue
        case .success(let created):
            if created["version"] != .integer(1) { problems.append("\(p)create: version \(String(describing: created["version"])), expected 1") }
            if created[contract.keyField] != contract.key { problems.append("\(p)create: key \(String(describing: created[contract.keyField]))") }
            if created["createdAt"] == nil || created["updatedAt"] == nil { problems.append("\(p)create: no timestamps") }
        }
        expectError(await call(p + "create", contract.create), .conflict, "\(p)create of an existing key")
        var withUnknown = (try? JSONDecoder().decode(JSONObject.self, from: Data(contract.create.utf8))) ?? [:]
        withUnknown["noSuchField"] = .string("x")
        expectError(await call(p + "create", json(withUnknown)), .badRequest, field: "body.noSuchField", "\(p)create with an unknown field")

        if case .success(let got) = await call(p + "get", keyBody) {
            if got[contract.keyField] != contract.key { problems.append("\(p)get: wrong record") }
        } else {
            problems.append("\(p)get: failed")
        }
        var patch = (try? JSONDecoder().decode(JSONObject.self, from: Data(contract.patch.utf8))) ?? [:]
        patch[contract.keyField] = contract.key
        patch["version"] = .integer(1)
        switch await call(p + "update", json(patch)) {
        case .success(let updated):
            if updated["version"] != .integer(2) { problems.append("\(p)update: version \(String(describing: updated["version"])), expected 2") }
        case .failure(let error): problems.append("\(p)update: \(error)")
        }
        expectError(await call(p + "update", json(patch)), .conflict, field: "body.version", "\(p)update at a stale version")

        switch await call(p + "list", contract.filter) {
        case .success(let page):
            guard case .array(let items)? = page["items"], items.contains(where: { $0.object?[contract.keyField] == contract.key }) else {
                problems.append("\(p)list \(contract.filter): the record is not in the page")
                break
            }
            if page["nextCursor"] == nil { problems.append("\(p)list: no nextCursor field") }
        case .failure(let error): problems.append("\(p)list: \(error)")
        }
        switch await call(p + "search", json(["q": .string(contract.search)])) {
        case .success(let page):
            guard case .array(let items)? = page["items"], items.contains(where: { $0.object?[contract.keyField] == contract.key }) else {
                problems.append("\(p)search '\(contract.search)': the record is not found")
                break
            }
        case .failure(let error): problems.append("\(p)search: \(error)")
        }
        let keyText: String = switch contract.key {
        case .string(let text): text
        case .integer(let value): String(value)
        default: "\(contract.key)"
        }
        switch await call("\(contract.service).audit.list", json(["kind": .string(contract.auditKind ?? contract.table), "key": .string(keyText)])) {
        case .success(let page):
            guard case .array(let items)? = page["items"] else { problems.append("audit of \(p): no items"); break }
            let operations = items.compactMap { $0.object?["operation"]?.string }
            if operations != ["create", "update"] { problems.append("audit of \(p)\(keyText): \(operations), expected [create, update]") }
        case .failure(let error): problems.append("audit of \(p): \(error)")
        }
    }

    for contract in contracts.reversed() {
        let p = contract.prefix
        let keyBody = json([contract.keyField: contract.key])
        expectError(await call(p + "delete", json([contract.keyField: contract.key, "version": .integer(1)])), .conflict, "\(p)delete at a stale version")
        if case .failure(let error) = await call(p + "delete", json([contract.keyField: contract.key, "version": .integer(2)])) {
            problems.append("\(p)delete: \(error)")
        }
        expectError(await call(p + "get", keyBody), .notFound, "\(p)get after delete")
    }
    if !problems.isEmpty { throw ContractFailure(problems: problems) }
}
