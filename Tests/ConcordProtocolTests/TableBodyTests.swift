import ConcordProtocol
import NIOCore
import Testing

/// The table form of a bulk body: what it reads, and how it names what is wrong.
@Suite("Table bodies")
struct TableBodyTests {
    func decode(_ text: String, maximumRows: Int = 10) throws(ConcordError) -> TableBody {
        try TableBody.decode(ByteBuffer(string: text), maximumRows: maximumRows)
    }

    @Test func readsStringsFlagsNullsAndEscapes() throws {
        let table = try self.decode(#" { "columns" : ["a","b","c"], "rows": [ ["x\"y\\z\/\n\u00e9\ud83d\ude00", true, null], ["Тегеран","",false] ] } "#)
        #expect(table.columns == ["a", "b", "c"])
        #expect(table.rows == [[.text("x\"y\\z/\né😀"), .flag(true), .null], [.text("Тегеран"), .text(""), .flag(false)]])
    }

    @Test func writesWhatItReads() throws {
        let rows: [[TableBody.Cell]] = [[.text("quote \" and \\ and \u{1}"), .flag(false), .null], [.text("ایران"), .text(""), .flag(true)]]
        var buffer = ByteBuffer()
        TableBody.encode(columns: ["a", "b", "c"], rows: rows, into: &buffer)
        #expect(TableBody.looksLikeTable(buffer))
        let table = try TableBody.decode(buffer, maximumRows: 10)
        #expect(table.rows == rows)
    }

    @Test(arguments: [
        (#"{"rows":[]}"#, "body"),
        (#"{"columns":[],"rows":[]}"#, "columns"),
        (#"{"columns":["a","a"],"rows":[]}"#, "columns[1]"),
        (#"{"columns":["a","b"],"rows":[["x"]]}"#, "rows[0]"),
        (#"{"columns":["a"],"rows":[["x"],[1]]}"#, "rows[1]"),
        (#"{"columns":["a"],"rows":[["x\q"]]}"#, "rows[0]"),
        (#"{"columns":["a"],"rows":[["open]]}"#, "rows[0]"),
        (#"{"columns":["a"],"rows":[["x"]]} trailing"#, "body"),
        (#"{"columns":["a"],"rows":[["\ud800"]]}"#, "rows[0]"),
    ])
    func faultsNameWhereTheyAre(text: String, field: String) {
        do {
            _ = try self.decode(text)
            Issue.record("accepted: \(text)")
        } catch {
            #expect(error.code == .badRequest)
            #expect(error.field == field, "\(text): \(error.message)")
        }
    }

    @Test func aBatchOverTheLimitIsTooLarge() {
        do {
            _ = try self.decode(#"{"columns":["a"],"rows":[["1"],["2"],["3"]]}"#, maximumRows: 2)
            Issue.record("accepted three rows with a limit of two")
        } catch {
            #expect(error.code == .tooLarge)
        }
    }
}
