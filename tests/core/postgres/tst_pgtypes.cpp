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

    void dsnWithoutPassword_data()
    {
        QTest::addColumn<QString>("dsn");
        QTest::addColumn<QString>("without");
        QTest::addColumn<QStringList>("secrets");
        QTest::newRow("uri userinfo") << u"postgresql://app:S3cret@db:5432/shop"_s << u"postgresql://app@db:5432/shop"_s
                                      << QStringList{u"S3cret"_s};
        QTest::newRow("uri percent-encoded userinfo") << u"postgresql://app:p%40ss@db/shop"_s << u"postgresql://app@db/shop"_s
                                                      << QStringList{u"p%40ss"_s, u"p@ss"_s};
        QTest::newRow("uri parameter") << u"postgresql://db/shop?sslmode=require&password=Q1&application_name=x"_s
                                       << u"postgresql://db/shop?sslmode=require&application_name=x"_s << QStringList{u"Q1"_s};
        QTest::newRow("uri sslpassword") << u"postgres://db/shop?sslpassword=K2"_s << u"postgres://db/shop"_s
                                         << QStringList{u"K2"_s};
        QTest::newRow("uri encoded parameter name") << u"postgresql://db/shop?pass%77ord=W3&sslmode=disable"_s
                                                    << u"postgresql://db/shop?sslmode=disable"_s << QStringList{u"W3"_s};
        QTest::newRow("conninfo") << u"host=db password=P4 dbname=shop"_s << u"host=db dbname=shop"_s << QStringList{u"P4"_s};
        QTest::newRow("conninfo quoted") << u"host=db password = 'a b\\'c' dbname=shop"_s << u"host=db dbname=shop"_s
                                         << QStringList{u"a b'c"_s};
        QTest::newRow("conninfo sslpassword") << u"sslpassword=S5 host=db"_s << u"host=db"_s << QStringList{u"S5"_s};
        QTest::newRow("no secret") << u"host=db dbname=shop"_s << u"host=db dbname=shop"_s << QStringList{};
    }
    void dsnWithoutPassword()
    {
        QFETCH(QString, dsn);
        QFETCH(QString, without);
        QFETCH(QStringList, secrets);
        qunsetenv("PGPASSWORD");
        bool had = false;
        QCOMPARE(pgDsnWithoutPassword(dsn, &had), without);
        QCOMPARE(had, !secrets.isEmpty());
        QCOMPARE(pgDsnSecrets(dsn), secrets);
        QString scrubbed = scrubSecrets(u"libpq said: "_s + dsn, pgDsnSecrets(dsn));
        for (const QString &secret : secrets)
            QVERIFY2(!scrubbed.contains(secret), qPrintable(scrubbed));
    }

    // fuzz_text: simplifying after the last check made "\\\n" escape a
    // space, which turned the rest into a new password pair.
    void withoutPasswordIsAFixpoint()
    {
        const QString dsn = u"@d ='\na\\\n@d ='password=\na0 'a q"_s;
        const QString without = pgDsnWithoutPassword(dsn);
        bool again = true;
        QCOMPARE(pgDsnWithoutPassword(without, &again), without);
        QCOMPARE(again, false);
        // Nothing removed: the text is left as it was typed (trimmed only).
        QCOMPARE(pgDsnWithoutPassword(u" host='a\n  b' "_s), u"host='a\n  b'"_s);
    }

    void pgpasswordIsASecret()
    {
        qputenv("PGPASSWORD", "EnvSecret9");
        QCOMPARE(pgDsnSecrets(u"host=db"_s), QStringList{u"EnvSecret9"_s});
        QCOMPARE(scrubSecrets(u"password EnvSecret9 refused"_s, pgDsnSecrets(u"host=db"_s)), u"password *** refused"_s);
        qunsetenv("PGPASSWORD");
    }
};

QTEST_GUILESS_MAIN(TestPgTypes)
#include "tst_pgtypes.moc"
