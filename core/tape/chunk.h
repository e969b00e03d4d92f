#pragma once

#include "core/event/event.h"

#include <QByteArray>
#include <QByteArrayView>
#include <QVector>

namespace tapedeck {

// One decoded chunk of a tape: up to a few thousand events in columns.
// Immutable once built; shared between threads through shared_ptr<const Chunk>.
// The accessors read single fields without building an Event, which is what
// the table and the filter use for speed.
class Chunk
{
public:
    // Decodes a raw (decompressed) chunk payload. Returns false on malformed input.
    bool decode(QByteArray raw, QString *error);

    int count() const { return m_count; }
    qint64 rawSize() const { return m_raw.size(); }
    quint32 streamId(int i) const { return m_streamId[i]; }
    qint64 position(int i) const { return m_position[i]; }
    qint64 timestampUs(int i) const { return m_timestampUs[i]; }
    TimestampType timestampType(int i) const { return TimestampType(m_tsType[i]); }
    Operation operation(int i) const { return Operation(m_operation[i]); }
    quint8 flags(int i) const { return m_flags[i]; }
    qint32 broker(int i) const { return m_broker[i]; }
    qint32 leaderEpoch(int i) const { return m_leaderEpoch[i]; }
    bool hasKey(int i) const { return m_keyOffset[i] >= 0; }
    bool hasValue(int i) const { return m_valueOffset[i] >= 0; }
    QByteArrayView key(int i) const; // empty view when null: check hasKey()
    QByteArrayView value(int i) const;
    qint32 keySize(int i) const { return m_keySize[i]; }
    qint32 valueSize(int i) const { return m_valueSize[i]; }
    int headerCount(int i) const { return m_headerCount[i]; }
    QList<Header> headers(int i) const;
    // The change fields as stored (CBOR, tapeformat.md); empty when none.
    QByteArrayView extension(int i) const { return QByteArrayView(m_raw.constData() + m_extOffset[i], m_extSize[i]); }
    // Fills all fields that are stored per event; kind/cluster/topic/partition
    // come from the stream table (Tape::event() fills those). Without
    // `payload`, key, value and headers are left empty (the identity mapping
    // into SQL reads only the change-event fields). Without `change`, the
    // change fields (rows, key names, txid, LSN, commit time) are left empty
    // too: a transform reads them from extension(i) itself.
    void fill(int i, Event *event, bool payload = true, bool change = true) const;

private:
    // decode(), in stages: the columns sized for n events, then the events
    // read from the sections that start at offsets[s] (SectionCount + 1 of them).
    void resizeColumns(int n);
    bool decodeEvents(const qsizetype *offsets, QString *error);

    int m_count = 0;
    QByteArray m_raw;
    QVector<quint32> m_streamId;
    QVector<qint64> m_position;
    QVector<qint64> m_timestampUs;
    QVector<quint8> m_tsType, m_operation, m_flags;
    QVector<qint32> m_broker, m_leaderEpoch;
    QVector<qint32> m_keyOffset, m_keySize;     // offset -1: null
    QVector<qint32> m_valueOffset, m_valueSize; // offset -1: null
    QVector<qint32> m_headersOffset, m_headerCount;
    QVector<qint32> m_extOffset, m_extSize;     // change-event fields (CBOR), size 0: none
};

} // namespace tapedeck
