#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Worker threads created once and reused for every parallel product, so no thread is
/// created per call. `run` hands part 0 to the calling thread and parts 1… to the
/// workers, and returns when all are done. The work is a C function and a context
/// pointer rather than a Swift closure, because a closure shared with other threads
/// would need a heap-allocated context on every call.
final class ThreadPool: @unchecked Sendable {
    /// Threads taking part in `run`, the caller included: the number asked for, or fewer
    /// if the system refused to create more.
    private(set) var threadCount = 1

    private let lock = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    private let wake = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)
    private let finished = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)
    private var workers: [pthread_t] = []
    // Guarded by `lock`.
    private var generation = 0
    private var unfinished = 0
    typealias Task = @convention(c) (UnsafeRawPointer, Int) -> Void
    private var task: Task?
    private var context: UnsafeRawPointer?
    private var stopping = false

    init(threads: Int) {
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
        pthread_mutex_lock(lock)
        stopping = true
        pthread_cond_broadcast(wake)
        pthread_mutex_unlock(lock)
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
        pthread_mutex_lock(lock)
        self.task = task
        self.context = context
        unfinished = threadCount - 1
        generation += 1
        pthread_cond_broadcast(wake)
        pthread_mutex_unlock(lock)
        task(context, 0)
        pthread_mutex_lock(lock)
        while unfinished > 0 { pthread_cond_wait(finished, lock) }
        self.task = nil
        self.context = nil
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

    private func work(index: Int) {
        var seen = 0
        pthread_mutex_lock(lock)
        while true {
            while generation == seen && !stopping { pthread_cond_wait(wake, lock) }
            if stopping { break }
            seen = generation
            let (body, argument) = (task, context)
            pthread_mutex_unlock(lock)
            if let body, let argument { body(argument, index) }
            pthread_mutex_lock(lock)
            unfinished -= 1
            if unfinished == 0 { pthread_cond_signal(finished) }
        }
        pthread_mutex_unlock(lock)
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
