// CanonicalRow and ByteSink: the canonical text TableDiff compares by, cell by
// cell and byte by byte, and the row digest (every byte of the input counts).
#include "core/diff/canonicalrow.h"

#include <QSet>
#include <QTest>

using namespace tapedeck;
using namespace Qt::StringLiterals;

using ValueClass = CanonicalRow::ValueClass;
Q_DECLARE_METATYPE(CanonicalRow::ValueClass)

class TestCanonicalRow : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void classify_data();
    void classify();
    void cell_data();
    void cell();
    void row();
    void byteSink();
    void digestVectors();
    void digestEveryByteCounts();
};

void TestCanonicalRow::classify_data()
{
    QTest::addColumn<QString>("type");
    QTest::addColumn<QString>("dialect");
    QTest::addColumn<ValueClass>("cls");
    QTest::newRow("pg bigint") << u"bigint"_s << u"postgresql"_s << ValueClass::Number;
    QTest::newRow("pg numeric(14,2)") << u"numeric(14,2)"_s << u"postgresql"_s << ValueClass::Number;
    QTest::newRow("pg text") << u"text"_s << u"postgresql"_s << ValueClass::Text;
    QTest::newRow("pg interval") << u"interval"_s << u"postgresql"_s << ValueClass::Text;
    QTest::newRow("pg tstz(3)") << u"timestamp(3) with time zone"_s << u"postgresql"_s << ValueClass::TimestampTz;
    QTest::newRow("pg timestamp") << u"timestamp without time zone"_s << u"postgresql"_s << ValueClass::Text;
    QTest::newRow("pg double") << u"double precision"_s << u"postgresql"_s << ValueClass::Float;
    QTest::newRow("pg jsonb") << u"jsonb"_s << u"postgresql"_s << ValueClass::Json;
    QTest::newRow("pg boolean") << u"boolean"_s << u"postgresql"_s << ValueClass::Bool;
    QTest::newRow("sqlite INTEGER") << u"INTEGER"_s << u"sqlite"_s << ValueClass::Number;
    QTest::newRow("sqlite DOUBLE") << u"DOUBLE"_s << u"sqlite"_s << ValueClass::Float;
    QTest::newRow("sqlite BOOLEAN") << u"BOOLEAN"_s << u"sqlite"_s << ValueClass::Bool;
    QTest::newRow("sqlite VARCHAR(20)") << u"VARCHAR(20)"_s << u"sqlite"_s << ValueClass::Text;
}

void TestCanonicalRow::classify()
{
    QFETCH(QString, type);
    QFETCH(QString, dialect);
    QFETCH(ValueClass, cls);
    QCOMPARE(CanonicalRow::classify(type, dialect), cls);
}

