#include "connectors/postgres/decode/pgoutputdecoder.h"

#include <QtEndian>

namespace tapedeck {

// Big-endian reader over one message; every read checks the bounds, so a
// truncated or hostile message ends in an error, never a crash.
struct PgOutputDecoder::Reader
{
    QByteArrayView data;
    qsizetype pos = 0;
    bool ok = true;

    bool need(qsizetype n)
    {
        if (!ok || n < 0 || data.size() - pos < n)
            ok = false;
        return ok;
    }
    quint8 u8()
    {
        if (!need(1))
            return 0;
        return quint8(data[pos++]);
    }
    quint16 u16()
    {
        if (!need(2))
            return 0;
        const auto v = qFromBigEndian<quint16>(data.data() + pos);
        pos += 2;
        return v;
    }
    quint32 u32()
    {
        if (!need(4))
            return 0;
        const auto v = qFromBigEndian<quint32>(data.data() + pos);
        pos += 4;
        return v;
    }
    qint64 i64()
    {
        if (!need(8))
            return 0;
        const auto v = qFromBigEndian<qint64>(data.data() + pos);
        pos += 8;
        return v;
    }
    QByteArray string()
    {
        if (!ok)
            return {};
        const qsizetype end = data.indexOf('\0', pos);
        if (end < 0) {
            ok = false;
            return {};
        }
        QByteArray s = data.sliced(pos, end - pos).toByteArray();
        pos = end + 1;
        return s;
    }
    QByteArray bytes(qsizetype n)
    {
        if (!need(n))
            return {};
        QByteArray b = data.sliced(pos, n).toByteArray();
        pos += n;
        return b;
    }
};

PgOutputDecoder::PgOutputDecoder(PgCatalog catalog)
    : m_catalog(std::move(catalog))
{
}

bool PgOutputDecoder::readTuple(Reader &r, const Relation &rel, Row *row)
{
    const int n = r.u16();
    if (!r.ok)
        return false;
    row->reserve(n);
    for (int i = 0; i < n && r.ok; ++i) {
        Column c;
        if (i < rel.columns.size()) {
            c.name = rel.columns[i].name;
            c.type = m_catalog.typeName(rel.columns[i].typeOid);
        } else {
            c.name = QString::number(i + 1); // the server sent more columns than the relation had
        }
        switch (r.u8()) {
        case 'n':
            break;
        case 'u':
            c.unchangedToast = true;
            break;
        case 't':
        case 'b': {
            const qint32 len = qint32(r.u32());
            c.value = r.bytes(len);
            break;
        }
        default:
            r.ok = false;
        }
        row->append(std::move(c));
    }
    return r.ok;
}

void PgOutputDecoder::deliver(Event event, QList<Event> *out)
{
    if (m_inStream) {
        m_streamed[m_streamXid].append({event.transactionId, std::move(event)});
        return;
    }
    out->append(std::move(event));
}

bool PgOutputDecoder::change(Reader &r, char type, qint64 lsn, QList<Event> *out)
{
    pgchange::TxnInfo txn = m_txn;
    if (m_inStream) {
        txn = {};
        txn.xid = r.u32(); // the (sub)transaction's xid; the top-level one comes from Stream Start
    }
    if (type == 'T') {
        const quint32 count = r.u32();
        r.u8(); // options: 1 CASCADE, 2 RESTART IDENTITY
        if (!r.need(qsizetype(count) * 4))
            return false;
        for (quint32 i = 0; i < count; ++i) {
            const auto rel = m_relations.constFind(r.u32());
            if (rel == m_relations.cend())
                return r.ok = false;
            Event e = pgchange::change(m_catalog, Operation::Truncate, lsn, txn, rel->schema, rel->name, {}, {}, {});
            deliver(std::move(e), out);
        }
        return r.ok;
    }
    const auto rel = m_relations.constFind(r.u32());
    if (!r.ok || rel == m_relations.cend())
        return r.ok = false;
    Row oldRow, newRow;
    quint8 tag = r.u8();
    if ((type == 'U' || type == 'D') && (tag == 'K' || tag == 'O')) {
        if (!readTuple(r, *rel, &oldRow))
            return false;
        if (tag == 'K') {
            // A key-only old tuple sends nulls for the other columns: drop them.
            Row keyOnly;
            for (int i = 0; i < oldRow.size() && i < rel->columns.size(); ++i) {
                if (rel->columns[i].isKey)
                    keyOnly.append(oldRow[i]);
            }
            oldRow = keyOnly;
        }
        if (type == 'U')
            tag = r.u8();
    }
    if (type != 'D') {
        if (tag != 'N')
            return r.ok = false;
        if (!readTuple(r, *rel, &newRow))
            return false;
    }
    QStringList identity;
    if (rel->replicaIdentity != 'f') {
        for (const RelationColumn &c : rel->columns) {
            if (c.isKey)
                identity.append(c.name);
        }
    }
    const Operation op = type == 'I' ? Operation::Insert : type == 'U' ? Operation::Update : Operation::Delete;
    deliver(pgchange::change(m_catalog, op, lsn, txn, rel->schema, rel->name, std::move(oldRow), std::move(newRow), identity), out);
    return r.ok;
}

// One message, by its type byte; the handlers below read the rest, and a
// short or malformed message leaves r.ok false.
bool PgOutputDecoder::decode(qint64 lsn, QByteArrayView data, QList<Event> *out, QString *error)
{
    Reader r{data};
    const char type = char(r.u8());
    switch (type) {
    case 'B':
        begin(r, lsn, out);
        break;
    case 'C':
        commit(r, lsn, out);
        break;
    case 'O':
        r.i64();
        r.string(); // origin name: not kept
        break;
    case 'R':
        relation(r);
        break;
    case 'Y':
        typeName(r);
        break;
    case 'I':
    case 'U':
    case 'D':
    case 'T':
        change(r, type, lsn, out);
        break;
    case 'M':
        message(r, lsn, out);
        break;
    case 'S': // Stream Start (protocol 2)
        m_streamXid = r.u32();
        r.u8();
        m_inStream = r.ok;
        break;
    case 'E':
        m_inStream = false;
        break;
    case 'c':
        streamCommit(r, lsn, out);
        break;
    case 'A':
        streamAbort(r);
        break;
    default:
        *error = QStringLiteral("pgoutput: unknown message type 0x%1 at %2")
                     .arg(quint8(type), 2, 16, QLatin1Char('0')).arg(pgchange::formatLsn(lsn));
        return false;
    }
    if (!r.ok) {
        *error = QStringLiteral("pgoutput: malformed '%1' message (%2 bytes) at %3")
                     .arg(QLatin1Char(type)).arg(data.size()).arg(pgchange::formatLsn(lsn));
        return false;
    }
    return true;
}

void PgOutputDecoder::begin(Reader &r, qint64 lsn, QList<Event> *out)
{
    m_txn.commitLsn = r.i64();
    m_txn.commitTimeUs = pgchange::fromPgEpochUs(r.i64());
    m_txn.xid = r.u32();
    if (r.ok)
        out->append(pgchange::marker(m_catalog.database, Operation::Begin, lsn, m_txn));
}

void PgOutputDecoder::commit(Reader &r, qint64 lsn, QList<Event> *out)
{
    r.u8(); // flags, unused
    const qint64 commitLsn = r.i64();
    const qint64 endLsn = r.i64();
    const qint64 ts = pgchange::fromPgEpochUs(r.i64());
    if (!r.ok)
        return;
    m_txn.commitLsn = commitLsn;
    m_txn.commitTimeUs = ts;
    out->append(pgchange::marker(m_catalog.database, Operation::Commit, lsn, m_txn));
    m_lastCommitEnd = endLsn;
    m_txn = {};
}

void PgOutputDecoder::relation(Reader &r)
{
    if (m_inStream)
        r.u32();
    const quint32 relid = r.u32();
    Relation rel;
    rel.schema = QString::fromUtf8(r.string());
    rel.name = QString::fromUtf8(r.string());
    rel.replicaIdentity = char(r.u8());
    const int n = r.u16();
    for (int i = 0; i < n && r.ok; ++i) {
        RelationColumn c;
        c.isKey = r.u8() & 1;
        c.name = QString::fromUtf8(r.string());
        c.typeOid = r.u32();
        r.u32(); // typmod
        rel.columns.append(c);
    }
    if (r.ok)
        m_relations.insert(relid, rel);
}

void PgOutputDecoder::typeName(Reader &r)
{
    if (m_inStream)
        r.u32();
    const quint32 oid = r.u32();
    const QByteArray ns = r.string();
    const QByteArray name = r.string();
    if (r.ok && !m_catalog.typeNames.contains(oid))
        m_catalog.typeNames.insert(oid, QString::fromUtf8(ns == "pg_catalog" ? name : ns + '.' + name));
}

void PgOutputDecoder::message(Reader &r, qint64 lsn, QList<Event> *out)
{
    pgchange::TxnInfo txn = m_txn;
    if (m_inStream) {
        txn = {};
        txn.xid = r.u32();
    }
    const bool transactional = r.u8() & 1;
    r.i64(); // the message's LSN, the same as `lsn`
    const QByteArray prefix = r.string();
    const qint32 len = qint32(r.u32());
    const QByteArray content = r.bytes(len);
    if (!r.ok)
        return;
    if (!transactional)
        txn = {};
    Event e = pgchange::message(m_catalog.database, lsn, txn, prefix, content);
    if (transactional)
        deliver(std::move(e), out);
    else
        out->append(std::move(e));
}

void PgOutputDecoder::streamCommit(Reader &r, qint64 lsn, QList<Event> *out)
{
    const qint64 xid = r.u32();
    r.u8();
    pgchange::TxnInfo txn;
    txn.xid = xid;
    txn.commitLsn = r.i64();
    const qint64 endLsn = r.i64();
    txn.commitTimeUs = pgchange::fromPgEpochUs(r.i64());
    if (!r.ok)
        return;
    out->append(pgchange::marker(m_catalog.database, Operation::Begin, lsn, txn));
    const QList<StreamedEvent> events = m_streamed.take(xid);
    for (StreamedEvent s : events) {
        s.event.transactionId = txn.xid;
        s.event.commitLsn = txn.commitLsn;
        s.event.commitTimeUs = s.event.timestampUs = txn.commitTimeUs;
        s.event.timestampType = TimestampType::CommitTime;
        out->append(std::move(s.event));
    }
    out->append(pgchange::marker(m_catalog.database, Operation::Commit, lsn, txn));
    m_lastCommitEnd = endLsn;
}

// A whole transaction or one subtransaction.
void PgOutputDecoder::streamAbort(Reader &r)
{
    const qint64 xid = r.u32();
    const qint64 subXid = r.u32();
    if (!r.ok)
        return;
    if (xid == subXid)
        m_streamed.remove(xid);
    else
        m_streamed[xid].removeIf([subXid](const StreamedEvent &s) { return s.subXid == subXid; });
}

} // namespace tapedeck
