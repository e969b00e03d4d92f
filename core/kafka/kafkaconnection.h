#pragma once

#include <QJsonObject>
#include <QList>
#include <QString>

#include <utility>

namespace tapedeck {

// How to reach a Kafka cluster: bootstrap servers plus any librdkafka
// property (security.protocol, sasl.*, ssl.*, timeouts...), in order.
// Plain data: the connectors turn it into a client.
struct KafkaConnection
{
    QString bootstrap;
    QList<std::pair<QString, QString>> properties;

    // "name=value" as kcat's -X takes it.
    bool addProperty(const QString &assignment, QString *error);
    // A properties file as kcat -F reads it: name=value lines, # comments.
    bool loadPropertiesFile(const QString &path, QString *error);
    QString bootstrapServers() const; // bootstrap, or bootstrap.servers/metadata.broker.list from the properties
    QString describe() const;         // "kafka://host:9092"
    // For tape metadata: properties whose names look secret are left out.
    QJsonObject toJson() const;
    static bool isSecret(const QString &name);
    bool operator==(const KafkaConnection &) const = default;
};

} // namespace tapedeck