void TestCanonicalRow::cell_data()
{
    QTest::addColumn<ValueClass>("cls");
    QTest::addColumn<bool>("null");
    QTest::addColumn<QByteArray>("value");
    QTest::addColumn<QByteArray>("canonical");
    QTest::newRow("null") << ValueClass::Number << true << QByteArray() << QByteArray("\x1e\x1f");
    QTest::newRow("empty text") << ValueClass::Text << false << QByteArray("") << QByteArray("\x1f");
    QTest::newRow("text as is") << ValueClass::Text << false << QByteArray(" 12.50 ") << QByteArray(" 12.50 \x1f");
    QTest::newRow("bigint") << ValueClass::Number << false << QByteArray("9007199254740993") << QByteArray("9007199254740993\x1f");
    QTest::newRow("leading zeros") << ValueClass::Number << false << QByteArray("007") << QByteArray("7\x1f");
    QTest::newRow("trailing zeros") << ValueClass::Number << false << QByteArray("12.50") << QByteArray("12.5\x1f");
    QTest::newRow("minus zero") << ValueClass::Number << false << QByteArray("-0.00") << QByteArray("0\x1f");
    QTest::newRow("plus") << ValueClass::Number << false << QByteArray("+3.") << QByteArray("3\x1f");
    QTest::newRow("fraction only") << ValueClass::Number << false << QByteArray("-.5") << QByteArray("-0.5\x1f");
    QTest::newRow("zero") << ValueClass::Number << false << QByteArray("0") << QByteArray("0\x1f");
    QTest::newRow("minus zero int") << ValueClass::Number << false << QByteArray("-0") << QByteArray("0\x1f");
    QTest::newRow("zero fraction") << ValueClass::Number << false << QByteArray("0.0") << QByteArray("0\x1f");
    QTest::newRow("canonical decimal") << ValueClass::Number << false << QByteArray("-12.05") << QByteArray("-12.05\x1f");
    QTest::newRow("canonical fraction") << ValueClass::Number << false << QByteArray("-0.5") << QByteArray("-0.5\x1f");
    QTest::newRow("ten") << ValueClass::Number << false << QByteArray("10") << QByteArray("10\x1f");
    QTest::newRow("dot only") << ValueClass::Number << false << QByteArray("7.") << QByteArray("7\x1f");
    QTest::newRow("lone minus") << ValueClass::Number << false << QByteArray("-") << QByteArray("-\x1f");
    QTest::newRow("two dots") << ValueClass::Number << false << QByteArray("1.2.3") << QByteArray("1.2.3\x1f");
    QTest::newRow("exponent") << ValueClass::Number << false << QByteArray("1.5e3") << QByteArray("1500\x1f");
    QTest::newRow("not a number") << ValueClass::Number << false << QByteArray("12a") << QByteArray("12a\x1f");
    QTest::newRow("NaN stays") << ValueClass::Number << false << QByteArray("NaN") << QByteArray("NaN\x1f");
    QTest::newRow("float") << ValueClass::Float << false << QByteArray("1.0e+20") << QByteArray("1e+20\x1f");
    QTest::newRow("float short") << ValueClass::Float << false << QByteArray(" 0.10 ") << QByteArray("0.1\x1f");
    QTest::newRow("bool TRUE") << ValueClass::Bool << false << QByteArray(" TRUE ") << QByteArray("t\x1f");
    QTest::newRow("bool 0") << ValueClass::Bool << false << QByteArray("0") << QByteArray("f\x1f");
    QTest::newRow("bool other") << ValueClass::Bool << false << QByteArray("maybe") << QByteArray("maybe\x1f");
    QTest::newRow("tstz +00") << ValueClass::TimestampTz << false << QByteArray("2024-03-01 12:34:56.123456+00")
                              << QByteArray("@1709296496123456\x1f");
    QTest::newRow("tstz Z, T") << ValueClass::TimestampTz << false << QByteArray("2024-03-01T12:34:56.123456Z")
                               << QByteArray("@1709296496123456\x1f");
    QTest::newRow("tstz +05:30") << ValueClass::TimestampTz << false << QByteArray("2024-03-01 12:34:56+05:30")
                                 << QByteArray("@1709276696000000\x1f");
    QTest::newRow("tstz before 1970") << ValueClass::TimestampTz << false << QByteArray("1969-12-31 23:59:59.5+00")
                                      << QByteArray("@-500000\x1f");
    QTest::newRow("tstz nanos cut") << ValueClass::TimestampTz << false << QByteArray("2024-03-01 12:34:56.1234567+00")
                                    << QByteArray("@1709296496123456\x1f");
    QTest::newRow("tstz -03:30:15") << ValueClass::TimestampTz << false << QByteArray("2024-03-01 12:34:56-03:30:15")
                                    << QByteArray("@1709309111000000\x1f");
    QTest::newRow("tstz short offset") << ValueClass::TimestampTz << false << QByteArray("2024-03-01 12:34:56+0")
                                       << QByteArray("2024-03-01 12:34:56+0\x1f");
    QTest::newRow("tstz short minutes") << ValueClass::TimestampTz << false << QByteArray("2024-03-01 12:34:56+05:3")
                                        << QByteArray("2024-03-01 12:34:56+05:3\x1f");
    QTest::newRow("tstz letter") << ValueClass::TimestampTz << false << QByteArray("2024-03-0x 12:34:56+00")
                                 << QByteArray("2024-03-0x 12:34:56+00\x1f");
    QTest::newRow("tstz no zone") << ValueClass::TimestampTz << false << QByteArray("2024-03-01 12:34:56")
                                  << QByteArray("2024-03-01 12:34:56\x1f");
    QTest::newRow("tstz junk after") << ValueClass::TimestampTz << false << QByteArray("2024-03-01 12:34:56+00 BC")
                                     << QByteArray("2024-03-01 12:34:56+00 BC\x1f");
    QTest::newRow("json sorted") << ValueClass::Json << false << QByteArray("{\"b\": 1, \"a\": [1, 2]}")
                                 << QByteArray("{\"a\":[1,2],\"b\":1}\x1f");
    QTest::newRow("json invalid") << ValueClass::Json << false << QByteArray("{oops") << QByteArray("{oops\x1f");
}

void TestCanonicalRow::cell()
{
    QFETCH(ValueClass, cls);
    QFETCH(bool, null);
    QFETCH(QByteArray, value);
    QFETCH(QByteArray, canonical);
    ByteSink out;
    out.append("prefix");
    CanonicalRow::appendCell(&out, null, value, cls);
    QCOMPARE(out.toByteArray(), "prefix" + canonical);
    if (!null)
        QCOMPARE(CanonicalRow::normalised(value, cls) + '\x1f', canonical);
}

