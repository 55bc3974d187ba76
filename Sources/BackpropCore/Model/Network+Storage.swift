extension Network {
    /// gathers its inputs straight into it instead of into a buffer of its own.
    func inputBuffer(batch: Int) throws(BackpropError) -> UnsafeMutablePointer<Float> {
        try reserveStorage(batch: batch).activations[0]
    }

    func reserveStorage(batch: Int) throws(BackpropError) -> BatchStorage {
        if let storage, storage.capacity >= batch { return storage }
        let grown = try BatchStorage(layerSizes: layerSizes, activations: activations, capacity: batch)
        storage?.free()
        storage = grown
        forwardBatch = nil  // the kept activations went with the old buffers
        startThreadsIfWorthwhile(batch: batch)
        reserveSparseWorkspace(batch: batch)
        return grown
    }

    /// The dropout buffers for a training pass of `batch` samples, when the network drops.
    func reserveDropoutBuffers(batch: Int) throws(BackpropError) -> DropoutBuffers? {
        guard let dropout else { return nil }
        if let dropoutBuffers, dropoutBuffers.capacity >= batch { return dropoutBuffers }
        let grown = try DropoutBuffers(widths: Array(layerSizes.dropFirst()), rates: dropout.rates, capacity: batch)
        dropoutBuffers?.free()
        dropoutBuffers = grown
        if forwardDropped { forwardBatch = nil }  // the kept activations read the old buffers
        return grown
    }

    /// Allocates `SparseGEMM`'s workspace once some product of a `batch`-sample step with a
    /// ReLU layer's a^l or δ^l suits it. Without memory those products simply stay dense.
    func reserveSparseWorkspace(batch: Int) {
        guard sparseWorkspace == nil else { return }
        let suited = layers.indices.contains { index in
            let layer = layers[index]
            let above = index + 1 < layers.count ? layers[index + 1].width : 0
            return layer.activation == .relu
                && (SparseGEMM.suits(m: layer.width, n: layer.inputWidth, k: batch)
                    || SparseGEMM.suits(m: batch, n: above, k: layer.width))
        }
        if suited { sparseWorkspace = try? SparseGEMM.Workspace(maxColumns: layerSizes.max() ?? 1) }
    }

    // MARK: Threads

    public static let maxThreadCount = 256

    static let onlineCores = min(ThreadPool.onlineCores, maxThreadCount)

    /// Sets how many threads a training step may use; 0 restores the default, the number
    /// of online cores. Large products are split across them; results are the same for
    /// any thread count. Inference (`predict`, `evaluate`) always uses the calling thread.
    public func setThreadCount(_ count: Int) throws(BackpropError) {
        guard (0 ... Self.maxThreadCount).contains(count) else {
            throw BackpropError(.invalidArgument, "thread count is \(count); expected 0 (all cores) to \(Self.maxThreadCount)")
        }
        releaseThreads()
        threadCount = count == 0 ? Self.onlineCores : count
        if let storage { startThreadsIfWorthwhile(batch: storage.capacity) }
    }

    /// Starts the worker threads, with a packing workspace each, when some product of a
    /// `batch`-sample step is large enough to split, or the update is (a network of
    /// `OptimizerState.minimumParallelCount` parameters). Without memory or threads the
    /// network simply stays on one thread.
    func startThreadsIfWorthwhile(batch: Int) {
        guard threads == nil, threadCount > 1 else { return }
        // The three products of each layer: forward, weight gradient, hidden delta.
        let splitsProducts = layers.contains { layer in
            (batch == 1 && GEMMThreads.multiplyAdds(layer.width, layer.inputWidth, 1) >= MatrixVector.minimumParallelWork)
                || GEMMThreads.splits(m: batch, n: layer.width, k: layer.inputWidth, parts: threadCount)
                || GEMMThreads.splits(m: layer.width, n: layer.inputWidth, k: batch, parts: threadCount)
                || GEMMThreads.splits(m: batch, n: layer.inputWidth, k: layer.width, parts: threadCount)
        }
        guard splitsProducts || parameterCount >= OptimizerState.minimumParallelCount else { return }
        let pool = ThreadPool(threads: threadCount)
        var workspaces = [workspace]
        for _ in 1 ..< pool.threadCount {
            guard let extra = try? GEMMWorkspace(maxColumns: layerSizes.max() ?? 1) else { break }
            workspaces.append(extra)
        }
        guard workspaces.count == pool.threadCount, pool.threadCount > 1 else {
            workspaces.dropFirst().forEach { $0.free() }
            return
        }
        threads = GEMMThreads(pool: pool, workspaces: workspaces)
    }

    func releaseThreads() {
        threads?.workspaces.dropFirst().forEach { $0.free() }
        threads = nil
    }
}
