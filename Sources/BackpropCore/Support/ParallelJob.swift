/// A job that `ThreadPool` splits into parts, one per thread: `run(part:)` is called once
/// for each part 0 ..< threadCount, concurrently, so it must only write what its part owns.
protocol ParallelJob {
    func run(part: Int)
}

/// Contiguous bands of `count` items, one per part, each a whole number of `granularity`
/// items (the last takes the rest; parts past the end get an empty band). Splitting on a
/// fixed granularity keeps every item's arithmetic the same at any thread count.
struct Bands {
    let count: Int
    let width: Int

    init(count: Int, parts: Int, granularity: Int) {
        self.count = count
        let share = (count + parts - 1) / max(parts, 1)
        width = (share + granularity - 1) / granularity * granularity
    }

    func range(part: Int) -> Range<Int> {
        let first = min(part * width, count)
        return first ..< min(first + width, count)
    }
}

extension ThreadPool {
    /// Runs `job.run(part:)` for every part on this pool's threads and returns when all are
    /// done. The job stays on the caller's stack: the pool's C task reaches it through one
    /// existential holding a pointer (inline, so nothing is allocated), and calls it through
    /// one witness-table lookup per part.
    func run<Job: ParallelJob>(_ job: Job) {
        withUnsafePointer(to: job) { pointer in
            var reference: any ParallelJob = JobReference(job: pointer)
            withUnsafePointer(to: &reference) { reference in
                run(context: reference) { context, part in
                    context.assumingMemoryBound(to: (any ParallelJob).self).pointee.run(part: part)
                }
            }
        }
    }
}

/// A job by address, so that the existential `ThreadPool.run` passes is one word.
private struct JobReference<Job: ParallelJob>: ParallelJob {
    let job: UnsafePointer<Job>
    func run(part: Int) { job.pointee.run(part: part) }
}
