#include "core/kafka/kafkaconnection.h"

#include <QFile>

namespace tapedeck {

bool KafkaConnection::addProperty(const QString &assignment, QString *error)
{
    const qsizetype eq = assignment.indexOf(QLatin1Char('='));
    if (eq <= 0) {
        *error = QStringLiteral("expected name=value, got \"%1\"").arg(assignment);
        return false;
    }
    properties.append({assignment.left(eq).trimmed(), assignment.mid(eq + 1).trimmed()});
    return true;
}

bool KafkaConnection::loadPropertiesFile(const QString &path, QString *error)
{
    QFile f(path);
    if (!f.open(QIODevice::ReadOnly | QIODevice::Text)) {
        *error = QStringLiteral("%1: %2").arg(path, f.errorString());
        return false;
    }
    int lineNo = 0;
    while (!f.atEnd()) {
        ++lineNo;
        const QString line = QString::fromUtf8(f.readLine()).trimmed();
        if (line.isEmpty() || line.startsWith(QLatin1Char('#')))
            continue;
        QString why;
        if (!addProperty(line, &why)) {
            *error = QStringLiteral("%1:%2: %3").arg(path).arg(lineNo).arg(why);
            return false;
        }
    }
    return true;
}

QString KafkaConnection::bootstrapServers() const
{
    if (!bootstrap.isEmpty())
        return bootstrap;
    for (const auto &[name, value] : properties) {
        if (name == QLatin1String("bootstrap.servers") || name == QLatin1String("metadata.broker.list"))
            return value;
    }
    return QString();
}

QString KafkaConnection::describe() const
{
    return QStringLiteral("kafka://") + bootstrapServers();
}

bool KafkaConnection::isSecret(const QString &name)
{
    // sasl.oauthbearer.config holds "clientSecret=..." and the extensions
    // may hold tokens; basic.auth.user.info is a schema registry's
    // "user:password"; ssl.key.pem, ssl.keystore.* and ssl.key.password are keys.
    static const char *const markers[] = {"password", "secret", "jaas", "ssl.key.pem", "ssl.keystore", "token",
                                          "credential", "oauthbearer.config", "oauthbearer.extensions", "user.info",
                                          "private", "apikey", "api.key"};
    for (const char *m : markers) {
        if (name.contains(QLatin1String(m), Qt::CaseInsensitive))
            return true;
    }
    return false;
}

QJsonObject KafkaConnection::toJson() const
{
    QJsonObject props;
    for (const auto &[name, value] : properties) {
        if (!isSecret(name))
            props.insert(name, value);
    }
    return QJsonObject{{QStringLiteral("bootstrap"), bootstrapServers()}, {QStringLiteral("properties"), props}};
}

} // namespace tapedeck
