#pragma once

#include "connectors/postgres/decode/pgdecoder.h"

#include <QHash>

namespace tapedeck {

// pgoutput, the built-in plugin of logical replication: protocol version 1
// (and the streamed-transaction messages of version 2). Format notes:
// connectors/postgres/README.md.
class PgOutputDecoder : public PgDecoder
{
public:
    explicit PgOutputDecoder(PgCatalog catalog);
    bool decode(qint64 lsn, QByteArrayView data, QList<Event> *out, QString *error) override;

    struct RelationColumn
    {
        QString name;
        quint32 typeOid = 0;
        bool isKey = false;
    };
    struct Relation
    {
        QString schema;
        QString name;
        char replicaIdentity = 'd';
        QList<RelationColumn> columns;
    };

private:
    struct Reader;
    struct StreamedEvent
    {
        qint64 subXid;
        Event event;
    };
    bool readTuple(Reader &r, const Relation &rel, Row *row);
    bool change(Reader &r, char type, qint64 lsn, QList<Event> *out);
    // The other messages, one each ('B', 'C', 'R', 'Y', 'M', 'c', 'A').
    void begin(Reader &r, qint64 lsn, QList<Event> *out);
    void commit(Reader &r, qint64 lsn, QList<Event> *out);
    void relation(Reader &r);
    void typeName(Reader &r);
    void message(Reader &r, qint64 lsn, QList<Event> *out);
    void streamCommit(Reader &r, qint64 lsn, QList<Event> *out);
    void streamAbort(Reader &r);
    void deliver(Event event, QList<Event> *out);

    PgCatalog m_catalog;
    QHash<quint32, Relation> m_relations;
    pgchange::TxnInfo m_txn;
    bool m_inStream = false;
    qint64 m_streamXid = -1;
    QHash<qint64, QList<StreamedEvent>> m_streamed; // top-level xid -> changes not yet committed
};

} // namespace tapedeck
