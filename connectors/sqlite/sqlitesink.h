#pragma once

#include <functional>

#include "core/sink/sink.h"

#include <QHash>
#include <QSet>

struct sqlite3;
struct sqlite3_stmt;

namespace tapedeck {

// Replays into an SQLite database file (the embedded target), with the sqlite3
// C library. Each write() is one IMMEDIATE transaction holding the batch and
// its rows in tapedeck_replay_progress (see core/replay/replay.md). Tables are used
// by their name without schema ("public.orders" -> "orders"). Thread: one thread at a time.
class SqliteSink : public Sink
{
public:
    struct Options
    {
        bool createTables = false; // create a missing table from the first output's shape
        // Asked (on the sink's thread) before a missing table is created,
        // with the table and the exact statement; false declines. Unset: create.
        std::function<bool(const QString &table, const QString &statement)> confirmCreate;
    };
    SqliteSink(QString path, Options options);
    ~SqliteSink() override;

    QString describe() const override { return QStringLiteral("sqlite:") + m_path; }
    bool open(const QString &replayId, QString *error) override;
    QList<ReplayPosition> committed() const override { return m_committed; }
    bool write(const QList<SinkOutput> &outputs, const QList<ReplayPosition> &progress, QString *error) override;
    void close() override;
    SinkOutput::Kind accepts() const override { return SinkOutput::Kind::Sql; }

    static QString tableName(const QString &table); // schema dropped

private:
    bool exec(const char *sql, QString *error);
    sqlite3_stmt *statement(const QByteArray &sql, QString *error);
    bool ensureTable(const QString &table, const SinkOutput &shape, QString *error);
    bool apply(const SinkOutput &out, QString *error);
    QString lastError() const;

    QString m_path;
    Options m_options;
    QString m_replayId;
    sqlite3 *m_db = nullptr;
    QList<ReplayPosition> m_committed;
    QHash<QByteArray, sqlite3_stmt *> m_statements;
    QSet<QString> m_tables; // known to exist
};

} // namespace tapedeck
