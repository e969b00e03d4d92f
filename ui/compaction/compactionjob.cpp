#include "ui/compaction/compactionjob.h"

#include "core/tape/tape.h"

namespace tapedeck {

CompactionJobResult runCompactionJob(const CompactionJobInput &in, const std::function<bool()> &cancelled)
{
    CompactionJobResult out;
    if (!in.tape) {
        out.error = QStringLiteral("no tape");
        return out;
    }
    CompactionPreview preview;
    if (in.logs) {
        preview = *in.logs;
    } else {
        CompactionPreview::Options options;
        options.selection = in.selection;
        options.keepSequences = true;
        if (!CompactionPreview::build(*in.tape, options, &preview, &out.error))
            return out;
    }
    if (cancelled())
        return out;
    if (!preview.setOverrides(in.overrides, &out.error))
        return out;
    preview.nowIsDefault = in.nowMs < 0;
    preview.nowMs = in.nowMs < 0 ? std::max<qint64>(0, preview.latestTimestampMs()) : in.nowMs;
    preview.passTimes = in.passTimes;
    preview.recompute();
    if (cancelled())
        return out;
    const qsizetype n = qsizetype(in.tape->eventCount());
    out.removedNext.resize(n);
    out.removedFull.resize(n);
    for (const CompactionPreview::Partition &p : std::as_const(preview.partitions)) {
        for (int i = 0; i < p.sequence.size(); ++i) {
            const qsizetype seq = qsizetype(p.sequence[i]);
            if (seq >= n)
                continue;
            if (!p.nextPass.isKept(i))
                out.removedNext.setBit(seq);
            if (!p.converged.isKept(i))
                out.removedFull.setBit(seq);
        }
    }
    out.preview = std::make_shared<const CompactionPreview>(std::move(preview));
    out.ok = true;
    return out;
}

} // namespace tapedeck
