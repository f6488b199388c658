import Foundation

/// Threads of its own for blocking file-system work (writing a blob and waiting for its fsync), so that a slow disk
/// never holds the threads of Swift's cooperative pool, which has only as many threads as there are cores: on a
/// 2-core machine two fsyncs in flight would otherwise stop every other task of the process (DICOMweb queries, the
/// DIMSE listener), and concurrent stores (`atrium import --jobs 16`, several associations) could never have more
/// than two fsyncs in flight, which is what lets the file system commit many blobs in one journal transaction.
final class BlockingIOPool: @unchecked Sendable {
    /// The process-wide pool.
    static let shared = BlockingIOPool(threadCount: 16)

    private let condition = NSCondition()
    /// Guarded by `condition`.
    private var jobs: [@Sendable () -> Void] = []

    init(threadCount: Int) {
        for number in 0..<threadCount {
            let thread = Thread { [self] in work() }
            thread.name = "atrium-io-\(number)"
            thread.start()
        }
    }

    /// Runs `body` on one of the pool's threads and returns its result.
    func run<T: Sendable>(_ body: @escaping @Sendable () throws(ArchiveError) -> T) async throws(ArchiveError) -> T {
        let outcome: Result<T, ArchiveError> = await withCheckedContinuation { continuation in
            enqueue {
                do throws(ArchiveError) {
                    continuation.resume(returning: .success(try body()))
                } catch {
                    continuation.resume(returning: .failure(error))
                }
            }
        }
        return try outcome.get()
    }

    /// Runs `job` on one of the pool's threads, without waiting for it.
    func enqueue(_ job: @escaping @Sendable () -> Void) {
        condition.lock()
        jobs.append(job)
        condition.signal()
        condition.unlock()
    }

    private func work() {
        while true {
            condition.lock()
            while jobs.isEmpty { condition.wait() }
            let job = jobs.removeFirst()
            condition.unlock()
            job()
        }
    }
}
