import Agreements
import ConcordProtocol
import ConcordRecords
import NIOCore
import Participants
import TradeMetrics

/// libFuzzer target (scripts/fuzz): a create body as a caller would send it, decoded and
/// validated by the record kit for one record kind of every service (the first byte picks the
/// kind), so a kind added to a service is fuzzed without new code. Beyond "no crash": a record
/// that validates, validated again in its stored form, is unchanged (normalising is idempotent),
/// and its stored document decodes.
private let kinds: [any StoredRecord.Type] = ParticipantsService.kinds + AgreementsService.kinds + TradeMetricsService.kinds

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzRecords(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    guard size > 0 else { return 0 }
    let kind = kinds[Int(data[0]) % kinds.count]
    let body = ByteBuffer(bytes: UnsafeBufferPointer(start: data + 1, count: size - 1))
    check(kind, body)
    return 0
}

private func check<Record: StoredRecord>(_ kind: Record.Type, _ body: ByteBuffer) {
    guard let object = try? RecordBody.decodeObject(body),
          let input = try? RecordBody.record(Record.self, from: object),
          let stored = try? input.normalised(isNew: true)
    else { return }
    let document: String
    do {
        document = try stored.document()
    } catch {
        fatalError("a valid \(Record.noun) has no stored document: \(error)")
    }
    let again: Record
    do throws(ConcordError) {
        again = try stored.normalised(isNew: true)
    } catch {
        fatalError("a \(Record.noun) in stored form is refused: \(error) (document \(document))")
    }
    guard (try? again.document()) == document else {
        fatalError("normalising a \(Record.noun) twice changes it: \(document) -> \((try? again.document()) ?? "?")")
    }
    guard (try? RecordStore.decode(Record.self, json: document)) != nil else {
        fatalError("the stored document of a \(Record.noun) does not decode: \(document)")
    }
}
