#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import CScheduler
import Synchronization

/// Worker threads created once and reused for every parallel product, so no thread is
/// created per call. `run` splits a job into one part per thread; the calling thread and
/// the workers claim parts from a shared counter until none is left, and `run` returns
/// when all are done. A worker that is late (descheduled, or on a vCPU the host is busy
/// with) simply finds its part already taken by the caller, so a job is never much
/// slower than on one thread.
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
    /// The next part to claim, and how many parts of the current job are done.
    private let nextPart = Atomic<Int>(0)
    private let finishedParts = Atomic<Int>(0)
    /// The CPU the caller of the latest `run` was on.
    private let callerCPU = Atomic<Int>(-1)
    private let stopping = Atomic<Bool>(false)
    // Written before `nextPart` is reset (releasing), read after a part is claimed from it.
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
        for _ in 1 ..< max(threads, 1) {
            guard let thread = startWorker() else { break }
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

    /// Runs task(context, 0) … task(context, threadCount − 1), each part once, on the
    /// calling thread and the workers. `context` must stay valid until `run` returns.
    func run(context: UnsafeRawPointer, _ task: Task) {
        self.task = task
        self.context = context
        finishedParts.store(0, ordering: .relaxed)
        nextPart.store(0, ordering: .releasing)
        callerCPU.store(Int(sched_getcpu()), ordering: .relaxed)
        generation.add(1, ordering: .releasing)
        broadcast(wake)
        claimParts()
        // A worker that shares this CPU can only finish its part if the caller lets it run.
        wait(until: { $0.finishedParts.load(ordering: .acquiring) == $0.threadCount }, on: finished,
             spinningWhile: { _ in
                 sched_yield()
                 return true
             })
    }

    /// Runs unclaimed parts of the current job until there are none. The task and its
    /// context are read only after a part was claimed, so a worker that wakes after the
    /// job is over never touches the caller's (by then stale) context.
    private func claimParts() {
        while true {
            let part = nextPart.add(1, ordering: .acquiringAndReleasing).oldValue
            guard part < threadCount else { return }
            if let task, let context { task(context, part) }
            if finishedParts.add(1, ordering: .acquiringAndReleasing).newValue == threadCount { broadcast(finished) }
        }
    }

    private func work() {
        var seen = 0
        while true {
            // Linux may put a spinning worker on the caller's CPU and, since both stay busy
            // and cache-hot, leave them there; then spinning only steals the caller's time.
            // Sleeping instead lets the next wake-up place the worker on an idle CPU.
            wait(until: { $0.generation.load(ordering: .acquiring) != seen || $0.stopping.load(ordering: .acquiring) },
                 on: wake, spinningWhile: { $0.keepsSpinning() })
            if stopping.load(ordering: .acquiring) { return }
            seen = generation.load(ordering: .acquiring)
            claimParts()
        }
    }

    /// Whether a waiting worker should go on spinning: not when it shares the caller's CPU
    /// (sched_getcpu() fails with -1 on systems without it: then it spins as before).
    /// Otherwise it yields, so that another process's thread on its CPU can run.
    private func keepsSpinning() -> Bool {
        let cpu = Int(sched_getcpu())
        guard cpu < 0 || cpu != callerCPU.load(ordering: .relaxed) else { return false }
        sched_yield()
        return true
    }

    /// Spins on `condition`, then sleeps on `signal` until it holds; every 1024 polls
    /// `keepSpinning` may end the spinning early. Wakers change the state before they
    /// broadcast under the lock, so no wake-up is lost.
    private func wait(
        until condition: (ThreadPool) -> Bool, on signal: UnsafeMutablePointer<pthread_cond_t>,
        spinningWhile keepSpinning: (ThreadPool) -> Bool
    ) {
        for poll in 0 ..< spinLimit {
            if condition(self) { return }
            if poll % 1024 == 1023 && !keepSpinning(self) { break }
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
    private func startWorker() -> pthread_t? {
        var thread = pthread_t()
        let status = pthread_create(&thread, nil, { raw in
            guard let raw else { return nil }
            FloatingPointMode.enterForGood()  // a worker runs library code only
            Unmanaged<ThreadPool>.fromOpaque(raw)._withUnsafeGuaranteedRef { $0.work() }
            return nil
        }, Unmanaged.passUnretained(self).toOpaque())
        return status == 0 ? thread : nil
    }
}
