// TableDiff::repairSql: the script `tape diff --repair-sql` writes, byte for
// byte. Names and values come from tapes and tables that others control, so
// nothing in them may end a comment, a literal or an identifier (#20).
#include "core/diff/tablediff.h"

#include <QTest>

using namespace tapedeck;
using namespace Qt::StringLiterals;

class TestTableRepair : public QObject
{
    Q_OBJECT

    static DiffResult result(const QString &dialect)
    {
        DiffResult r;
        r.table = u"public.orders"_s;
        r.stateTable = u"public.orders"_s;
        r.quotedTable = "\"public\".\"orders\"";
        r.dialect = dialect;
        r.keyColumns = {u"id"_s};
        r.columns = {{u"id"_s, u"integer"_s}, {u"note"_s, u"text"_s}};
        DiffEntry missing;
        missing.kind = DiffEntry::Kind::Missing;
        missing.key = {QByteArray("1")};
        missing.stateRow = {QByteArray("1"), QByteArray("it's\r\n-- x")};
        DiffEntry extra;
        extra.kind = DiffEntry::Kind::Extra;
        extra.key = {std::nullopt};
        DiffEntry differs;
        differs.kind = DiffEntry::Kind::Differs;
        differs.key = {QByteArray("2")};
        differs.differences = {{u"note"_s, QByteArray("a\0'); DROP TABLE victim; --", 27), QByteArray("b")}};
        r.entries = {missing, extra, differs};
        return r;
    }

private Q_SLOTS:
    void script_data()
    {
        QTest::addColumn<QString>("dialect");
        QTest::addColumn<QByteArray>("expected");
        const QByteArray header = "-- repair of \"public\".\"orders\\x0dDROP TABLE victim; --\"\n"
                                  "-- second line \\u2028DROP TABLE victim; \\x00 \\x1b[31m\n";
        QTest::newRow("postgresql") << u"postgresql"_s
                                    << header + "BEGIN;\nSET LOCAL standard_conforming_strings = on;\n"
                                         "INSERT INTO \"public\".\"orders\" (\"id\", \"note\") VALUES ('1', 'it''s\r\n-- x');\n"
                                         "DELETE FROM \"public\".\"orders\" WHERE \"id\" IS NULL;\n"
                                         "UPDATE \"public\".\"orders\" SET \"note\" = 'a' || chr(0) || '''); DROP TABLE victim; --' WHERE \"id\" = '2';\n"
                                         "COMMIT;\n";
        QTest::newRow("sqlite") << u"sqlite"_s
                                << header + "BEGIN;\n"
                                     "INSERT INTO \"public\".\"orders\" (\"id\", \"note\") VALUES ('1', 'it''s\r\n-- x');\n"
                                     "DELETE FROM \"public\".\"orders\" WHERE \"id\" IS NULL;\n"
                                     "UPDATE \"public\".\"orders\" SET \"note\" = 'a' || char(0) || '''); DROP TABLE victim; --' WHERE \"id\" = '2';\n"
                                     "COMMIT;\n";
    }

    void script()
    {
        QFETCH(QString, dialect);
        QFETCH(QByteArray, expected);
        const QString header = u"repair of \"public\".\"orders\rDROP TABLE victim; --\"\nsecond line \u2028DROP TABLE victim; "_s
                               + QChar(0) + u" \x1b[31m"_s;
        const QByteArray sql = TableDiff::repairSql(result(dialect), header);
        QCOMPARE(sql, expected);
        QVERIFY(!sql.contains('\0'));
    }

    // A column name with a NUL byte cannot shift the quotes after it.
    void nulInAName()
    {
        DiffResult r = result(u"postgresql"_s);
        r.columns[1].name = u"no"_s + QChar(0) + u"te"_s;
        r.entries = {r.entries.first()};
        const QByteArray sql = TableDiff::repairSql(r, u"h"_s);
        QVERIFY(!sql.contains('\0'));
        QVERIFY2(sql.contains("(\"id\", \"no\xef\xbf\xbdte\")"), sql.constData());
    }
};

QTEST_GUILESS_MAIN(TestTableRepair)
#include "tst_tablerepair.moc"
