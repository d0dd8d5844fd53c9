import ConcordProtocol
import Testing

@testable import ConcordComtrade

/// The Comtrade CSV reader: RFC 4180 details, and rows mapped to observations or refused with
/// the column and reason.
extension ComtradeRow.Outcome {
    enum Named {
        case observation([String: TableBody.Cell])
        case breakdown
    }

    /// The row's values by field name.
    var named: Named {
        switch self {
        case .observation(let cells): .observation(Dictionary(uniqueKeysWithValues: zip(ComtradeRow.columns, cells)))
        case .breakdown: .breakdown
        }
    }
}

@Suite("Comtrade CSV")
struct ComtradeCSVTests {
    func records(_ text: String, chunk: Int = .max) throws -> [CSVReader.Record] {
        var reader = CSVReader()
        var records: [CSVReader.Record] = []
        let bytes = Array(text.utf8)
        var start = 0
        while start < bytes.count {
            let end = min(bytes.count, start + chunk)
            try reader.feed(bytes[start..<end]) { records.append($0) }
            start = end
        }
        try reader.finish { records.append($0) }
        return records
    }

    @Test func quotedFieldsBOMCRLFAndEmptyValues() throws {
        let text = "\u{FEFF}a,b,c\r\n\"x, \"\"quoted\"\"\",,\"two\r\nlines\"\r\n\r\nlast,1,2"
        for chunk in [1, 2, 3, 7, .max] {
            let records = try self.records(text, chunk: chunk)
            #expect(records.map(\.fields) == [["a", "b", "c"], ["x, \"quoted\"", "", "two\r\nlines"], ["last", "1", "2"]], "chunk \(chunk)")
            #expect(records.map(\.line) == [1, 2, 5], "a record's line is where it starts; blank lines are skipped")
        }
    }

