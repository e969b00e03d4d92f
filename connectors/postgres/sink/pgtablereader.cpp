#include "connectors/postgres/sink/pgtablereader.h"

#include <libpq-fe.h>

#include <cctype>
#include <cstring>

using namespace Qt::StringLiterals;

namespace tapedeck {

PgTableReader::PgTableReader(QString dsn) : m_dsn(std::move(dsn)) {}

PgTableReader::~PgTableReader()
{
    finishCopy();
}

QString PgTableReader::describe() const
{
    return m_conn.isOpen() ? m_conn.describe() : m_dsn;
}

bool PgTableReader::open(const QString &table, QString *error)
{
    if (!m_conn.isOpen() && !m_conn.open(m_dsn, PgConnection::Kind::Sql, error))
        return false;
    const qsizetype dot = table.indexOf(u'.');
    const QByteArray schema = dot < 0 ? QByteArrayLiteral("public") : table.left(dot).toUtf8();
    const QByteArray name = (dot < 0 ? table : table.mid(dot + 1)).toUtf8();
    m_quoted = PgConnection::quoteIdentifier(schema) + '.' + PgConnection::quoteIdentifier(name);
    QString why;
    auto cols = m_conn.exec("SELECT a.attname, format_type(a.atttypid, a.atttypmod) FROM pg_attribute a "
                            "WHERE a.attrelid = to_regclass($1) AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum",
                            {m_quoted}, &why);
    if (!cols) {
        *error = u"%1: %2"_s.arg(table, why);
        return false;
    }
    m_columns.clear();
    for (int r = 0; r < PgConnection::rows(cols); ++r)
        m_columns.append({QString::fromUtf8(PgConnection::value(cols, r, 0)), QString::fromUtf8(PgConnection::value(cols, r, 1))});
    if (m_columns.isEmpty()) {
        *error = u"%1 has no table %2"_s.arg(m_conn.describe(), table);
        return false;
    }
    auto pk = m_conn.exec("SELECT a.attname FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid "
                          "AND a.attnum = ANY(i.indkey) WHERE i.indrelid = to_regclass($1) AND i.indisprimary "
                          "ORDER BY array_position(i.indkey::int2[], a.attnum)",
                          {m_quoted}, &why);
    if (!pk) {
        *error = u"%1: %2"_s.arg(table, why);
        return false;
    }
    m_primaryKey.clear();
    for (int r = 0; r < PgConnection::rows(pk); ++r)
        m_primaryKey.append(QString::fromUtf8(PgConnection::value(pk, r, 0)));
    return true;
}

QByteArray PgTableReader::copyStatement(const QByteArray &quotedTable, const QStringList &columns, const QStringList &keyColumns)
{
    QByteArray select, order;
    for (const QString &c : columns)
        select += (select.isEmpty() ? "" : ", ") + PgConnection::quoteIdentifier(c.toUtf8());
    for (const QString &c : keyColumns)
        order += (order.isEmpty() ? "" : ", ") + PgConnection::quoteIdentifier(c.toUtf8());
    return "COPY (SELECT " + select + " FROM " + quotedTable + " ORDER BY " + order + ") TO STDOUT";
}

bool PgTableReader::start(const QStringList &columns, const QStringList &keyColumns, QString *error)
{
    finishCopy();
    m_width = int(columns.size());
    pg::ResultPtr r(PQexec(m_conn.handle(), copyStatement(m_quoted, columns, keyColumns).constData()));
    if (PQresultStatus(r.get()) != PGRES_COPY_OUT) {
        *error = QString::fromUtf8(r ? PQresultErrorMessage(r.get()) : PQerrorMessage(m_conn.handle())).trimmed();
        return false;
    }
    m_copying = true;
    return true;
}

namespace {

// One COPY text-format line into cells (tab-separated, \N is NULL, backslash
// escapes), unescaped straight into the batch's buffer (a cell never grows
// when unescaped, so the line's length is room enough).
bool parseLine(const char *p, const char *end, int width, TableBatch *batch)
{
    const qsizetype base = batch->data.size();
    batch->data.resize(base + (end - p));
    char *const data = batch->data.data();
    if (!std::memchr(p, '\\', size_t(end - p))) {
        // No escapes (and so no \N): the line as it is, cut at the tabs.
        std::memcpy(data + base, p, size_t(end - p));
        int cells = 0;
        for (const char *cell = p;; ++cells) {
            const char *tab = static_cast<const char *>(std::memchr(cell, '\t', size_t(end - cell)));
            const char *stop = tab ? tab : end;
            batch->offsets.push_back(qint32(base + (cell - p)));
            batch->sizes.push_back(qint32(stop - cell));
            if (!tab)
                return cells + 1 == width;
            cell = tab + 1;
        }
    }
    char *w = data + base;
    int cells = 0;
    bool ok = true;
    while (true) {
        const char *start = p;
        while (p < end && *p != '\t' && *p != '\\')
            ++p;
        if (p < end && *p == '\\' && p + 1 < end && p[1] == 'N' && p == start && (p + 2 == end || p[2] == '\t')) {
            batch->appendNull();
            p += 2;
        } else {
            char *const cell = w;
            std::memcpy(w, start, size_t(p - start));
            w += p - start;
            while (p < end && *p == '\\') {
                ++p;
                if (p >= end) {
                    ok = false;
                    break;
                }
                char c = *p++;
                switch (c) {
                case 'b': c = '\b'; break;
                case 'f': c = '\f'; break;
                case 'n': c = '\n'; break;
                case 'r': c = '\r'; break;
                case 't': c = '\t'; break;
                case 'v': c = '\v'; break;
                case 'x': {
                    int v = 0, n = 0;
                    while (n < 2 && p < end && std::isxdigit(uchar(*p))) {
                        v = v * 16 + (std::isdigit(uchar(*p)) ? *p - '0' : (std::tolower(uchar(*p)) - 'a' + 10));
                        ++p, ++n;
                    }
                    c = char(v);
                    break;
                }
                default:
                    if (c >= '0' && c <= '7') {
                        int v = c - '0', n = 1;
                        while (n < 3 && p < end && *p >= '0' && *p <= '7')
                            v = v * 8 + (*p++ - '0'), ++n;
                        c = char(v);
                    }
                    break;
                }
                *w++ = c;
                const char *run = p;
                while (p < end && *p != '\t' && *p != '\\')
                    ++p;
                std::memcpy(w, run, size_t(p - run));
                w += p - run;
            }
            batch->offsets.push_back(qint32(cell - data));
            batch->sizes.push_back(qint32(w - cell));
            if (!ok)
                break;
        }
        ++cells;
        if (p >= end)
            break;
        ++p; // the tab
    }
    batch->data.resize(w - data);
    return ok && cells == width;
}

} // namespace

bool PgTableReader::next(TableBatch *batch, int maxRows, QString *error)
{
    batch->clear();
    batch->columns = m_width;
    if (!m_copying)
        return true;
    for (int rows = 0; rows < maxRows; ++rows) {
        char *buffer = nullptr;
        const int n = PQgetCopyData(m_conn.handle(), &buffer, 0);
        if (n == -1) { // done: read the COPY's result
            m_copying = false;
            pg::ResultPtr r(PQgetResult(m_conn.handle()));
            const bool ok = PQresultStatus(r.get()) == PGRES_COMMAND_OK;
            if (!ok)
                *error = QString::fromUtf8(PQresultErrorMessage(r.get())).trimmed();
            while (pg::ResultPtr more{PQgetResult(m_conn.handle())}) {
            }
            return ok;
        }
        if (n < 0) {
            *error = m_conn.lastError();
            m_copying = false;
            return false;
        }
        const int len = n > 0 && buffer[n - 1] == '\n' ? n - 1 : n;
        const bool ok = parseLine(buffer, buffer + len, m_width, batch);
        PQfreemem(buffer);
        if (!ok) {
            *error = u"unexpected COPY data from %1"_s.arg(m_conn.describe());
            return false;
        }
    }
    return true;
}

void PgTableReader::finishCopy()
{
    if (!m_copying || !m_conn.isOpen())
        return;
    // Abandoning a COPY OUT: cancel it and drain what is left.
    if (PGcancel *cancel = PQgetCancel(m_conn.handle())) {
        char buffer[256];
        PQcancel(cancel, buffer, sizeof buffer);
        PQfreeCancel(cancel);
    }
    char *row = nullptr;
    while (PQgetCopyData(m_conn.handle(), &row, 0) > 0)
        PQfreemem(row);
    while (pg::ResultPtr r{PQgetResult(m_conn.handle())}) {
    }
    m_copying = false;
}

} // namespace tapedeck
