// The decoders on captured or hand-built plugin output; no server needed.
#include "connectors/postgres/decode/pgchange.h"
#include "connectors/postgres/decode/pgdecoder.h"

#include <QTest>
#include <QtEndian>

using namespace tapedeck;

namespace {

struct Bytes
{
    QByteArray b;
    Bytes &u8(quint8 v) { b += char(v); return *this; }
    Bytes &u16(quint16 v) { char x[2]; qToBigEndian(v, x); b.append(x, 2); return *this; }
    Bytes &u32(quint32 v) { char x[4]; qToBigEndian(v, x); b.append(x, 4); return *this; }
    Bytes &i64(qint64 v) { char x[8]; qToBigEndian(v, x); b.append(x, 8); return *this; }
    Bytes &str(const char *s) { b.append(s, qsizetype(strlen(s)) + 1); return *this; }
    Bytes &text(const char *s) { u8('t'); u32(quint32(strlen(s))); b.append(s); return *this; }
};

PgCatalog catalog()
{
    PgCatalog c;
    c.database = QStringLiteral("db");
    c.typeNames = {{23, QStringLiteral("integer")}, {25, QStringLiteral("text")}, {16, QStringLiteral("boolean")}};
    c.primaryKeys = {{QStringLiteral("public.t"), {QStringLiteral("id")}}};
    c.columnNames = {{QStringLiteral("public.t"), {QStringLiteral("id"), QStringLiteral("s"), QStringLiteral("b")}}};
    return c;
}

} // namespace

