#pragma once

#include "connectors/postgres/pgconnection.h"

#include <QByteArray>
#include <QElapsedTimer>

namespace tapedeck {

// The CopyBoth part of the streaming replication protocol on a
// replication=database connection: START_REPLICATION ... LOGICAL, XLogData
// and keepalive messages in, standby status updates out. It reports exactly
// the flush position it is given (0 = confirm nothing), never the keepalive's
// walEnd, so a slot only moves when the caller decides it.
class PgReplicationStream
{
public:
    explicit PgReplicationStream(PgConnection &connection) : m_conn(connection) {}

    // options: already quoted "(name 'value', ...)" text, may be empty.
    bool start(const QString &slot, const QByteArray &options, QString *error);

    struct Message
    {
        bool keepalive = false;
        qint64 lsn = -1;    // XLogData dataStart
        qint64 walEnd = -1; // keepalive: how far the server has decoded
        QByteArray data;
    };
    enum class Status { Message, Timeout, End, Error };
    Status next(int timeoutMs, Message *out, QString *error);

    // Standby status update with write = flush = apply = flushLsn (<= 0: nothing).
    bool sendStatus(qint64 flushLsn, bool replyRequested, QString *error);
    // Sends one every 10 s so wal_sender_timeout does not end the session.
    bool keepAlive(qint64 flushLsn, QString *error);
    bool finish(QString *error);

private:
    PgConnection &m_conn;
    QElapsedTimer m_sinceStatus;
    bool m_streaming = false;
};

} // namespace tapedeck
