import ConcordProtocol
import ConcordRecords
import ConcordServer
import ConcordStorage
import NIOConcurrencyHelpers
import NIOCore

/// Gets of one kind, read from the store in batches: the gets that arrive while a batch is
/// being read go together in the next one, one query for up to `maxBatch` keys. A lone get is
/// read at once, alone; under load the store's thread hop, statement and transaction are paid
/// once a batch instead of once a get. Every batch starts after the gets in it arrived, so a get
/// sees every write acknowledged before it was sent.
final class GetBatcher<Record: StoredRecord>: Sendable {
    typealias Answer = @Sendable (Result<String, any Error>) -> Void

    let store: RecordStore
    let maxBatch: Int
    /// Batches read at once (one per reader connection, say).
    let maxConcurrentBatches: Int

    private struct State {
        var waiting: [(key: SQLValue, answer: Answer)] = []
        var running = 0
    }
    private let state = NIOLockedValueBox(State())

    init(store: RecordStore, maxBatch: Int = 128, maxConcurrentBatches: Int = 2) {
        self.store = store
        self.maxBatch = maxBatch
        self.maxConcurrentBatches = maxConcurrentBatches
    }

    /// Reads the record with `key` as its get answers it, and calls `answer` once, on any thread
    /// (on `eventLoop` when this get starts the batch: its reads run there, so the answers of a
    /// batch need no hop to another thread when their connections live on that loop too).
    func get(_ key: SQLValue, on eventLoop: any EventLoop, answer: @escaping Answer) {
        let startsABatch = self.state.withLockedValue { state -> Bool in
            state.waiting.append((key, answer))
            guard state.running < self.maxConcurrentBatches else { return false }
            state.running += 1
            return true
        }
        if startsABatch {
            Task(executorPreference: EventLoopTaskExecutor(eventLoop: eventLoop)) { await self.readWhileWaiting() }
        }
    }

    /// Reads batches until nobody waits.
    private func readWhileWaiting() async {
        while true {
            let batch = self.state.withLockedValue { state -> [(key: SQLValue, answer: Answer)] in
                guard !state.waiting.isEmpty else {
                    state.running -= 1
                    return []
                }
                let count = min(state.waiting.count, self.maxBatch)
                let batch = Array(state.waiting.prefix(count))
                state.waiting.removeFirst(count)
                return batch
            }
            guard !batch.isEmpty else { return }
            do {
                let found = try await self.store.getJSON(Record.self, keys: batch.map(\.key))
                for (key, answer) in batch {
                    if let json = found[key] {
                        answer(.success(json))
                    } else {
                        answer(.failure(ConcordError(.notFound, "no \(Record.noun) \(RecordStore.show(key))", field: Record.keyField, rule: .noRecord)))
                    }
                }
            } catch {
                for (_, answer) in batch { answer(.failure(error)) }
            }
        }
    }
}
