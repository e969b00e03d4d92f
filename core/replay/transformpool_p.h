#pragma once

#include "core/transform/transform.h"

#include <QByteArrayView>
#include <QString>

#include <condition_variable>
#include <mutex>
#include <thread>
#include <vector>

namespace tapedeck {

struct ReplayOptions;

// Transform engines on worker threads. Each QJSEngine is created, used and
// destroyed on its own thread; a batch's events are sharded by stream and key,
// so per key (and per partition) order is kept inside a shard, and outputs
// are merged back in tape order.
//
// Thread: start(), process() and rows() on one thread (the replay's);
// cancel() from any.
class TransformPool
{
public:
    TransformPool() = default;
    ~TransformPool();
    TransformPool(const TransformPool &) = delete;
    TransformPool &operator=(const TransformPool &) = delete;

    // Starts n engines, each compiling the options' transform: false +
    // *error (the first compile error) if one fails.
    bool start(int n, const ReplayOptions &options, QString *error);
    // Runs every event through the engine of its shard, and waits for all.
    // wantRows: plain SQL outputs go into rows(worker) (Transform::runMany()).
    void process(const std::vector<Event> &events, const std::vector<qint64> &seqs, const std::vector<int> &shard,
                 std::vector<Transform::Outcome> &results, const std::vector<QByteArrayView> &extensions, bool wantRows);
    void cancel();
    // A worker's plain SQL outputs of the last process() with wantRows.
    const Transform::Rows &rows(int worker) const { return m_rows[size_t(worker)]; }

private:
    struct Worker
    {
        std::thread thread;
        Transform *transform = nullptr; // owned by the thread
    };
    void loop(int index, const ReplayOptions &options);

    std::mutex m_mutex;
    std::condition_variable m_wake, m_done;
    std::vector<Worker> m_workers;
    int m_generation = 0;
    int m_finished = 0;
    int m_ready = 0;
    bool m_stop = false;
    QString m_compileError;
    const std::vector<Event> *m_events = nullptr;
    const std::vector<qint64> *m_seqs = nullptr;
    const std::vector<int> *m_shard = nullptr;
    std::vector<Transform::Outcome> *m_results = nullptr;
    const std::vector<QByteArrayView> *m_extensions = nullptr; // per event, see Transform::runMany()
    bool m_asRows = false;
    // Per worker: the plain SQL outputs of its last events when m_asRows.
    std::vector<Transform::Rows> m_rows;
};

} // namespace tapedeck
