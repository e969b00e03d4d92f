#pragma once

#include "connectors/postgres/decode/pgchange.h"

#include <QByteArrayView>
#include <QList>
#include <QString>

#include <memory>

namespace tapedeck {

// Turns the messages of one logical decoding output plugin into Events.
// Pure byte parsing (no libpq): fed by a replication stream or by peek rows,
// one message at a time, in order. A decoder keeps per-session state
// (pgoutput relations, open transactions) and is owned by one thread.
class PgDecoder
{
public:
    virtual ~PgDecoder() = default;

    // `lsn`: the message's position (XLogData dataStart, or a peek row's lsn).
    // Appends the events it completes to *out (a decoder may hold events back
    // until the commit that carries their timestamp). false + *error on a
    // message it cannot parse; the decoder is then in an undefined state.
    virtual bool decode(qint64 lsn, QByteArrayView data, QList<Event> *out, QString *error) = 0;

    // Position to confirm to the server once everything decoded so far is
    // safely stored: the end of the last complete transaction, -1 if none.
    qint64 lastCommitEnd() const { return m_lastCommitEnd; }

    // "pgoutput", "wal2json", "test_decoding"; nullptr for another name.
    static std::unique_ptr<PgDecoder> create(const QString &plugin, const PgCatalog &catalog);
    static QStringList plugins();

protected:
    // The error of a text plugin's message it cannot parse: the plugin, the
    // message's first 120 bytes and its LSN.
    static QString cannotParse(const char *plugin, QByteArrayView data, qint64 lsn);

    qint64 m_lastCommitEnd = -1;
};

} // namespace tapedeck
