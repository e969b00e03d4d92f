// pgTypeForCreate: which column types from a tape may reach CREATE TABLE, and
// how they are printed (#20: types were spliced into SQL after a character check).
#include "core/postgres/pgtypes.h"

#include <QTest>

using namespace tapedeck;
using namespace Qt::StringLiterals;

class TestPgTypes : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void typeForCreate_data()
    {
        QTest::addColumn<QString>("type");
        QTest::addColumn<QString>("printed"); // empty: refused (the caller uses text)
        QTest::newRow("bigint") << u"bigint"_s << u"bigint"_s;
        QTest::newRow("upper case, spaces") << u"  Double   PRECISION "_s << u"double precision"_s;
        QTest::newRow("numeric(p,s)") << u"numeric(10, 2)"_s << u"numeric(10,2)"_s;
        QTest::newRow("varchar array") << u"character varying(20)[]"_s << u"character varying(20)[]"_s;
        QTest::newRow("2-d array with sizes") << u"int4[3][4]"_s << u"int4[][]"_s;
        QTest::newRow("timestamptz(3)") << u"timestamp(3) with time zone"_s << u"timestamp(3) with time zone"_s;
        QTest::newRow("timestamp without") << u"timestamp without time zone"_s << u"timestamp without time zone"_s;
        QTest::newRow("time with zone") << u"time with time zone"_s << u"time with time zone"_s;
        QTest::newRow("\"char\"") << u"\"char\""_s << u"\"char\""_s;
        QTest::newRow("jsonb") << u"jsonb"_s << u"jsonb"_s;
        QTest::newRow("DEFAULT and a second column")
            << u"text DEFAULT (current_setting('data_directory')), injected text DEFAULT (version())"_s << QString();
        QTest::newRow("INHERITS") << u"int4) INHERITS (victim"_s << QString();
        QTest::newRow("COLLATE") << u"text COLLATE \"C\""_s << QString();
        QTest::newRow("user type") << u"mood"_s << QString();
        QTest::newRow("schema-qualified") << u"public.mood"_s << QString();
        QTest::newRow("modifier on a plain type") << u"text(5)"_s << QString();
        QTest::newRow("three numbers") << u"numeric(1,2,3)"_s << QString();
        QTest::newRow("expression modifier") << u"varchar(1+1)"_s << QString();
        QTest::newRow("nested parentheses") << u"numeric((1))"_s << QString();
        QTest::newRow("zone on timetz") << u"timetz with time zone"_s << QString();
        QTest::newRow("bracket expression") << u"int[1:2]"_s << QString();
        QTest::newRow("comment") << u"int -- x"_s << QString();
        QTest::newRow("semicolon") << u"int; DROP TABLE victim"_s << QString();
        QTest::newRow("empty") << QString() << QString();
    }

    void typeForCreate()
    {
        QFETCH(QString, type);
        QFETCH(QString, printed);
        const std::optional<QString> got = pgTypeForCreate(type);
        QCOMPARE(got.value_or(QString()), printed);
        QCOMPARE(got.has_value(), !printed.isEmpty());
    }
};

QTEST_GUILESS_MAIN(TestPgTypes)
#include "tst_pgtypes.moc"
