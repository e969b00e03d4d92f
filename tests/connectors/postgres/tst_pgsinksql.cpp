// PgSink's SQL text (connectors/postgres/sink/pgsinksql_p.h): the COPY and
// array-literal escapes and the statements, without a server.
#include "connectors/postgres/sink/pgsinksql_p.h"

#include <QTest>

using namespace tapedeck;
using namespace tapedeck::pgsinksql;

namespace {

QByteArray copyValue(const SqlCell &cell)
{
    ByteBuffer out;
    appendCopyValue(out, cell);
    return QByteArray(out.data(), out.size());
}

QByteArray arrayElements(const QList<SqlCell> &cells)
{
    ByteBuffer out;
    for (qsizetype i = 0; i < cells.size(); ++i)
        appendArrayElement(out, cells[i], i == 0);
    return QByteArray(out.data(), out.size());
}

SqlCell cell(const char *text)
{
    return SqlCell{text, qint32(qstrlen(text))};
}

SqlRows::Shape shape(QList<QString> columns, QList<QString> columnTypes, QList<QString> key, QList<QString> keyTypes)
{
    SqlRows::Shape s;
    s.columns = std::move(columns);
    s.columnTypes = std::move(columnTypes);
    s.key = std::move(key);
    s.keyTypes = std::move(keyTypes);
    return s;
}

} // namespace

class TestPgSinkSql : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void copyEscapes()
    {
        QCOMPARE(copyValue(SqlCell{}), QByteArray("\\N"));
        QCOMPARE(copyValue(cell("plain")), QByteArray("plain"));
        QCOMPARE(copyValue(cell("a\\b\tc\nd\re")), QByteArray("a\\\\b\\tc\\nd\\re"));
        QCOMPARE(copyValue(cell("")), QByteArray(""));
    }

    void arrayLiteralElements()
    {
        QCOMPARE(arrayElements({cell("x"), SqlCell{}, cell("say \"hi\" \\")}), QByteArray("\"x\",NULL,\"say \\\"hi\\\" \\\\\""));
    }

    void qualifiedNames()
    {
        QCOMPARE(qualified(QStringLiteral("orders")), QByteArray("\"orders\""));
        QCOMPARE(qualified(QStringLiteral("shop.orders")), QByteArray("\"shop\".\"orders\""));
    }

    void createTable()
    {
        const auto s = shape({QStringLiteral("id"), QStringLiteral("note")}, {QStringLiteral("bigint"), QStringLiteral("no such type")},
                             {QStringLiteral("id"), QStringLiteral("tenant")}, {QStringLiteral("bigint"), QStringLiteral("integer")});
        QCOMPARE(createTableSql(QStringLiteral("shop.orders"), qualified(QStringLiteral("shop.orders")), s, SqlOp::Upsert),
                 QByteArray("CREATE SCHEMA IF NOT EXISTS \"shop\"; CREATE TABLE \"shop\".\"orders\" (\"id\" bigint, \"note\" text, "
                            "\"tenant\" integer, PRIMARY KEY (\"id\", \"tenant\"))"));
        // Keyless inserts: no primary key.
        QCOMPARE(createTableSql(QStringLiteral("t"), qualified(QStringLiteral("t")), s, SqlOp::Insert),
                 QByteArray("CREATE TABLE \"t\" (\"id\" bigint, \"note\" text, \"tenant\" integer)"));
    }

    void upsertAndDelete()
    {
        const QHash<QString, QString> types{{QStringLiteral("id"), QStringLiteral("bigint")},
                                            {QStringLiteral("amount"), QStringLiteral("numeric")},
                                            {QStringLiteral("tags"), QStringLiteral("text[]")}};
        const auto s = shape({QStringLiteral("id"), QStringLiteral("amount"), QStringLiteral("tags")}, {}, {QStringLiteral("id")}, {});
        QString missing;
        QCOMPARE(upsertSql("\"t\"", types, s, &missing),
                 QByteArray("INSERT INTO \"t\" AS t (\"id\", \"amount\", \"tags\") SELECT u.a1, u.a2, u.a3::text[] FROM "
                            "unnest($1::bigint[], $2::numeric[], $3::text[]) AS u(a1, a2, a3) ON CONFLICT (\"id\") DO UPDATE SET "
                            "\"amount\" = EXCLUDED.\"amount\", \"tags\" = EXCLUDED.\"tags\" WHERE (t.\"amount\"::text, "
                            "t.\"tags\"::text) IS DISTINCT FROM (EXCLUDED.\"amount\"::text, EXCLUDED.\"tags\"::text)"));
        QVERIFY(missing.isEmpty());
        const auto keyOnly = shape({QStringLiteral("id")}, {}, {QStringLiteral("id")}, {});
        QCOMPARE(upsertSql("\"t\"", types, keyOnly, &missing),
                 QByteArray("INSERT INTO \"t\" AS t (\"id\") SELECT u.a1 FROM unnest($1::bigint[]) AS u(a1) ON CONFLICT (\"id\") DO NOTHING"));
        QCOMPARE(deleteSql("\"t\"", types, s, &missing),
                 QByteArray("DELETE FROM \"t\" AS t USING unnest($1::bigint[]) AS u(a1) WHERE t.\"id\" = u.a1"));
        const auto unknown = shape({QStringLiteral("id"), QStringLiteral("gone")}, {}, {QStringLiteral("id")}, {});
        QVERIFY(upsertSql("\"t\"", types, unknown, &missing).isEmpty());
        QCOMPARE(missing, QStringLiteral("gone"));
    }

    void exactTypes()
    {
        QVERIFY(exactEquality(QStringLiteral("bigint")));
        QVERIFY(exactEquality(QStringLiteral("character varying(20)")));
        QVERIFY(!exactEquality(QStringLiteral("numeric")));
        QVERIFY(!exactEquality(QStringLiteral("jsonb")));
    }
};

QTEST_GUILESS_MAIN(TestPgSinkSql)
#include "tst_pgsinksql.moc"
