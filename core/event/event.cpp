#include "core/event/event.h"

namespace tapedeck {

QString toString(SourceKind kind)
{
    switch (kind) {
    case SourceKind::Kafka: return QStringLiteral("kafka");
    case SourceKind::Postgres: return QStringLiteral("postgres");
    case SourceKind::File: return QStringLiteral("file");
    case SourceKind::Unknown: break;
    }
    return QStringLiteral("unknown");
}

QString toString(TimestampType type)
{
    switch (type) {
    case TimestampType::CreateTime: return QStringLiteral("create");
    case TimestampType::LogAppendTime: return QStringLiteral("logappend");
    case TimestampType::CommitTime: return QStringLiteral("commit");
    case TimestampType::NotAvailable: break;
    }
    return QStringLiteral("none");
}

QString toString(Operation op)
{
    switch (op) {
    case Operation::Record: return QStringLiteral("record");
    case Operation::Insert: return QStringLiteral("insert");
    case Operation::Update: return QStringLiteral("update");
    case Operation::Delete: return QStringLiteral("delete");
    case Operation::Truncate: return QStringLiteral("truncate");
    case Operation::Begin: return QStringLiteral("begin");
    case Operation::Commit: return QStringLiteral("commit");
    case Operation::Message: return QStringLiteral("message");
    case Operation::Read: return QStringLiteral("read");
    }
    return QStringLiteral("record");
}

std::optional<SourceKind> sourceKindFromString(QStringView text)
{
    for (auto kind : {SourceKind::Unknown, SourceKind::Kafka, SourceKind::Postgres, SourceKind::File}) {
        if (text == toString(kind))
            return kind;
    }
    return std::nullopt;
}

std::optional<Operation> operationFromString(QStringView text)
{
    for (int i = 0; i <= int(Operation::Read); ++i) {
        if (text == toString(Operation(i)))
            return Operation(i);
    }
    return std::nullopt;
}

} // namespace tapedeck
