/// The client ids of a connection's running requests, to refuse a second request under an id
/// still running. A connection mostly has one request or a few running: up to `scanLimit` the ids
/// are kept in a small array and compared one by one (the id a request is taken out with is the
/// string it was put in with, so equal at once); past it they are hashed in a set, until none
/// runs. Hashing each id into a set and out again cost more than comparing it with a few others
/// (docs/performance.md).
struct RunningIDs {
    static let scanLimit = 8

    private var few: [String] = []
    private var many: Set<String>?

    var isEmpty: Bool { self.many?.isEmpty ?? self.few.isEmpty }

    func contains(_ id: String) -> Bool {
        if let many = self.many { return many.contains(id) }
        return self.few.contains(id)
    }

    mutating func insert(_ id: String) {
        if self.many != nil {
            self.many!.insert(id)
        } else if self.few.count < Self.scanLimit {
            self.few.append(id)
        } else {
            var many = Set(self.few)
            many.insert(id)
            self.many = many
            self.few.removeAll(keepingCapacity: true)
        }
    }

    mutating func remove(_ id: String) {
        if self.many != nil {
            self.many!.remove(id)
            if self.many!.isEmpty { self.many = nil }
        } else if let index = self.few.firstIndex(of: id) {
            self.few.swapAt(index, self.few.count - 1)
            self.few.removeLast()
        }
    }

    mutating func removeAll() {
        self.few.removeAll(keepingCapacity: true)
        self.many = nil
    }
}
