#include "connectors/kafka/rdkafkaclient.h"

#include <QHash>
#include <QLoggingCategory>
#include <QRegularExpression>

#include <mutex>

#include <librdkafka/rdkafka.h>

// Off by default (errors reach the user as values); QT_LOGGING_RULES="tapedeck.kafka*=true" shows them.
Q_LOGGING_CATEGORY(lcKafka, "tapedeck.kafka", QtCriticalMsg)

namespace tapedeck {

namespace {
std::mutex g_logMutex;
QHash<const rd_kafka_t *, QString> g_lastError;

void onLog(const rd_kafka_t *rk, int level, const char *fac, const char *buf)
{
    const QString line = QString::fromUtf8(buf);
    if (level <= 4)
        qCWarning(lcKafka, "%s %s: %s", rd_kafka_name(rk), fac, buf);
    else
        qCDebug(lcKafka, "%s %s: %s", rd_kafka_name(rk), fac, buf);
    if (level <= 3) {
        // "[thrd:x]: 127.0.0.1:1/bootstrap: Connect to ipv4#127.0.0.1:1 failed: Connection refused (after 0ms in state CONNECT)"
        // -> "Connect to ipv4#127.0.0.1:1 failed: Connection refused"
        static const QRegularExpression noise(QStringLiteral(R"(^\[thrd:[^\]]*\]: |^[^ ]+/[^ ]+: | \(after \d+ms in state [^)]*\)$)"));
        QString text = line;
        for (int i = 0; i < 3; ++i)
            text.remove(noise);
        std::lock_guard lock(g_logMutex);
        g_lastError.insert(rk, text);
    }
}
} // namespace

namespace kafka {

void ClientDeleter::operator()(rd_kafka_s *rk) const
{
    rd_kafka_destroy(rk);
    std::lock_guard lock(g_logMutex);
    g_lastError.remove(rk);
}

QString lastLoggedError(const rd_kafka_s *client)
{
    std::lock_guard lock(g_logMutex);
    return g_lastError.value(client);
}

void routeLogs(rd_kafka_conf_s *conf)
{
    rd_kafka_conf_set_log_cb(conf, onLog);
}

QString errorText(int err)
{
    return QString::fromUtf8(rd_kafka_err2str(rd_kafka_resp_err_t(err)));
}

ClientPtr makeClient(int type, const KafkaConnection &connection, const QList<std::pair<QString, QString>> &overrides,
                     QString *error, const QList<std::pair<QString, QString>> &defaults)
{
    char errstr[512];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    auto set = [&](const QString &name, const QString &value) {
        if (rd_kafka_conf_set(conf, name.toUtf8().constData(), value.toUtf8().constData(), errstr, sizeof errstr)
            != RD_KAFKA_CONF_OK) {
            *error = QStringLiteral("Kafka property %1: %2").arg(name, QString::fromUtf8(errstr));
            return false;
        }
        return true;
    };
    bool ok = true;
    for (const auto &[name, value] : defaults) {
        if (ok)
            ok = set(name, value);
    }
    if (ok && !connection.bootstrap.isEmpty())
        ok = set(QStringLiteral("bootstrap.servers"), connection.bootstrap);
    for (const auto &[name, value] : connection.properties) {
        if (ok)
            ok = set(name, value);
    }
    for (const auto &[name, value] : overrides) {
        if (ok)
            ok = set(name, value);
    }
    if (ok && connection.bootstrapServers().isEmpty()) {
        *error = QStringLiteral("no bootstrap servers: give --brokers or bootstrap.servers");
        ok = false;
    }
    if (!ok) {
        rd_kafka_conf_destroy(conf);
        return nullptr;
    }
    routeLogs(conf);
    rd_kafka_t *rk = rd_kafka_new(rd_kafka_type_t(type), conf, errstr, sizeof errstr);
    if (!rk) {
        rd_kafka_conf_destroy(conf);
        *error = QStringLiteral("cannot create Kafka client: %1").arg(QString::fromUtf8(errstr));
        return nullptr;
    }
    return ClientPtr(rk);
}

} // namespace kafka
} // namespace tapedeck
