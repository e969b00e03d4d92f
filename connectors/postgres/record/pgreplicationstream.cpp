#include "connectors/postgres/record/pgreplicationstream.h"

#include "connectors/postgres/decode/pgchange.h"

#include <QDateTime>
#include <QtEndian>

#include <libpq-fe.h>
#include <poll.h>

namespace tapedeck {

bool PgReplicationStream::start(const QString &slot, const QByteArray &options, QString *error)
{
    const QByteArray sql = "START_REPLICATION SLOT " + PgConnection::quoteIdentifier(slot.toUtf8()) + " LOGICAL 0/0 " + options;
    pg::ResultPtr r(PQexec(m_conn.handle(), sql.constData()));
    if (PQresultStatus(r.get()) != PGRES_COPY_BOTH) {
        *error = QString::fromUtf8(PQresultErrorMessage(r.get())).trimmed();
        if (error->isEmpty())
            *error = m_conn.lastError();
        return false;
    }
    m_streaming = true;
    m_sinceStatus.start();
    return true;
}

PgReplicationStream::Status PgReplicationStream::next(int timeoutMs, Message *out, QString *error)
{
    QElapsedTimer waited;
    waited.start();
    for (;;) {
        char *buffer = nullptr;
        const int n = PQgetCopyData(m_conn.handle(), &buffer, 1);
        if (n > 0) {
            const QByteArrayView m(buffer, n);
            bool ok = true;
            if (m[0] == 'w' && n >= 25) {
                out->keepalive = false;
                out->lsn = qFromBigEndian<qint64>(m.data() + 1);
                out->walEnd = qFromBigEndian<qint64>(m.data() + 9);
                out->data = m.sliced(25).toByteArray();
            } else if (m[0] == 'k' && n >= 18) {
                out->keepalive = true;
                out->walEnd = qFromBigEndian<qint64>(m.data() + 1);
                out->lsn = -1;
                out->data.clear();
            } else {
                ok = false;
            }
            PQfreemem(buffer);
            if (!ok) {
                *error = QStringLiteral("unexpected replication message (%1 bytes)").arg(n);
                return Status::Error;
            }
            return Status::Message;
        }
        if (n == 0) {
            const int left = timeoutMs - int(waited.elapsed());
            if (left <= 0)
                return Status::Timeout;
            pollfd fd{PQsocket(m_conn.handle()), POLLIN, 0};
            if (poll(&fd, 1, std::min(left, 200)) < 0 && errno != EINTR) {
                *error = QStringLiteral("poll failed");
                return Status::Error;
            }
            if (!PQconsumeInput(m_conn.handle())) {
                *error = QStringLiteral("lost the connection to PostgreSQL: ") + m_conn.lastError();
                return Status::Error;
            }
            continue;
        }
        m_streaming = false;
        if (n == -1) {
            pg::ResultPtr r(PQgetResult(m_conn.handle()));
            if (r && PQresultStatus(r.get()) != PGRES_COMMAND_OK) {
                *error = QString::fromUtf8(PQresultErrorMessage(r.get())).trimmed();
                return Status::Error;
            }
            return Status::End;
        }
        *error = QStringLiteral("lost the connection to PostgreSQL: ") + m_conn.lastError();
        return Status::Error;
    }
}

bool PgReplicationStream::sendStatus(qint64 flushLsn, bool replyRequested, QString *error)
{
    char buffer[34];
    const qint64 position = std::max<qint64>(flushLsn, 0);
    buffer[0] = 'r';
    qToBigEndian<qint64>(position, buffer + 1);  // written
    qToBigEndian<qint64>(position, buffer + 9);  // flushed: the only one that moves a slot
    qToBigEndian<qint64>(position, buffer + 17); // applied
    qToBigEndian<qint64>(QDateTime::currentMSecsSinceEpoch() * 1000 - pgchange::PgEpochOffsetUs, buffer + 25);
    buffer[33] = replyRequested ? 1 : 0;
    if (PQputCopyData(m_conn.handle(), buffer, sizeof buffer) <= 0 || PQflush(m_conn.handle()) < 0) {
        *error = QStringLiteral("lost the connection to PostgreSQL: ") + m_conn.lastError();
        return false;
    }
    m_sinceStatus.restart();
    return true;
}

bool PgReplicationStream::keepAlive(qint64 flushLsn, QString *error)
{
    if (m_sinceStatus.elapsed() < 10000)
        return true;
    return sendStatus(flushLsn, false, error);
}

bool PgReplicationStream::finish(QString *error)
{
    if (!m_streaming)
        return true;
    m_streaming = false;
    if (PQputCopyEnd(m_conn.handle(), nullptr) <= 0 || PQflush(m_conn.handle()) < 0) {
        *error = m_conn.lastError();
        return false;
    }
    // Drain what the server still sends until it ends the copy, then the command's result.
    for (int i = 0; i < 1000; ++i) {
        char *buffer = nullptr;
        const int n = PQgetCopyData(m_conn.handle(), &buffer, 0);
        if (buffer)
            PQfreemem(buffer);
        if (n < 0)
            break;
    }
    while (pg::ResultPtr r{PQgetResult(m_conn.handle())}) {
    }
    return true;
}

} // namespace tapedeck