void TestCanonicalRow::row()
{
    // A row: cells in order, each ended by the separator; NULL differs from "".
    ByteSink a, b;
    CanonicalRow::appendCell(&a, false, "42", ValueClass::Number);
    CanonicalRow::appendCell(&a, true, {}, ValueClass::Text);
    CanonicalRow::appendCell(&a, false, "t", ValueClass::Bool);
    QCOMPARE(a.toByteArray(), QByteArray("42\x1f\x1e\x1ft\x1f"));
    CanonicalRow::appendCell(&b, false, "042.0", ValueClass::Number);
    CanonicalRow::appendCell(&b, false, "", ValueClass::Text);
    CanonicalRow::appendCell(&b, false, "yes", ValueClass::Bool);
    QCOMPARE(b.toByteArray(), QByteArray("42\x1f\x1ft\x1f"));
    QVERIFY(CanonicalRow::digest(a.view()) != CanonicalRow::digest(b.view()));
}

void TestCanonicalRow::byteSink()
{
    ByteSink s;
    QByteArray expected;
    QCOMPARE(s.size(), 0);
    QCOMPARE(s.view(), QByteArrayView());
    for (int i = 0; i < 5000; ++i) { // many growths, appends of 0..12 bytes
        const QByteArray piece = QByteArray::number(i * 7919).left(i % 13);
        s.append(piece);
        expected += piece;
        if (i % 17 == 0) {
            s.append(char(i % 128));
            expected += char(i % 128);
        }
    }
    QCOMPARE(s.size(), expected.size());
    QCOMPARE(s.toByteArray(), expected);
    s.truncate(10);
    QCOMPARE(s.toByteArray(), expected.left(10));
    s.truncate(20); // never grows
    QCOMPARE(s.size(), 10);
    const char *before = s.data();
    s.clear();
    s.append("abc");
    QCOMPARE(s.data(), before); // clear() keeps the buffer
    QCOMPARE(s.toByteArray(), QByteArray("abc"));
}

void TestCanonicalRow::digestVectors()
{
    // Fixed values (also what wyhash final 4 with its default secret gives):
    // the digest is computed the same way on both sides of a diff, so any
    // change must be deliberate (and change these).
    QByteArray hundred;
    for (int i = 0; i < 100; ++i)
        hundred += char('a' + i % 26);
    const QList<std::pair<QByteArray, quint64>> vectors{
        {QByteArray(), Q_UINT64_C(13335121844542245583)},
        {QByteArray("a"), Q_UINT64_C(4193673176133781045)},
        {QByteArray("abc"), Q_UINT64_C(3146351985339003155)},
        {QByteArray("12345678"), Q_UINT64_C(5050892951026012019)},
        {QByteArray("0123456789abcdef"), Q_UINT64_C(15407260733947036334)},
        {QByteArray("0123456789abcdefg"), Q_UINT64_C(18100138175884541168)},
        {hundred.left(48), Q_UINT64_C(6878408725313273092)},
        {hundred, Q_UINT64_C(11793901661826648144)},
    };
    for (const auto &[bytes, value] : vectors)
        QCOMPARE(CanonicalRow::digest(bytes, 0x7461706564656b), value);
    QVERIFY(CanonicalRow::digest("abc", 1) != CanonicalRow::digest("abc", 2));
}

void TestCanonicalRow::digestEveryByteCounts()
{
    // For every length up to 130 (all code paths: 0, 1-3, 4-16, 17-47, 48+),
    // changing any one byte changes the digest, and so does the length.
    QSet<quint64> byLength;
    for (int len = 0; len <= 130; ++len) {
        QByteArray bytes(len, Qt::Uninitialized);
        for (int i = 0; i < len; ++i)
            bytes[i] = char(i * 31 + len);
        const quint64 base = CanonicalRow::digest(bytes);
        byLength.insert(base);
        for (int i = 0; i < len; ++i) {
            QByteArray changed = bytes;
            changed[i] = char(changed[i] ^ 0x01);
            QVERIFY2(CanonicalRow::digest(changed) != base, qPrintable(u"length %1, byte %2"_s.arg(len).arg(i)));
        }
    }
    QCOMPARE(byLength.size(), 131);
    QVERIFY(CanonicalRow::digest(QByteArray(20, '\0')) != CanonicalRow::digest(QByteArray(21, '\0')));
}

QTEST_GUILESS_MAIN(TestCanonicalRow)
#include "tst_canonicalrow.moc"