class TestPgDecoders : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void lsnAndTimestamps()
    {
        QCOMPARE(pgchange::parseLsn("16/B374D848"), 0x16B374D848LL);
        QCOMPARE(pgchange::formatLsn(0x16B374D848LL), QStringLiteral("16/B374D848"));
        QCOMPARE(pgchange::parseLsn("nope"), -1);
        QCOMPARE(pgchange::parseTimestampUs("1970-01-01 00:00:01.5+00"), 1500000);
        QCOMPARE(pgchange::parseTimestampUs("1970-01-01 02:00:00+02"), 0);
        QCOMPARE(pgchange::parseTimestampUs("1969-12-31 19:00:00-05:00"), 0);
        QCOMPARE(pgchange::parseTimestampUs("garbage"), -1);
    }

    void pgoutput()
    {
        auto d = PgDecoder::create(QStringLiteral("pgoutput"), catalog());
        QList<Event> out;
        QString error;
        const qint64 ts = 1000000; // 2000-01-01 00:00:01
        QVERIFY(d->decode(100, Bytes().u8('B').i64(200).i64(ts).u32(7).b, &out, &error));
        Bytes rel;
        rel.u8('R').u32(16384).str("public").str("t").u8('d').u16(3);
        rel.u8(1).str("id").u32(23).u32(0xffffffff).u8(0).str("s").u32(25).u32(0xffffffff).u8(0).str("b").u32(16).u32(0xffffffff);
        QVERIFY(d->decode(100, rel.b, &out, &error));
        Bytes ins;
        ins.u8('I').u32(16384).u8('N').u16(3).text("1").u8('n').text("t");
        QVERIFY2(d->decode(110, ins.b, &out, &error), qPrintable(error));
        Bytes upd;
        upd.u8('U').u32(16384).u8('K').u16(3).text("1").u8('n').u8('n').u8('N').u16(3).text("2").u8('u').text("f");
        QVERIFY2(d->decode(120, upd.b, &out, &error), qPrintable(error));
        QVERIFY(d->decode(130, Bytes().u8('D').u32(16384).u8('K').u16(3).text("2").u8('n').u8('n').b, &out, &error));
        QVERIFY(d->decode(140, QByteArray(Bytes().u8(0x4d).u8(1).i64(140).str("pfx").u32(2).b + "hi"), &out, &error));
        QVERIFY(d->decode(210, Bytes().u8('C').u8(0).i64(200).i64(210).i64(ts).b, &out, &error));
        QCOMPARE(out.size(), 6);
        QVERIFY(out[0].operation == Operation::Begin);
        QVERIFY(out[1].operation == Operation::Insert);
        QCOMPARE(out[1].topic, QStringLiteral("public.t"));
        QCOMPARE(out[1].key, QByteArray("{\"id\":1}"));
        QCOMPARE(out[1].value, QByteArray("{\"id\":1,\"s\":null,\"b\":true}"));
        QCOMPARE(out[1].timestampUs, pgchange::PgEpochOffsetUs + ts);
        QCOMPARE(out[1].transactionId, 7);
        QCOMPARE(out[1].commitLsn, 200);
        QCOMPARE(out[1].newRow[0].type, QStringLiteral("integer"));
        QVERIFY(out[2].operation == Operation::Update);
        QCOMPARE(out[2].oldRow.size(), 1); // key only
        QVERIFY(out[2].newRow[1].unchangedToast);
        QCOMPARE(out[2].value, QByteArray("{\"id\":2,\"b\":false}")); // unchanged TOAST left out, not null
        QVERIFY(out[3].operation == Operation::Delete);
        QVERIFY(!out[3].value);
        QCOMPARE(out[3].key, QByteArray("{\"id\":2}"));
        QVERIFY(out[4].operation == Operation::Message);
        QCOMPARE(out[4].value, QByteArray("hi"));
        QVERIFY(out[5].operation == Operation::Commit);
        QCOMPARE(d->lastCommitEnd(), 210);
    }

    void pgoutputMalformed_data()
    {
        QTest::addColumn<QByteArray>("message");
        QTest::newRow("empty") << QByteArray();
        QTest::newRow("unknown type") << QByteArray("Z");
        QTest::newRow("short begin") << QByteArray("B\0\0", 3);
        QTest::newRow("insert unknown relation") << Bytes().u8('I').u32(5).u8('N').u16(0).b;
        QTest::newRow("relation without strings") << QByteArray(Bytes().u8(0x52).u32(5).b + "abc");
    }
    void pgoutputMalformed()
    {
        QFETCH(QByteArray, message);
        auto d = PgDecoder::create(QStringLiteral("pgoutput"), catalog());
        QList<Event> out;
        QString error;
        QVERIFY(!d->decode(1, message, &out, &error));
        QVERIFY(error.startsWith(QLatin1String("pgoutput: ")));
    }

    void testDecoding()
    {
        auto d = PgDecoder::create(QStringLiteral("test_decoding"), catalog());
        QList<Event> out;
        QString error;
        const QList<QByteArray> lines{
            "message: transactional: 1 prefix: pfx, sz: 2 content:hi",
            "BEGIN 7",
            "table public.t: INSERT: id[integer]:1 s[text]:'it''s \"x\" here' b[boolean]:true",
            "table public.t: UPDATE: old-key: id[integer]:1 new-tuple: id[integer]:2 s[text]:unchanged-toast-datum b[boolean]:null",
            "table public.t: DELETE: id[integer]:2",
            "table public.t, public.\"We\"\"ird\": TRUNCATE: (no-flags)",
            "COMMIT 7 (at 2000-01-01 00:00:01+00)"};
        for (const QByteArray &l : lines)
            QVERIFY2(d->decode(100, l, &out, &error), qPrintable(error));
        QCOMPARE(out.size(), 8);
        QVERIFY(out[0].operation == Operation::Begin);
        QVERIFY(out[1].operation == Operation::Message);
        QCOMPARE(out[2].value, QByteArray("{\"id\":1,\"s\":\"it's \\\"x\\\" here\",\"b\":true}"));
        QCOMPARE(out[2].newRow[2].value, QByteArray("t"));
        QCOMPARE(out[2].timestampUs, pgchange::PgEpochOffsetUs + 1000000);
        QCOMPARE(out[3].oldRow.size(), 1);
        QVERIFY(out[3].newRow[1].unchangedToast);
        QCOMPARE(out[3].newRow[2].value, std::nullopt);
        QCOMPARE(out[5].topic, QStringLiteral("public.t"));
        QCOMPARE(out[6].topic, QStringLiteral("public.We\"ird"));
        QVERIFY(out[7].operation == Operation::Commit);
        QVERIFY(!d->decode(1, "table public.t: INSERT: id[integer:1", &out, &error));
        QVERIFY(!d->decode(1, "what", &out, &error));
    }

    void wal2json()
    {
        auto d = PgDecoder::create(QStringLiteral("wal2json"), catalog());
        QList<Event> out;
        QString error;
        const QList<QByteArray> lines{
            R"({"action":"B","xid":7,"timestamp":"2000-01-01 00:00:01+00","lsn":"0/C8","nextlsn":"0/D2"})",
            R"({"action":"I","xid":7,"schema":"public","table":"t","columns":[{"name":"id","type":"integer","typeoid":23,"value":12345678901234567890.5},{"name":"s","type":"text","typeoid":25,"value":"\u00e9\n"},{"name":"b","type":"boolean","typeoid":16,"value":false}],"pk":[{"name":"id","type":"integer","typeoid":23}]})",
            R"({"action":"U","xid":7,"schema":"public","table":"t","columns":[{"name":"id","type":"integer","typeoid":23,"value":1},{"name":"b","type":"boolean","typeoid":16,"value":null}],"identity":[{"name":"id","type":"integer","typeoid":23,"value":1}],"pk":[]})",
            R"({"action":"M","xid":null,"transactional":false,"prefix":"p","content":"c"})",
            R"({"action":"C","xid":7,"timestamp":"2000-01-01 00:00:01+00","lsn":"0/C8","nextlsn":"0/D2"})"};
        for (const QByteArray &l : lines)
            QVERIFY2(d->decode(100, l, &out, &error), qPrintable(error));
        QCOMPARE(out.size(), 5);
        QCOMPARE(out[1].newRow[0].value, QByteArray("12345678901234567890.5")); // exact, not a double
        QCOMPARE(out[1].newRow[1].value, QString::fromUtf8("\u00e9\n").toUtf8());
        QCOMPARE(out[1].newRow[2].value, QByteArray("f"));
        QCOMPARE(out[1].commitLsn, 0xC8);
        QVERIFY(out[2].newRow[1].unchangedToast); // left out by wal2json
        QCOMPARE(out[2].newRow.size(), 3);
        QVERIFY(out[2].oldRow.isEmpty()); // identity equal to the new key: not an old row
        QCOMPARE(out[3].transactionId, -1);
        QCOMPARE(d->lastCommitEnd(), 0xD2);
        QVERIFY(!d->decode(1, "{\"action\":", &out, &error));
    }
};

QTEST_GUILESS_MAIN(TestPgDecoders)
#include "tst_pg_decoders.moc"
