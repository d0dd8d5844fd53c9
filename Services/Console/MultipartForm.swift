#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import ConcordFields
import NIOCore

/// A `multipart/form-data` body (RFC 7578), as a browser sends a form with a file: each part's
/// name, its file name when it is a file, and its bytes. Only what the console's forms send is
/// read: a part's `Content-Disposition`; other headers are passed over.
struct MultipartForm {
    struct Part {
        var name: String
        var filename: String?
        var bytes: ByteBuffer

        var text: String { String(buffer: self.bytes) }
    }

    struct Problem: Error, CustomStringConvertible {
        var description: String
    }

    var parts: [Part]

    subscript(name: String) -> Part? { self.parts.first { $0.name == name } }

    /// The boundary a `Content-Type: multipart/form-data; boundary=...` names.
    static func boundary(of contentType: String) -> String? {
        guard contentType.lowercased().hasPrefix("multipart/form-data") else { return nil }
        for parameter in contentType.split(separator: ";").dropFirst() {
            let pair = parameter.split(separator: "=", maxSplits: 1).map { String($0).trimmingSpaces() }
            if pair.count == 2, pair[0].lowercased() == "boundary" {
                let value = pair[1].hasPrefix("\"") && pair[1].hasSuffix("\"") && pair[1].count >= 2 ? String(pair[1].dropFirst().dropLast()) : pair[1]
                return value.isEmpty || value.utf8.count > 70 ? nil : value
            }
        }
        return nil
    }

    init(_ body: ByteBuffer, boundary: String) throws(Problem) {
        let bytes = body.readableBytesView
        let delimiter = Array("--\(boundary)".utf8)
        var positions: [Int] = []
        var from = bytes.startIndex
        while let found = Self.find(delimiter, in: bytes, from: from) {
            positions.append(found)
            from = found + delimiter.count
        }
        guard positions.count >= 2 else { throw Problem(description: "the form's body is not multipart/form-data with its boundary") }
        var parts: [Part] = []
        for (start, end) in zip(positions, positions.dropFirst()) {
            // After the delimiter: CRLF, headers, a blank line, the content, then the CRLF that
            // belongs to the next delimiter.
            var headerStart = start + delimiter.count
            guard bytes[headerStart...].starts(with: [13, 10]) else { throw Problem(description: "a part of the form does not start on a new line") }
            headerStart += 2
            guard let blank = Self.find([13, 10, 13, 10], in: bytes, from: headerStart), blank < end else {
                throw Problem(description: "a part of the form has no end to its headers")
            }
            let contentEnd = end - 2
            guard contentEnd >= blank + 4, bytes[contentEnd..<end].elementsEqual([13, 10]) else {
                throw Problem(description: "a part of the form does not end before the next boundary")
            }
            let headers = String(decoding: bytes[headerStart..<blank], as: UTF8.self)
            var name: String?
            var filename: String?
            for line in headers.split(separator: "\r\n") where line.lowercased().hasPrefix("content-disposition:") {
                name = Self.parameter("name", in: line)
                filename = Self.parameter("filename", in: line)
            }
            guard let name else { throw Problem(description: "a part of the form has no name") }
            let offset = blank + 4 - bytes.startIndex
            parts.append(Part(name: name, filename: filename, bytes: body.getSlice(at: body.readerIndex + offset, length: contentEnd - (blank + 4)) ?? ByteBuffer()))
        }
        guard bytes[positions.last!...].dropFirst(delimiter.count).starts(with: [45, 45]) else {
            throw Problem(description: "the form's body ends before its last boundary: was the upload cut short?")
        }
        self.parts = parts
    }

    /// `name="value"` in a Content-Disposition line.
    static func parameter(_ name: String, in line: Substring) -> String? {
        for piece in line.split(separator: ";").dropFirst() {
            let pair = piece.split(separator: "=", maxSplits: 1)
            guard pair.count == 2, String(pair[0]).trimmingSpaces().lowercased() == name else { continue }
            var value = String(pair[1]).trimmingSpaces()
            if value.hasPrefix("\""), value.hasSuffix("\""), value.count >= 2 { value = String(value.dropFirst().dropLast()) }
            return value
        }
        return nil
    }

    static func find(_ needle: [UInt8], in haystack: ByteBufferView, from: Int) -> Int? {
        guard let first = needle.first, haystack.endIndex - from >= needle.count else { return nil }
        var index = from
        let last = haystack.endIndex - needle.count
        while index <= last {
            guard let hit = haystack[index...last].firstIndex(of: first) else { return nil }
            if haystack[hit..<(hit + needle.count)].elementsEqual(needle) { return hit }
            index = hit + 1
        }
        return nil
    }
}
