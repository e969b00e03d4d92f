#pragma once

#include "connectors/postgres/decode/pgdecoder.h"

namespace tapedeck {

// wal2json format version 2: one JSON object per action (B, C, I, U, D, T, M),
// read with include-xids, include-timestamp, include-lsn, include-pk and
// include-typmod=0 (type names as format_type(oid, NULL), like the others).
// Numbers are kept as the exact text the server wrote (never a double).
// Unchanged TOASTed columns, which wal2json leaves out, are restored as
// "unchanged" from the catalogue's column list.
class Wal2JsonDecoder : public PgDecoder
{
public:
    explicit Wal2JsonDecoder(PgCatalog catalog);
    bool decode(qint64 lsn, QByteArrayView data, QList<Event> *out, QString *error) override;

    // The plugin options this decoder expects.
    static QList<std::pair<QByteArray, QByteArray>> options();

private:
    PgCatalog m_catalog;
    pgchange::TxnInfo m_txn;
};

} // namespace tapedeck
