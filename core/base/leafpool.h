#pragma once

class QThreadPool;

namespace tapedeck {

// A process-wide thread pool for leaf work: tasks that run to the end
// without waiting on any pool (decoding chunks, say). Code that may itself
// run on a pool thread and must wait for parallel parts hands the parts to
// this pool, never to the pool it runs on: two such waits on a 2-thread
// global pool once held both threads while their parts queued behind them,
// and the GUI froze for good (#20). Thread-safe.
QThreadPool *leafPool();

} // namespace tapedeck
