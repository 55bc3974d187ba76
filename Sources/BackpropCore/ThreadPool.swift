#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import Synchronization

/// Worker threads created once and reused for every parallel product, so no thread is
/// created per call. `run` hands part 0 to the calling thread and parts 1… to the
/// workers, and returns when all are done.
///
/// The products of one training step follow each other closely, so workers spin for a
/// while after each part before they sleep on a condition variable. The work is a C
/// function and a context pointer rather than a Swift closure, because a closure shared
/// with other threads would need a heap-allocated context on every call.
final class ThreadPool: @unchecked Sendable {
    /// Threads taking part in `run`, the caller included: the number asked for, or fewer
    /// if the system refused to create more.
    private(set) var threadCount = 1

    typealias Task = @convention(c) (UnsafeRawPointer, Int) -> Void

    /// Polls of an atomic before a waiting thread goes to sleep: about a millisecond, long
    /// enough to bridge the serial work between the products of a training step (waking a
    /// sleeping thread costs microseconds, and far more on a virtual machine whose idle
    /// vCPU was halted), or almost none when there are more threads than cores.
    private let spinLimit: Int

    static let onlineCores: Int = {
        let cores = sysconf(Int32(_SC_NPROCESSORS_ONLN))
        return cores > 0 ? cores : 1
    }()

    private let generation = Atomic<Int>(0)
    private let unfinished = Atomic<Int>(0)
    private let stopping = Atomic<Bool>(false)
    // Written before `generation` is released, read after it is acquired.
    private var task: Task?
    private var context: UnsafeRawPointer?

    private let lock = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    private let wake = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)
    private let finished = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)
    private var workers: [pthread_t] = []

    init(threads: Int) {
        spinLimit = threads <= Self.onlineCores ? 1_000_000 : 100
        pthread_mutex_init(lock, nil)
        pthread_cond_init(wake, nil)
        pthread_cond_init(finished, nil)
        for index in 1 ..< max(threads, 1) {
            guard let thread = startWorker(index: index) else { break }
            workers.append(thread)
            threadCount += 1
        }
    }

    deinit {
        stopping.store(true, ordering: .releasing)
        broadcast(wake)
        for thread in workers { pthread_join(thread, nil) }
        pthread_cond_destroy(wake)
        pthread_cond_destroy(finished)
        pthread_mutex_destroy(lock)
        lock.deallocate()
        wake.deallocate()
        finished.deallocate()
    }

    /// Runs task(context, 0) … task(context, threadCount − 1) at once, part 0 on the
    /// calling thread. `context` must stay valid until `run` returns.
    func run(context: UnsafeRawPointer, _ task: Task) {
        self.task = task
        self.context = context
        unfinished.store(threadCount - 1, ordering: .relaxed)
        generation.add(1, ordering: .releasing)
        broadcast(wake)
        task(context, 0)
        wait(until: { $0.unfinished.load(ordering: .acquiring) == 0 }, on: finished)
    }

    private func work(index: Int) {
        var seen = 0
        while true {
            wait(until: { $0.generation.load(ordering: .acquiring) != seen || $0.stopping.load(ordering: .acquiring) }, on: wake)
            if stopping.load(ordering: .acquiring) { return }
            seen = generation.load(ordering: .acquiring)
            if let task, let context { task(context, index) }
            if unfinished.subtract(1, ordering: .acquiringAndReleasing).newValue == 0 { broadcast(finished) }
        }
    }

    /// Spins on `condition`, then sleeps on `signal` until it holds. Wakers change the
    /// state before they broadcast under the lock, so no wake-up is lost.
    private func wait(until condition: (ThreadPool) -> Bool, on signal: UnsafeMutablePointer<pthread_cond_t>) {
        for poll in 0 ..< spinLimit {
            if condition(self) { return }
            // Let a thread that shares this core (when the scheduler puts them together) run.
            if poll % 1024 == 1023 { sched_yield() }
        }
        pthread_mutex_lock(lock)
        while !condition(self) { pthread_cond_wait(signal, lock) }
        pthread_mutex_unlock(lock)
    }

    private func broadcast(_ signal: UnsafeMutablePointer<pthread_cond_t>) {
        pthread_mutex_lock(lock)
        pthread_cond_broadcast(signal)
        pthread_mutex_unlock(lock)
    }

    /// A worker refers to the pool without retaining it (deinit, which joins the workers,
    /// must be able to run), which is safe because the pool outlives every worker.
    private func startWorker(index: Int) -> pthread_t? {
        let context = Unmanaged.passRetained(WorkerContext(pool: Unmanaged.passUnretained(self), index: index))
        var thread = pthread_t()
        let status = pthread_create(&thread, nil, { raw in
            guard let raw else { return nil }
            let context = Unmanaged<WorkerContext>.fromOpaque(raw).takeRetainedValue()
            context.pool._withUnsafeGuaranteedRef { $0.work(index: context.index) }
            return nil
        }, context.toOpaque())
        guard status == 0 else {
            context.release()
            return nil
        }
        return thread
    }

    private final class WorkerContext {
        let pool: Unmanaged<ThreadPool>
        let index: Int

        init(pool: Unmanaged<ThreadPool>, index: Int) {
            self.pool = pool
            self.index = index
        }
    }
}
