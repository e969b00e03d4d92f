#include "connectors/postgres/decode/pgdecoder.h"

#include "connectors/postgres/decode/pgoutputdecoder.h"
#include "connectors/postgres/decode/testdecodingdecoder.h"
#include "connectors/postgres/decode/wal2jsondecoder.h"

namespace tapedeck {

std::unique_ptr<PgDecoder> PgDecoder::create(const QString &plugin, const PgCatalog &catalog)
{
    if (plugin == QLatin1String("pgoutput"))
        return std::make_unique<PgOutputDecoder>(catalog);
    if (plugin == QLatin1String("wal2json"))
        return std::make_unique<Wal2JsonDecoder>(catalog);
    if (plugin == QLatin1String("test_decoding"))
        return std::make_unique<TestDecodingDecoder>(catalog);
    return nullptr;
}

QStringList PgDecoder::plugins()
{
    return {QStringLiteral("pgoutput"), QStringLiteral("wal2json"), QStringLiteral("test_decoding")};
}

QString PgDecoder::cannotParse(const char *plugin, QByteArrayView data, qint64 lsn)
{
    return QStringLiteral("%1: cannot parse \"%2\" at %3")
        .arg(QLatin1StringView(plugin), QString::fromUtf8(data.first(std::min<qsizetype>(data.size(), 120))), pgchange::formatLsn(lsn));
}

} // namespace tapedeck
