#include "core/tape/tapeinfo.h"

#include "core/base/printable.h"
#include "core/event/bound.h"

#include <QJsonArray>
#include <QLocale>

namespace tapedeck {

QString formatTimestampUs(qint64 us, bool utc)
{
    if (us < 0)
        return QString();
    return utc ? bound::formatIsoTime(us / 1000) : bound::formatTime(us / 1000, bound::Zone::Local);
}

QString formatBytes(qint64 bytes)
{
    return QLocale::c().formattedDataSize(bytes, 1, QLocale::DataSizeIecFormat);
}

QJsonObject tapeInfoJson(const Tape &tape)
{
    QJsonArray streams;
    for (const StreamStats &s : tape.streams()) {
        streams.append(QJsonObject{
            {QStringLiteral("kind"), toString(s.key.kind)},
            {QStringLiteral("cluster"), s.key.cluster},
            {QStringLiteral("topic"), s.key.topic},
            {QStringLiteral("partition"), s.key.partition},
            {QStringLiteral("events"), s.count},
            {QStringLiteral("firstPosition"), s.minPosition},
            {QStringLiteral("lastPosition"), s.maxPosition},
            {QStringLiteral("firstTimestamp"), formatTimestampUs(s.minTimestampUs)},
            {QStringLiteral("lastTimestamp"), formatTimestampUs(s.maxTimestampUs)},
        });
    }
    return QJsonObject{
        {QStringLiteral("file"), tape.path()},
        {QStringLiteral("formatVersion"), tape.formatVersion()},
        {QStringLiteral("complete"), tape.isComplete()},
        {QStringLiteral("bytes"), tape.fileSize()},
        {QStringLiteral("events"), tape.eventCount()},
        {QStringLiteral("chunks"), tape.chunkCount()},
        {QStringLiteral("firstTimestamp"), tape.eventCount() ? formatTimestampUs(tape.minTimestampUs()) : QString()},
        {QStringLiteral("lastTimestamp"), tape.eventCount() ? formatTimestampUs(tape.maxTimestampUs()) : QString()},
        {QStringLiteral("source"), tape.metadata().toJson()},
        {QStringLiteral("streams"), streams},
        {QStringLiteral("warnings"), QJsonArray::fromStringList(tape.warnings())},
    };
}

QString tapeInfoText(const Tape &tape)
{
    const TapeMetadata &m = tape.metadata();
    QString out;
    out += QStringLiteral("File:      %1\n").arg(printable(tape.path()));
    out += QStringLiteral("Format:    version %1, %2, %3 in %4 chunks\n")
               .arg(tape.formatVersion())
               .arg(tape.isComplete() ? QStringLiteral("complete") : QStringLiteral("not closed (recording or interrupted)"))
               .arg(formatBytes(tape.fileSize()))
               .arg(tape.chunkCount());
    out += QStringLiteral("Source:    %1 (%2)\n").arg(m.source.isEmpty() ? QStringLiteral("-") : printable(m.source), toString(m.sourceKind));
    if (m.recordedAt.isValid())
        out += QStringLiteral("Recorded:  %1 by %2\n").arg(m.recordedAt.toUTC().toString(Qt::ISODate), printable(m.createdBy));
    out += QStringLiteral("Events:    %1\n").arg(tape.eventCount());
    if (tape.eventCount() > 0)
        out += QStringLiteral("Time:      %1 .. %2\n").arg(formatTimestampUs(tape.minTimestampUs()), formatTimestampUs(tape.maxTimestampUs()));
    if (!tape.streams().isEmpty()) {
        out += QStringLiteral("Streams:\n");
        out += QStringLiteral("  %1 %2 %3 %4  %5\n")
                   .arg(QStringLiteral("TOPIC/TABLE"), -30)
                   .arg(QStringLiteral("PART"), 5)
                   .arg(QStringLiteral("EVENTS"), 10)
                   .arg(QStringLiteral("POSITIONS"), -25)
                   .arg(QStringLiteral("TIME"));
        for (const StreamStats &s : tape.streams()) {
            out += QStringLiteral("  %1 %2 %3 %4  %5 .. %6\n")
                       .arg(printable(s.key.topic), -30)
                       .arg(s.key.partition, 5)
                       .arg(s.count, 10)
                       .arg(QStringLiteral("%1..%2").arg(s.minPosition).arg(s.maxPosition), -25)
                       .arg(formatTimestampUs(s.minTimestampUs), formatTimestampUs(s.maxTimestampUs));
        }
    }
    for (const QString &w : tape.warnings())
        out += QStringLiteral("Warning:   %1\n").arg(printable(w));
    return out;
}

} // namespace tapedeck
