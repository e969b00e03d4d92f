#pragma once

#include "connectors/postgres/decode/pgdecoder.h"

namespace tapedeck {

// test_decoding, PostgreSQL's example plugin: one text line per change
// ("table public.t: UPDATE: old-key: id[integer]:1 new-tuple: ..."), read with
// include-xids and include-timestamp on. The commit time comes only with the
// COMMIT line, so a transaction's events are held back until then. The plugin
// reports no commit-record LSN: commitLsn stays -1.
class TestDecodingDecoder : public PgDecoder
{
public:
    explicit TestDecodingDecoder(PgCatalog catalog);
    bool decode(qint64 lsn, QByteArrayView data, QList<Event> *out, QString *error) override;

private:
    struct Parser;
    bool parseChange(Parser &p, qint64 lsn, QString *error);

    PgCatalog m_catalog;
    pgchange::TxnInfo m_txn;
    qint64 m_beginLsn = -1;
    QList<Event> m_pending; // the open transaction's events
};

} // namespace tapedeck
