import Foundation
import Synchronization

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

    /// Starts `body` on one of the pool's threads at once and returns a handle to await its result later, so that the
    /// caller goes on with other work meanwhile without a task of its own to start first.
    func start<T: Sendable>(_ body: @escaping @Sendable () throws(ArchiveError) -> T) -> PendingIO<T> {
        let pending = PendingIO<T>()
        enqueue {
            do throws(ArchiveError) {
                pending.complete(.success(try body()))
            } catch {
                pending.complete(.failure(error))
            }
        }
        return pending
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

/// The result of work started on the ``BlockingIOPool``, to be awaited once.
final class PendingIO<T: Sendable>: Sendable {
    private enum State {
        case running
        case waiting(CheckedContinuation<Result<T, ArchiveError>, Never>)
        case done(Result<T, ArchiveError>)
    }

    private let state = Mutex<State>(.running)

    fileprivate func complete(_ result: Result<T, ArchiveError>) {
        let waiter: CheckedContinuation<Result<T, ArchiveError>, Never>? = state.withLock { state in
            if case .waiting(let continuation) = state {
                state = .done(result)
                return continuation
            }
            state = .done(result)
            return nil
        }
        waiter?.resume(returning: result)
    }

    /// The result, once the work is done.
    func value() async -> Result<T, ArchiveError> {
        await withCheckedContinuation { continuation in
            let ready: Result<T, ArchiveError>? = state.withLock { state in
                if case .done(let result) = state { return result }
                state = .waiting(continuation)
                return nil
            }
            if let ready { continuation.resume(returning: ready) }
        }
    }
}
