#pragma once

#include "core/kafka/kafkaconnection.h"

#include <QList>
#include <QString>

#include <memory>
#include <utility>

struct rd_kafka_s;
struct rd_kafka_conf_s;

namespace tapedeck {

namespace kafka {

struct ClientDeleter
{
    void operator()(rd_kafka_s *rk) const;
};
using ClientPtr = std::unique_ptr<rd_kafka_s, ClientDeleter>;

// A librdkafka handle (RD_KAFKA_PRODUCER = 0, RD_KAFKA_CONSUMER = 1) for
// `connection`: `defaults` first (the user's properties may change them),
// then the connection's properties, then `overrides` (which they may not).
// nullptr + *error on failure.
ClientPtr makeClient(int type, const KafkaConnection &connection,
                     const QList<std::pair<QString, QString>> &overrides, QString *error,
                     const QList<std::pair<QString, QString>> &defaults = {});

QString errorText(int rdKafkaError);
// The last error librdkafka logged for this client (e.g. "Connect to
// ipv4#127.0.0.1:1 failed: Connection refused"), empty when none. librdkafka's
// log goes to the tapedeck.kafka logging category, never straight to stderr.
QString lastLoggedError(const rd_kafka_s *client);
// Installs the logging above on a configuration (makeClient does it).
void routeLogs(rd_kafka_conf_s *conf);

} // namespace kafka
} // namespace tapedeck
