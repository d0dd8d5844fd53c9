import ConcordProtocol
import ConcordRecords
import Testing

@testable import ConcordDataService

/// The one boundary where what the store and the field rules say becomes what the wire says.
@Suite struct WireErrorsTests {
    @Test func theBoundaryPlacesAFieldInTheBodyOnce() {
        #expect(WireErrors.placed(ConcordError(.badRequest, "x", field: "name")).field == "body.name")
        #expect(WireErrors.placed(ConcordError(.badRequest, "x", field: "body.name")).field == "body.name")
        #expect(WireErrors.placed(ConcordError(.badRequest, "x", field: "metadata.idem")).field == "metadata.idem")
        #expect(WireErrors.placed(ConcordError(.notFound, "x", field: "verb")).field == "verb")
    }

    @Test(arguments: [
        (RecordError.Reason.notFound, ErrorCode.notFound), (.exists, .conflict), (.versionMoved, .conflict), (.stillNamed, .conflict),
        (.differsFromStored, .conflict), (.idempotencyKeyReused, .conflict), (.unknownReference, .badRequest), (.keyChanged, .badRequest),
        (.invalidRow, .badRequest), (.pastTheEnd, .badRequest), (.notConfirmed, .unavailable), (.misdeclared, .internal),
    ])
    func everyReasonOfTheStoreHasItsCode(reason: RecordError.Reason, code: ErrorCode) {
        let said = WireErrors.said(RecordError(reason, "what happened", field: "version"))
        #expect(said.code == code)
        #expect(said.message == "what happened")
        #expect(said.unprocessed == (reason == .notConfirmed), "only a write nothing of which was done may be sent again as it is")
    }

    @Test func everyReasonIsCoveredAbove() {
        #expect(RecordError.Reason.allCases.count == 12)
    }

    @Test func aRecordFieldIsPlacedInTheBodyAndTheIdempotencyKeyInTheMetadata() {
        #expect(WireErrors.said(RecordError(.versionMoved, "x", field: "version")).field == "body.version")
        #expect(WireErrors.said(RecordError(.invalidRow, "x", field: "rows[3].partner")).field == "body.rows[3].partner")
        #expect(WireErrors.said(RecordError(.exists, "x")).field == nil)
        #expect(WireErrors.said(RecordError(.idempotencyKeyReused, "x")).field == "metadata." + Metadata.Key.idempotencyKey)
    }
}
