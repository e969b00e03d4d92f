#include "connectors/postgres/decode/testdecodingdecoder.h"

namespace tapedeck {

struct TestDecodingDecoder::Parser
{
    QByteArrayView s;
    qsizetype pos = 0;

    bool atEnd() const { return pos >= s.size(); }
    bool skip(QByteArrayView literal)
    {
        if (!s.sliced(pos).startsWith(literal))
            return false;
        pos += literal.size();
        return true;
    }
    // A name as quote_identifier() wrote it: bare, or in double quotes with "" for ".
    bool identifier(QString *out)
    {
        QByteArray name;
        if (pos < s.size() && s[pos] == '"') {
            for (++pos;; ++pos) {
                if (pos >= s.size())
                    return false;
                if (s[pos] == '"') {
                    if (pos + 1 < s.size() && s[pos + 1] == '"') {
                        name += '"';
                        ++pos;
                        continue;
                    }
                    ++pos;
                    break;
                }
                name += s[pos];
            }
        } else {
            const qsizetype start = pos;
            while (pos < s.size() && s[pos] != '.' && s[pos] != ':' && s[pos] != ',' && s[pos] != ' ' && s[pos] != '[')
                ++pos;
            if (pos == start)
                return false;
            name = s.sliced(start, pos - start).toByteArray();
        }
        *out = QString::fromUtf8(name);
        return true;
    }
    bool qualifiedName(QString *schema, QString *table)
    {
        return identifier(schema) && skip(".") && identifier(table);
    }
    // col[type]:value col[type]:value ... up to `stop` (a following section) or the end.
    bool tuple(Row *row, QByteArrayView stop)
    {
        while (!atEnd()) {
            if (!stop.isEmpty() && s.sliced(pos).startsWith(stop))
                return true;
            Column c;
            if (!identifier(&c.name) || !skip("["))
                return false;
            const qsizetype end = s.indexOf("]:", pos);
            if (end < 0)
                return false;
            c.type = QString::fromUtf8(s.sliced(pos, end - pos));
            pos = end + 2;
            if (skip("null")) {
            } else if (skip("unchanged-toast-datum")) {
                c.unchangedToast = true;
            } else {
                if (pos < s.size() && s[pos] == 'B' && pos + 1 < s.size() && s[pos + 1] == '\'')
                    ++pos; // bit strings: B'0101'
                if (pos < s.size() && s[pos] == '\'') {
                    QByteArray v;
                    for (++pos;; ++pos) {
                        if (pos >= s.size())
                            return false;
                        if (s[pos] == '\'') {
                            if (pos + 1 < s.size() && s[pos + 1] == '\'') {
                                v += '\'';
                                ++pos;
                                continue;
                            }
                            ++pos;
                            break;
                        }
                        v += s[pos];
                    }
                    c.value = v;
                } else {
                    const qsizetype start = pos;
                    while (pos < s.size() && s[pos] != ' ')
                        ++pos;
                    c.value = pgchange::normaliseValue(c.type, s.sliced(start, pos - start).toByteArray());
                }
            }
            row->append(std::move(c));
            skip(" ");
        }
        return true;
    }
};

TestDecodingDecoder::TestDecodingDecoder(PgCatalog catalog)
    : m_catalog(std::move(catalog))
{
}

bool TestDecodingDecoder::parseChange(Parser &p, qint64 lsn, QString *error)
{
    QList<std::pair<QString, QString>> tables;
    do {
        QString schema, table;
        if (!p.qualifiedName(&schema, &table))
            return false;
        tables.append({schema, table});
    } while (p.skip(", "));
    if (p.skip(": TRUNCATE:")) {
        for (const auto &[schema, table] : std::as_const(tables))
            m_pending.append(pgchange::change(m_catalog, Operation::Truncate, lsn, m_txn, schema, table, {}, {}, {}));
        return true;
    }
    if (tables.size() != 1)
        return false;
    Operation op;
    if (p.skip(": INSERT: "))
        op = Operation::Insert;
    else if (p.skip(": UPDATE: "))
        op = Operation::Update;
    else if (p.skip(": DELETE: "))
        op = Operation::Delete;
    else
        return false;
    Row oldRow, newRow;
    if (op == Operation::Update && p.skip("old-key: ")) {
        if (!p.tuple(&oldRow, "new-tuple: ") || !p.skip("new-tuple: "))
            return false;
    }
    if (op == Operation::Delete) {
        if (!p.skip("(no-tuple-data)") && !p.tuple(&oldRow, {}))
            return false;
    } else if (!p.tuple(&newRow, {})) {
        return false;
    }
    QStringList identity;
    for (const Column &c : std::as_const(oldRow))
        identity.append(c.name);
    m_pending.append(pgchange::change(m_catalog, op, lsn, m_txn, tables[0].first, tables[0].second,
                                      std::move(oldRow), std::move(newRow), identity));
    Q_UNUSED(error);
    return true;
}

bool TestDecodingDecoder::decode(qint64 lsn, QByteArrayView data, QList<Event> *out, QString *error)
{
    Parser p{data};
    bool ok = true;
    if (p.skip("BEGIN")) {
        m_txn = {};
        m_beginLsn = lsn;
        if (p.skip(" "))
            m_txn.xid = data.sliced(p.pos).toLongLong(&ok);
    } else if (p.skip("COMMIT")) {
        const qsizetype at = data.indexOf("(at ");
        if (at >= 0 && data.endsWith(')'))
            m_txn.commitTimeUs = pgchange::parseTimestampUs(data.sliced(at + 4, data.size() - at - 5));
        out->append(pgchange::marker(m_catalog.database, Operation::Begin, m_beginLsn >= 0 ? m_beginLsn : lsn, m_txn));
        for (Event &e : m_pending) {
            e.transactionId = m_txn.xid;
            e.commitTimeUs = e.timestampUs = m_txn.commitTimeUs;
            e.timestampType = m_txn.commitTimeUs >= 0 ? TimestampType::CommitTime : TimestampType::NotAvailable;
            out->append(std::move(e));
        }
        m_pending.clear();
        out->append(pgchange::marker(m_catalog.database, Operation::Commit, lsn, m_txn));
        m_lastCommitEnd = lsn;
        m_txn = {};
        m_beginLsn = -1;
    } else if (p.skip("message: transactional: ")) {
        const bool transactional = p.skip("1");
        if (!transactional)
            p.skip("0");
        QString prefix;
        const qsizetype sz = data.indexOf(", sz: ", p.pos);
        const qsizetype content = sz < 0 ? -1 : data.indexOf(" content:", sz);
        ok = p.skip(" prefix: ") && sz >= 0 && content >= 0;
        if (ok) {
            const qint64 size = data.sliced(sz + 6, content - sz - 6).toLongLong(&ok);
            const QByteArray body = data.sliced(content + 9).toByteArray();
            ok = ok && size == body.size();
            Event e = pgchange::message(m_catalog.database, lsn, transactional ? m_txn : pgchange::TxnInfo{},
                                        data.sliced(p.pos, sz - p.pos).toByteArray(), body);
            if (transactional)
                m_pending.append(std::move(e)); // may come before BEGIN (skip-empty-xacts): held until COMMIT
            else
                out->append(std::move(e));
        }
    } else if (p.skip("table ")) {
        ok = parseChange(p, lsn, error);
    } else {
        ok = false;
    }
    if (!ok) {
        *error = cannotParse("test_decoding", data, lsn);
        return false;
    }
    return true;
}

} // namespace tapedeck
