import Testing

@testable import ConcordServer

/// The running requests' ids: compared one by one while few run, hashed once more do, and the
/// same answers either way.
@Suite struct RunningIDsTests {
    @Test func fewIDsAreFoundAndForgotten() {
        var ids = RunningIDs()
        #expect(ids.isEmpty && !ids.contains("1"))
        ids.insert("1")
        ids.insert("2")
        #expect(ids.contains("1") && ids.contains("2") && !ids.contains("3"))
        ids.remove("1")
        #expect(!ids.contains("1") && ids.contains("2") && !ids.isEmpty)
        ids.remove("7")
        ids.remove("2")
        #expect(ids.isEmpty)
    }

    /// Past the scan limit the ids move to a set, and back once none runs; every id is found
    /// throughout, and none that was removed.
    @Test(arguments: [RunningIDs.scanLimit, RunningIDs.scanLimit + 1, 3 * RunningIDs.scanLimit])
    func manyIDsAreTheSameAnswers(count: Int) {
        var ids = RunningIDs()
        let all = (0..<count).map { "req-\($0)" }
        for id in all { ids.insert(id) }
        #expect(all.allSatisfy(ids.contains) && !ids.contains("req-\(count)"))
        for id in all where id.hasSuffix("1") { ids.remove(id) }
        for id in all { #expect(ids.contains(id) == !id.hasSuffix("1"), "\(id)") }
        for id in all { ids.remove(id) }
        #expect(ids.isEmpty && !ids.contains("req-0"))
        ids.insert("again")
        #expect(ids.contains("again") && !ids.isEmpty)
        ids.removeAll()
        #expect(ids.isEmpty && !ids.contains("again"))
    }
}