    /// Bytes that are not UTF-8 are refused with their line and column, never stored as U+FFFD.
    @Test func textThatIsNotUTF8IsRefusedWhereItIs() throws {
        // "кг" in Windows-1251, in the third column of the second line.
        var reader = CSVReader()
        let bytes = Array("a,b,unit\n1,2,".utf8) + [0xEA, 0xE3] + Array("\n".utf8)
        let failure = try #require(throws: CSVReader.Failure.self) {
            try reader.feed(bytes) { _ in }
        }
        #expect(failure.line == 2 && failure.column == 3)
        #expect(failure.description == "line 2, column 3: not UTF-8 text (byte 0xEA)")
        // A truncated sequence is refused too; a valid one, and a literal U+FFFD, are text.
        #expect(throws: CSVReader.Failure.self) { try self.recordsOf(Array("x,".utf8) + [0xD0]) }
        #expect(try self.records("кг,\u{FFFD}\n").map(\.fields) == [["кг", "\u{FFFD}"]])
    }

    func recordsOf(_ bytes: [UInt8]) throws -> [CSVReader.Record] {
        var reader = CSVReader()
        var records: [CSVReader.Record] = []
        try reader.feed(bytes) { records.append($0) }
        try reader.finish { records.append($0) }
        return records
    }

    /// Windows-1251, read through iconv into UTF-8, whichever chunk a character falls in; UTF-16
    /// by its byte order mark; a byte that is not text in the encoding refused with its line.
    @Test func otherEncodingsAreReadIntoUTF8() throws {
        let cp1251: [UInt8] = Array("unit\n".utf8) + [0xEA, 0xE3] + Array("\n".utf8)
        let whole = try Transcoder(from: "windows-1251").convert(cp1251, final: true)
        #expect(try self.recordsOf(whole).map(\.fields) == [["unit"], ["кг"]])

        let utf16: [UInt8] = [0xFF, 0xFE] + "unit\nкг\n".utf16.flatMap { [UInt8($0 & 0xFF), UInt8($0 >> 8)] }
        #expect(Transcoder.encoding(ofMark: utf16) == "UTF-16")
        #expect(Transcoder.encoding(ofMark: Array("unit".utf8)) == nil)
        for size in [1, 3, 5] {
            let transcoder = try Transcoder(from: "UTF-16")
            var converted: [UInt8] = []
            var start = 0
            while start < utf16.count {
                converted += try transcoder.convert(utf16[start..<min(utf16.count, start + size)])
                start += size
            }
            converted += try transcoder.convert([], final: true)
            #expect(String(decoding: converted, as: UTF8.self) == "unit\nкг\n", "chunks of \(size)")
        }

        let halfCharacter = try #require(throws: Transcoder.Failure.self) { try Transcoder(from: "UTF-16").convert(utf16.dropLast(), final: true) }
        #expect(halfCharacter.description.contains("ends inside a character"))
        let notUTF8 = try #require(throws: Transcoder.Failure.self) { try Transcoder(from: "UTF-8").convert(Array("a\nb\n".utf8) + [0xFF], final: true) }
        #expect(notUTF8.description.hasPrefix("line 3 (byte 5): byte 0xFF is not UTF-8 text"))
        let unknown = try #require(throws: Transcoder.Failure.self) { try Transcoder(from: "klingon-1") }
        #expect(unknown.description.contains("unknown encoding 'klingon-1'"))
    }

    @Test func anUnclosedQuoteNamesItsLine() {
        #expect(throws: CSVReader.Failure.self) { try self.records("a,b\n1,\"open\n2,3\n") }
    }

    func row(_ line: String, header: String = "period,reporterISO,partnerISO,partner2Code,motCode,customsCode,flowCode,cmdCode,primaryValue") throws -> ComtradeRow.Outcome {
        let columns = try ComtradeColumns(header: try self.records(header)[0].fields)
        return try ComtradeRow.read(try self.records(line)[0].fields, columns: columns, source: "UN Comtrade", published: "2026-01-01", keepBreakdowns: false)
    }

    @Test func rowsMapToObservations() throws {
        guard case .observation(let row) = try self.row("202501,RUS,IRN,0,0,C00,X,TOTAL,1.2345E9").named else {
            Issue.record("not an observation")
            return
        }
        guard case .text(let reporter)? = row["reporter"], case .text(let partner)? = row["partner"],
              case .text(let value)? = row["primaryValue"] else {
            Issue.record("fields missing: \(row)")
            return
        }
        #expect(reporter == "RU" && partner == "IR")
        #expect(value == "1234500000", "scientific notation becomes an exact decimal")
        guard case .observation(let world) = try self.row("2025,RUS,W00,0,0,C00,M,27,99999999999999.5").named else {
            Issue.record("not an observation")
            return
        }
        if case .text(let partner)? = world["partner"] { #expect(partner == "W0") }
        if case .text(let big)? = world["primaryValue"] { #expect(big == "99999999999999.5", "huge numbers stay exact") }
    }

    @Test func breakdownsAreLeftOut() throws {
        for line in ["202501,RUS,IRN,4,0,C00,X,TOTAL,1", "202501,RUS,IRN,0,2100,C00,X,TOTAL,1", "202501,RUS,IRN,0,0,C01,X,TOTAL,1"] {
            guard case .breakdown = try self.row(line) else {
                Issue.record("kept a breakdown: \(line)")
                continue
            }
        }
    }

    @Test(arguments: [
        ("202501,XYZ,IRN,0,0,C00,X,TOTAL,1", "reporterISO"), ("202513,RUS,IRN,0,0,C00,X,TOTAL,1", "period"),
        ("202501,RUS,IRN,0,0,C00,Z,TOTAL,1", "flowCode"), ("202501,RUS,IRN,0,0,C00,X,123,1", "cmdCode"),
        ("202501,RUS,IRN,0,0,C00,X,TOTAL,", "primaryValue"), ("202501,RUS,IRN,0,0,C00,X,TOTAL,1.23456", "primaryValue"),
        ("202501,RUS,IRN,0,0,C00,X,TOTAL,abc", "primaryValue"), ("202501,RUS,RUS,0,0,C00,X,TOTAL,1", "partnerISO"),
    ])
    func badRowsNameTheirColumn(line: String, column: String) {
        do {
            _ = try self.row(line)
            Issue.record("accepted: \(line)")
        } catch let error as ComtradeProblem {
            #expect(error.column == column, "\(line): \(error.column) \(error.reason)")
        } catch {
            Issue.record("\(line): \(error)")
        }
    }
}
