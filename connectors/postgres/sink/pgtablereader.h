#pragma once

#include "connectors/postgres/pgconnection.h"

#include "core/diff/tablediff.h"

namespace tapedeck {

// Reads a PostgreSQL table for TableDiff: the columns and primary key from
// the catalogue, then the rows streamed by one
//   COPY (SELECT cols FROM t ORDER BY key) TO STDOUT
// (text format: values as the server prints them), cut into batches as they
// arrive, so the table is never held whole. Thread: one thread.
class PgTableReader : public TableReader
{
public:
    explicit PgTableReader(QString dsn);
    ~PgTableReader() override;

    QString describe() const override;
    QString dialect() const override { return QStringLiteral("postgresql"); }
    bool open(const QString &table, QString *error) override;
    QList<TableColumn> columns() const override { return m_columns; }
    QStringList primaryKey() const override { return m_primaryKey; }
    QByteArray quotedTable() const override { return m_quoted; }
    bool start(const QStringList &columns, const QStringList &keyColumns, QString *error) override;
    bool next(TableBatch *batch, int maxRows, QString *error) override;

    // The statement start() sends (for the benchmark's reference COPY).
    static QByteArray copyStatement(const QByteArray &quotedTable, const QStringList &columns, const QStringList &keyColumns);

private:
    void finishCopy();

    QString m_dsn;
    PgConnection m_conn;
    QList<TableColumn> m_columns;
    QStringList m_primaryKey;
    QByteArray m_quoted;
    int m_width = 0;
    bool m_copying = false;
};

} // namespace tapedeck
