// PgConnection's errors never repeat a password (libpq quotes malformed DSNs).
#include "connectors/postgres/pgconnection.h"

#include <QTest>

using namespace tapedeck;
using namespace Qt::StringLiterals;

class TestPgConnection : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void errorsHideThePassword_data()
    {
        QTest::addColumn<QString>("dsn");
        QTest::addColumn<QString>("error");
        QTest::addColumn<QString>("secret");
        QTest::newRow("bad escape in userinfo") << u"postgresql://u:Sec%zzret@127.0.0.1:1/db"_s
                                                << u"cannot connect to PostgreSQL: invalid percent-encoded token: \"***\""_s
                                                << u"Sec%zzret"_s;
        QTest::newRow("bad escape in a parameter") << u"postgresql://127.0.0.1:1/db?password=Pa%zzss"_s
                                                   << u"cannot connect to PostgreSQL: invalid percent-encoded token: \"***\""_s
                                                   << u"Pa%zzss"_s;
    }
    void errorsHideThePassword()
    {
        QFETCH(QString, dsn);
        QFETCH(QString, secret);
        PgConnection c;
        QString error;
        QVERIFY(!c.open(dsn, PgConnection::Kind::Sql, &error));
        QTEST(error, "error");
        QVERIFY(!error.contains(secret));
    }
};

QTEST_GUILESS_MAIN(TestPgConnection)
#include "tst_pgconnection.moc"
