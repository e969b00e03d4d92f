#include "core/replay/replayrequest.h"

#include "core/event/bound.h"

#include <QFile>
#include <QFileInfo>

using namespace Qt::StringLiterals;

namespace tapedeck {

namespace {

bool readBound(const QString &text, const QString &label, ReplayRequest::Unit unit, bool isFrom, ReplayOptions *o,
               QString *problem)
{
    const QString t = text.trimmed();
    if (t.isEmpty())
        return true;
    const bool time = unit == ReplayRequest::Unit::Times || (unit == ReplayRequest::Unit::BySpelling && t.startsWith(u'@'));
    const auto v = time ? bound::parseTime(t) : bound::parsePosition(t);
    if (!v) {
        *problem = u"%1: “%2” is not %3"_s.arg(label, t,
                                               time ? u"a time (%1)"_s.arg(bound::timeSyntax())
                                                    : u"a position (an offset or an LSN such as 16/B374D848)"_s);
        return false;
    }
    if (time)
        (isFrom ? o->fromTimeMs : o->toTimeMs) = *v;
    else
        (isFrom ? o->fromPosition : o->toPosition) = *v;
    return true;
}

bool readTransform(const ReplayRequest &r, ReplayOptions *o, QString *problem)
{
    o->transformSource = r.transformSource;
    o->transformFile = r.transformName;
    if (r.transformPath.isEmpty())
        return true;
    QFile f(r.transformPath);
    if (!f.open(QIODevice::ReadOnly)) {
        *problem = u"%1: %2"_s.arg(r.transformPath, f.errorString());
        return false;
    }
    o->transformSource = QString::fromUtf8(f.readAll());
    o->transformFile = QFileInfo(r.transformPath).fileName();
    return true;
}

} // namespace

bool toOptions(const ReplayRequest &r, ReplayOptions *o, QString *problem, bool *unreadable)
{
    if (unreadable)
        *unreadable = false;
    if (!readBound(r.from, r.fromLabel, r.unit, true, o, problem) || !readBound(r.to, r.toLabel, r.unit, false, o, problem))
        return false;
    if (o->fromTimeMs > o->toTimeMs || o->fromPosition > o->toPosition) {
        *problem = u"%1 is after %2"_s.arg(r.fromLabel, r.toLabel);
        return false;
    }
    if (r.batchEvents < 1 || r.threads < 1 || r.threads > MaxReplayThreads || r.timeoutMs < 1) {
        *problem = u"batch, engines and timeout take positive numbers (at most %1 engines)"_s.arg(MaxReplayThreads);
        return false;
    }
    if (r.heapMb < 1) {
        *problem = u"the JavaScript heap limit takes a positive number of MB"_s;
        return false;
    }
    o->replayId = r.replayId.trimmed();
    if (o->replayId.isEmpty()) {
        *problem = u"Give the replay an id (rerunning with it resumes)"_s;
        return false;
    }
    if (!r.skipErrors && !r.deadLetterPath.isEmpty()) {
        *problem = u"a dead-letter file needs skipping failed events"_s;
        return false;
    }
    o->onError = r.skipErrors ? ReplayOptions::OnError::Skip : ReplayOptions::OnError::Stop;
    o->deadLetterPath = r.deadLetterPath.trimmed();
    o->batchEvents = r.batchEvents;
    o->threads = r.threads;
    o->timeoutMs = r.timeoutMs;
    o->heapLimit = qint64(r.heapMb) << 20;
    o->dryRun = r.dryRun;
    if (readTransform(r, o, problem))
        return true;
    if (unreadable)
        *unreadable = true;
    return false;
}

} // namespace tapedeck
