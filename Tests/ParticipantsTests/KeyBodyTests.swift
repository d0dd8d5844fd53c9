import ConcordProtocol
@testable import ConcordRecords
import ConcordStorage
import NIOCore
import Testing

@testable import Participants

/// The get body's fast path and the JSON decoder's path agree, and every fault names its field.
@Suite("Get bodies")
struct KeyBodyTests {
    func decoded<Record: StoredRecord>(_ type: Record.Type, _ body: String) -> Result<SQLValue, ConcordError> {
        do throws(ConcordError) {
            return .success(try KeyBody<Record>.key(in: ByteBuffer(string: body)))
        } catch {
            return .failure(error)
        }
    }

    @Test(arguments: [
        #"{"id":"mehdi-dousti"}"#, #"{ "id" : "mehdi-dousti" }"#, #"{"id":"a\u0062"}"#, #"{"id":"é"}"#, "{\"id\":\"x\"}\t",
    ])
    func aStringKeyReadsTheSameEitherWay(body: String) throws {
        let object = try RecordBody.decodeObject(ByteBuffer(string: body))
        let viaDecoder = try RecordBody.key(Official.self, in: object)
        #expect(try self.decoded(Official.self, body).get() == viaDecoder)
        if let fast = KeyBody<Official>.plainKey(in: ByteBuffer(string: body)) {
            #expect(fast == viaDecoder, "fast path: \(body)")
        } else {
            #expect(body.contains("\\") || !body.allSatisfy(\.isASCII), "only escapes and non-ASCII leave the fast path: \(body)")
        }
    }

    @Test func codesAreNormalisedAndIntegersRead() throws {
        #expect(try self.decoded(Country.self, #"{"code":"ir"}"#).get() == .text("IR"))
        #expect(try self.decoded(CommitteeSession.self, #"{"number":6}"#).get() == .integer(6))
        #expect(KeyBody<CommitteeSession>.plainKey(in: ByteBuffer(string: #"{"number": 6 }"#)) == .integer(6))
    }

    @Test(arguments: [
        (#"{"id":""}"#, "id"), (#"{"id":5}"#, "id"), (#"{}"#, "id"), (#"{"id":null}"#, "id"),
        (#"{"x":"a"}"#, "x"), (#"{"id":"a","x":1}"#, "x"), (#"["id"]"#, "body"), (#"{"id":"a""#, "body"),
    ])
    func badBodiesNameTheirField(body: String, field: String) {
        guard case .failure(let error) = self.decoded(Official.self, body) else {
            Issue.record("\(body) was accepted")
            return
        }
        #expect(error.code == .badRequest)
        #expect(error.field == field, "\(body): \(error)")
    }

    @Test func anIntegerKeyMustBeAnInteger() {
        guard case .failure(let error) = self.decoded(CommitteeSession.self, #"{"number":"6"}"#) else {
            Issue.record("a string session number was accepted")
            return
        }
        #expect(error.field == "number")
    }
}
