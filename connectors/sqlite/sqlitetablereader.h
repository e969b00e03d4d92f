#pragma once

#include "core/diff/tablediff.h"

struct sqlite3;
struct sqlite3_stmt;

namespace tapedeck {

// Reads an SQLite table for TableDiff (read-only): columns and primary key
// from PRAGMA table_info, rows by one SELECT ... ORDER BY key stepped a batch
// at a time (values as sqlite3_column_text prints them). The schema part of
// "public.orders" is dropped, as SqliteSink does. Thread: one thread.
class SqliteTableReader : public TableReader
{
public:
    explicit SqliteTableReader(QString path);
    ~SqliteTableReader() override;

    QString describe() const override { return QStringLiteral("sqlite:") + m_path; }
    QString dialect() const override { return QStringLiteral("sqlite"); }
    bool open(const QString &table, QString *error) override;
    QList<TableColumn> columns() const override { return m_columns; }
    QStringList primaryKey() const override { return m_primaryKey; }
    QByteArray quotedTable() const override { return m_quoted; }
    bool start(const QStringList &columns, const QStringList &keyColumns, QString *error) override;
    bool next(TableBatch *batch, int maxRows, QString *error) override;

private:
    QString m_path;
    sqlite3 *m_db = nullptr;
    sqlite3_stmt *m_select = nullptr;
    QList<TableColumn> m_columns;
    QStringList m_primaryKey;
    QByteArray m_quoted;
    int m_width = 0;
};

} // namespace tapedeck
