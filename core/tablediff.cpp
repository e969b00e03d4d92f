#include "tablediff.h"

#include "chunkencoder.h"
#include "logstate.h"
#include "rawjson.h"
#include "tape.h"

#include <QElapsedTimer>
#include <QHash>
#include <QJsonDocument>
#include <QLocale>

#include <algorithm>
#include <charconv>

using namespace Qt::StringLiterals;

namespace tapedeck {

namespace {

constexpr char Sep = '\x1f';
constexpr char NullMark = '\x1e';

enum class ValueClass : quint8 { Text, Bool, Number, Float, TimestampTz, Json };

ValueClass classify(const QString &type, const QString &dialect)
{
    const QString t = type.toLower();
    if (dialect == u"sqlite") {
        if (t.contains(u"bool"))
            return ValueClass::Bool;
        if (t.contains(u"real") || t.contains(u"floa") || t.contains(u"doub"))
            return ValueClass::Float;
        if (t.contains(u"int") || t.contains(u"num") || t.contains(u"dec"))
            return ValueClass::Number;
        if (t.contains(u"json"))
            return ValueClass::Json;
        if (t.contains(u"timestamptz") || t.contains(u"with time zone"))
            return ValueClass::TimestampTz;
        return ValueClass::Text;
    }
    if (t == u"boolean" || t == u"bool")
        return ValueClass::Bool;
    if (t == u"real" || t == u"double precision" || t == u"float4" || t == u"float8")
        return ValueClass::Float;
    if (t == u"smallint" || t == u"integer" || t == u"bigint" || t.startsWith(u"numeric") || t.startsWith(u"decimal")
        || t == u"int2" || t == u"int4" || t == u"int8")
        return ValueClass::Number;
    if (t == u"timestamp with time zone" || (t.startsWith(u"timestamp(") && t.endsWith(u"with time zone"))
        || t == u"timestamptz")
        return ValueClass::TimestampTz;
    if (t == u"json" || t == u"jsonb")
        return ValueClass::Json;
    return ValueClass::Text;
}

// Appends the canonical text of a number to *out; false (nothing appended) when `v` is not one.
bool canonicalNumber(QByteArrayView v, QByteArray *out)
{
    qsizetype i = 0;
    bool negative = false;
    if (i < v.size() && (v[i] == '+' || v[i] == '-'))
        negative = v[i++] == '-';
    const qsizetype intStart = i;
    while (i < v.size() && v[i] >= '0' && v[i] <= '9')
        ++i;
    QByteArrayView intPart = v.sliced(intStart, i - intStart), frac;
    if (i < v.size() && v[i] == '.') {
        const qsizetype f = ++i;
        while (i < v.size() && v[i] >= '0' && v[i] <= '9')
            ++i;
        frac = v.sliced(f, i - f);
    }
    if (intPart.isEmpty() && frac.isEmpty())
        return false;
    if (i < v.size()) {
        if (v[i] != 'e' && v[i] != 'E')
            return false;
        // An exponent: compare as the shortest text of the double (the database printed a float).
        bool ok = false;
        const double d = v.toByteArray().toDouble(&ok);
        if (!ok)
            return false;
        out->append(QByteArray::number(d, 'g', QLocale::FloatingPointShortest));
        return true;
    }
    while (intPart.size() > 1 && intPart[0] == '0')
        intPart = intPart.sliced(1);
    while (!frac.isEmpty() && frac.back() == '0')
        frac.chop(1);
    const bool zero = (intPart.isEmpty() || intPart == "0") && frac.isEmpty();
    if (negative && !zero)
        out->append('-');
    out->append(intPart.isEmpty() ? QByteArrayView("0") : intPart);
    if (!frac.isEmpty()) {
        out->append('.');
        out->append(frac);
    }
    return true;
}

int digits(QByteArrayView v, qsizetype at, int n, bool *ok)
{
    int r = 0;
    for (int i = 0; i < n; ++i) {
        if (at + i >= v.size() || v[at + i] < '0' || v[at + i] > '9') {
            *ok = false;
            return 0;
        }
        r = r * 10 + (v[at + i] - '0');
    }
    return r;
}

qint64 daysFromCivil(qint64 y, unsigned m, unsigned d)
{
    y -= m <= 2;
    const qint64 era = (y >= 0 ? y : y - 399) / 400;
    const unsigned yoe = unsigned(y - era * 400);
    const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + qint64(doe) - 719468;
}

// "2024-01-02 03:04:05.123456+02[:30]" (or 'T', 'Z') -> µs since the epoch, as text
// ("@" and the number) appended to *out; false (nothing appended) when `v` is not one.
bool canonicalTimestampTz(QByteArrayView v, QByteArray *out)
{
    bool ok = true;
    const int y = digits(v, 0, 4, &ok), mo = digits(v, 5, 2, &ok), d = digits(v, 8, 2, &ok);
    const int h = digits(v, 11, 2, &ok), mi = digits(v, 14, 2, &ok), s = digits(v, 17, 2, &ok);
    if (!ok || v.size() < 19 || v[4] != '-' || v[7] != '-' || (v[10] != ' ' && v[10] != 'T') || v[13] != ':'
        || v[16] != ':')
        return false;
    qsizetype i = 19;
    qint64 micros = 0;
    if (i < v.size() && v[i] == '.') {
        ++i;
        int n = 0;
        while (i < v.size() && v[i] >= '0' && v[i] <= '9') {
            if (n < 6) {
                micros = micros * 10 + (v[i] - '0');
                ++n;
            }
            ++i;
        }
        for (; n < 6; ++n)
            micros *= 10;
    }
    qint64 offset = 0;
    if (i < v.size() && v[i] == 'Z') {
        ++i;
    } else if (i < v.size() && (v[i] == '+' || v[i] == '-')) {
        const int sign = v[i] == '-' ? -1 : 1;
        const int oh = digits(v, i + 1, 2, &ok);
        i += 3;
        int om = 0, os = 0;
        if (i < v.size() && v[i] == ':') {
            om = digits(v, i + 1, 2, &ok);
            i += 3;
            if (i < v.size() && v[i] == ':') {
                os = digits(v, i + 1, 2, &ok);
                i += 3;
            }
        }
        offset = sign * (oh * 3600 + om * 60 + os);
    } else {
        return false; // no zone: not an instant
    }
    if (!ok || i != v.size())
        return false;
    const qint64 secs = daysFromCivil(y, unsigned(mo), unsigned(d)) * 86400 + h * 3600 + mi * 60 + s - offset;
    char text[24];
    const auto end = std::to_chars(text, text + sizeof text, secs * 1000000 + micros).ptr;
    out->append('@');
    out->append(text, qsizetype(end - text));
    return true;
}

struct Mapped
{
    enum class From : quint8 { Column, Key, KeyField, Value, ValueField };
    From from = From::Column;
    QByteArray path; // JSON path
    QString column;  // change rows: the column's name
};

std::optional<Mapped> parseSource(const QString &source, bool change)
{
    Mapped m;
    if (change) {
        m.column = source;
        return m;
    }
    if (source == u"key")
        m.from = Mapped::From::Key;
    else if (source == u"value")
        m.from = Mapped::From::Value;
    else if (source.startsWith(u"key.") && source.size() > 4)
        m.from = Mapped::From::KeyField, m.path = source.mid(4).toUtf8();
    else if (source.startsWith(u"value.") && source.size() > 6)
        m.from = Mapped::From::ValueField, m.path = source.mid(6).toUtf8();
    else
        return std::nullopt;
    return m;
}

std::optional<QByteArray> fromJson(const std::optional<RawJson> &v)
{
    if (!v || v->type == RawJson::Type::Null)
        return std::nullopt;
    return v->text;
}

// The value of one mapped column in a state row.
std::optional<QByteArray> mappedValue(const Mapped &m, const Event &e)
{
    switch (m.from) {
    case Mapped::From::Column:
        for (const Column &c : e.newRow) {
            if (c.name == m.column)
                return c.value;
        }
        return std::nullopt;
    case Mapped::From::Key: return e.key;
    case Mapped::From::Value: return e.value;
    case Mapped::From::KeyField: return e.key ? fromJson(rawjson::path(*e.key, m.path)) : std::nullopt;
    case Mapped::From::ValueField: return e.value ? fromJson(rawjson::path(*e.value, m.path)) : std::nullopt;
    }
    return std::nullopt;
}

void normaliseInto(QByteArray *out, QByteArrayView value, ValueClass cls);
QByteArray normaliseAs(QByteArrayView value, ValueClass cls);

void appendCanonical(QByteArray *out, bool null, QByteArrayView v, ValueClass cls)
{
    if (null)
        out->append(NullMark);
    else if (cls == ValueClass::Text)
        out->append(v);
    else
        normaliseInto(out, v, cls);
    out->append(Sep);
}

// Canonical table key -> state entry: open addressing over (hash, key, value)
// slots, the keys in one arena (no allocation per key, one probe that
// rarely leaves the slot array). Sized once for its number of keys.
class KeyTable
{
public:
    explicit KeyTable(size_t keys)
    {
        size_t cap = 16;
        while (cap < keys * 2)
            cap <<= 1;
        m_slots.assign(cap, Slot{});
        m_mask = cap - 1;
    }
    // The value of `key`, nullptr when absent.
    quint32 *find(QByteArrayView key) { return probe(key, hashOf(key), false); }
    // The value slot of `key`, inserted (set to `value`) when absent; *inserted says which.
    quint32 *insert(QByteArrayView key, quint32 value, bool *inserted)
    {
        const size_t h = hashOf(key);
        if (quint32 *v = probe(key, h, false)) {
            *inserted = false;
            return v;
        }
        *inserted = true;
        quint32 *v = probe(key, h, true);
        *v = value;
        return v;
    }

private:
    static constexpr quint32 Empty = 0xFFFFFFFFu;
    struct Slot
    {
        size_t hash = 0;
        quint32 ref = Empty; // index into m_offsets
        quint32 value = 0;
    };
    static size_t hashOf(QByteArrayView key) { return qHash(key, size_t(0x6b657973)); }
    QByteArrayView keyAt(quint32 ref) const
    {
        return QByteArrayView(m_arena.constData() + m_offsets[ref], m_offsets[ref + 1] - m_offsets[ref]);
    }
    quint32 *probe(QByteArrayView key, size_t h, bool claim)
    {
        for (size_t i = h & m_mask;; i = (i + 1) & m_mask) {
            Slot &s = m_slots[i];
            if (s.ref == Empty) {
                if (!claim)
                    return nullptr;
                if (m_offsets.empty())
                    m_offsets.push_back(0);
                s.hash = h;
                s.ref = quint32(m_offsets.size() - 1);
                m_arena.append(key);
                m_offsets.push_back(m_arena.size());
                return &s.value;
            }
            if (!claim && s.hash == h && keyAt(s.ref) == key)
                return &s.value;
        }
    }
    std::vector<Slot> m_slots;
    size_t m_mask = 0;
    QByteArray m_arena;
    std::vector<qsizetype> m_offsets; // keys + 1
};

QByteArray quoteIdentifier(const QString &name)
{
    QByteArray q = name.toUtf8();
    q.replace('"', "\"\"");
    return '"' + q + '"';
}

QByteArray literal(const std::optional<QByteArray> &v, const TableColumn &column, const QString &dialect)
{
    if (!v)
        return QByteArrayLiteral("NULL");
    if (dialect == u"sqlite" && classify(column.type, dialect) == ValueClass::Bool) {
        const QByteArray n = TableDiff::normalise(*v, column.type, dialect);
        if (n == "t")
            return QByteArrayLiteral("1");
        if (n == "f")
            return QByteArrayLiteral("0");
    }
    QByteArray q = *v;
    q.replace('\'', "''");
    return '\'' + q + '\'';
}

} // namespace

QByteArray TableDiff::normalise(QByteArrayView value, const QString &type, const QString &dialect)
{
    return normaliseAs(value, classify(type, dialect));
}

namespace {

bool isSpace(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r';
}

// Appends the text `value` compares by (tablediff.md) to *out, without
// temporary allocations for the common classes.
void normaliseInto(QByteArray *out, QByteArrayView value, ValueClass cls)
{
    switch (cls) {
    case ValueClass::Bool: {
        QByteArrayView v = value;
        while (!v.isEmpty() && isSpace(v.front()))
            v = v.sliced(1);
        while (!v.isEmpty() && isSpace(v.back()))
            v.chop(1);
        if (v.size() <= 5) {
            char lower[5];
            for (qsizetype i = 0; i < v.size(); ++i)
                lower[i] = (v[i] >= 'A' && v[i] <= 'Z') ? char(v[i] - 'A' + 'a') : v[i];
            const QByteArrayView l(lower, v.size());
            if (l == "t" || l == "true" || l == "1" || l == "y" || l == "yes" || l == "on") {
                out->append('t');
                return;
            }
            if (l == "f" || l == "false" || l == "0" || l == "n" || l == "no" || l == "off") {
                out->append('f');
                return;
            }
        }
        break;
    }
    case ValueClass::Number:
        if (canonicalNumber(value, out))
            return;
        break;
    case ValueClass::Float: {
        // Floats compare as doubles (SQLite prints 1e20 as 1.0e+20, PostgreSQL as 1e+20).
        bool ok = false;
        const double d = value.toByteArray().trimmed().toDouble(&ok);
        if (ok) {
            out->append(QByteArray::number(d, 'g', QLocale::FloatingPointShortest));
            return;
        }
        break;
    }
    case ValueClass::TimestampTz:
        if (canonicalTimestampTz(value, out))
            return;
        break;
    case ValueClass::Json: {
        QJsonParseError error;
        const QJsonDocument doc = QJsonDocument::fromJson(value.toByteArray(), &error);
        if (error.error == QJsonParseError::NoError) {
            out->append(doc.toJson(QJsonDocument::Compact));
            return;
        }
        break;
    }
    case ValueClass::Text: break;
    }
    out->append(value);
}

QByteArray normaliseAs(QByteArrayView value, ValueClass cls)
{
    QByteArray out;
    normaliseInto(&out, value, cls);
    return out;
}

} // namespace

bool TableDiff::run(const LogState &state, TableReader &reader, const QString &table, const DiffOptions &options,
                    DiffResult *result, QString *error, const std::function<bool(qint64)> &progress)
{
    QElapsedTimer timer;
    timer.start();
    *result = DiffResult{};
    const int ti = state.tableIndex(options.stateTable);
    if (ti < 0) {
        *error = u"the tape has no table or topic \"%1\""_s.arg(options.stateTable);
        return false;
    }
    const LogStateTable &info = state.tables()[ti];
    const bool change = info.kind == SourceKind::Postgres;
    if (!reader.open(table, error))
        return false;
    const QString dialect = reader.dialect();
    const QList<TableColumn> tableColumns = reader.columns();
    auto columnOf = [&](const QString &name) -> std::optional<TableColumn> {
        for (const TableColumn &c : tableColumns) {
            if (c.name == name)
                return c;
        }
        return std::nullopt;
    };
    QStringList keyColumns = options.keyColumns.isEmpty() ? reader.primaryKey() : options.keyColumns;
    if (keyColumns.isEmpty()) {
        *error = u"%1 has no primary key: name the key columns with --key COL[,COL]"_s.arg(table);
        return false;
    }
    for (const QString &k : keyColumns) {
        if (!columnOf(k)) {
            *error = u"%1 has no column \"%2\""_s.arg(table, k);
            return false;
        }
    }
    const LogStateSnapshot snapshot = state.snapshot(ti, std::min(options.end, state.eventCount()));
    result->table = table;
    result->stateTable = info.name;
    result->quotedTable = reader.quotedTable();
    result->dialect = dialect;
    result->end = snapshot.end();
    result->keyColumns = keyColumns;
    result->stateRows = snapshot.rowCount();

    // A sample row for the default mapping.
    std::optional<LogStateRow> sample;
    if (snapshot.rowCount() > 0) {
        sample = state.row(snapshot, snapshot.keyAt(0), error);
        if (!sample)
            return false;
    }
    QList<ColumnMapping> mapping;
    auto mappedSource = [&](const QString &column) -> std::optional<QString> {
        for (const ColumnMapping &m : options.map) {
            if (m.column == column)
                return m.source;
        }
        return std::nullopt;
    };
    for (const ColumnMapping &m : options.map) {
        if (!columnOf(m.column)) {
            *error = u"%1 has no column \"%2\" (in --map)"_s.arg(table, m.column);
            return false;
        }
        if (!parseSource(m.source, change)) {
            *error = u"--map %1=%2: a Kafka source is key, key.FIELD, value or value.FIELD"_s.arg(m.column, m.source);
            return false;
        }
    }
    QList<std::pair<QByteArray, RawJson>> sampleValueFields, sampleKeyFields;
    if (sample && !change) {
        if (sample->value)
            rawjson::objectFields(*sample->value, &sampleValueFields);
        const QByteArray keyBytes = state.keyText(ti, sample->keyId);
        rawjson::objectFields(keyBytes, &sampleKeyFields);
    }
    auto hasField = [](const QList<std::pair<QByteArray, RawJson>> &fields, const QString &name) {
        const QByteArray n = name.toUtf8();
        return std::any_of(fields.cbegin(), fields.cend(), [&](const auto &f) { return f.first == n; });
    };
    for (const QString &k : keyColumns) {
        if (auto s = mappedSource(k)) {
            mapping.append({k, *s});
        } else if (change) {
            mapping.append({k, k});
        } else if (hasField(sampleKeyFields, k)) {
            mapping.append({k, u"key."_s + k});
        } else if (keyColumns.size() == 1) {
            mapping.append({k, u"key"_s});
        } else {
            *error = u"key column \"%1\": say where it comes from with --map %1=key.FIELD|value.FIELD"_s.arg(k);
            return false;
        }
    }
    for (const TableColumn &c : tableColumns) {
        if (keyColumns.contains(c.name))
            continue;
        if (!options.map.isEmpty()) {
            if (auto s = mappedSource(c.name))
                mapping.append({c.name, *s});
            continue;
        }
        if (change && sample) {
            if (std::any_of(sample->row.cbegin(), sample->row.cend(), [&](const Column &x) { return x.name == c.name; }))
                mapping.append({c.name, c.name});
        } else if (!change && hasField(sampleValueFields, c.name)) {
            mapping.append({c.name, u"value."_s + c.name});
        }
    }
    result->mapping = mapping;
    QList<Mapped> sources;
    QStringList columnNames;
    for (const ColumnMapping &m : mapping) {
        sources.append(*parseSource(m.source, change));
        result->columns.append(*columnOf(m.column));
        columnNames.append(m.column);
    }
    const int nKeys = int(keyColumns.size());
    const int nCols = int(result->columns.size());
    std::vector<ValueClass> classes;
    for (const TableColumn &c : std::as_const(result->columns))
        classes.push_back(classify(c.type, dialect));

    // The state side: every live key's canonical table key and a digest of its other columns.
    struct StateEntry
    {
        quint32 keyId;
        quint64 digest;
        bool matched = false;
        bool shadowed = false; // another state key maps to the same table key and came later
    };
    std::vector<StateEntry> entries;
    KeyTable byKey(size_t(snapshot.rowCount()));
    {
        const qint64 n = snapshot.rowCount();
        std::vector<std::pair<qint64, quint32>> order;
        order.reserve(size_t(n));
        const QList<quint32> keys = snapshot.keys(0, int(std::min<qint64>(n, std::numeric_limits<int>::max())));
        for (quint32 k : keys)
            order.emplace_back(snapshot.lastSeq(k), k);
        std::sort(order.begin(), order.end());
        entries.reserve(order.size());
        const Tape &tape = *state.tape();
        std::shared_ptr<const Chunk> chunk;
        int chunkIndex = -1;
        Event e;
        QByteArray keyText, rest;
        // Change rows: the mapped columns read straight from the event's CBOR
        // (no Event, no QString); Kafka: the key and value bytes in place.
        QList<QByteArray> wanted;
        for (const Mapped &m : std::as_const(sources))
            wanted.append(m.column.toUtf8());
        std::vector<ChunkEncoder::CellView> cells(static_cast<size_t>(nCols));
        for (const auto &[seq, keyId] : order) {
            const int ci = tape.chunkIndexOf(seq);
            if (ci != chunkIndex) {
                chunk = tape.chunk(ci, error);
                if (!chunk)
                    return false;
                chunkIndex = ci;
            }
            const int at = int(seq - tape.chunkInfo(ci).firstSeq);
            keyText.resize(0);
            rest.resize(0);
            bool keyOk = true;
            auto add = [&](int c, bool null, QByteArrayView v) {
                if (c < nKeys) {
                    keyOk = keyOk && !null;
                    appendCanonical(&keyText, null, v, classes[size_t(c)]);
                } else {
                    appendCanonical(&rest, null, v, classes[size_t(c)]);
                }
            };
            bool unchanged = false;
            if (change && ChunkEncoder::newRowCells(chunk->extension(at), wanted, cells.data(), &unchanged) && !unchanged) {
                for (int c = 0; c < nCols; ++c)
                    add(c, cells[size_t(c)].state != ChunkEncoder::CellView::Value, cells[size_t(c)].value);
            } else if (!change) {
                const bool hasKey = chunk->hasKey(at), hasValue = chunk->hasValue(at);
                const QByteArrayView key = chunk->key(at), value = chunk->value(at);
                for (int c = 0; c < nCols; ++c) {
                    const Mapped &m = sources[c];
                    switch (m.from) {
                    case Mapped::From::Key: add(c, !hasKey, key); break;
                    case Mapped::From::Value: add(c, !hasValue, value); break;
                    case Mapped::From::KeyField:
                    case Mapped::From::ValueField: {
                        const bool present = m.from == Mapped::From::KeyField ? hasKey : hasValue;
                        const std::optional<RawJson> v = present ? rawjson::path(m.from == Mapped::From::KeyField ? key : value, m.path)
                                                                 : std::nullopt;
                        const bool null = !v || v->type == RawJson::Type::Null;
                        add(c, null, null ? QByteArrayView() : QByteArrayView(v->text));
                        break;
                    }
                    case Mapped::From::Column: add(c, true, {}); break;
                    }
                }
            } else {
                chunk->fill(at, &e);
                if (std::any_of(e.newRow.cbegin(), e.newRow.cend(), [](const Column &c) { return c.unchangedToast; })) {
                    const auto full = state.row(snapshot, keyId, error); // unchanged TOAST values: the slow way
                    if (!full)
                        return false;
                    e.newRow = full->row;
                }
                for (int c = 0; c < nCols; ++c) {
                    const std::optional<QByteArray> v = mappedValue(sources[c], e);
                    add(c, !v.has_value(), v ? QByteArrayView(*v) : QByteArrayView());
                }
            }
            if (!keyOk) {
                ++result->unmappable;
                continue;
            }
            const quint32 index = quint32(entries.size());
            entries.push_back({keyId, quint64(qHash(rest, 0x7461706564656b)), false, false});
            bool inserted = false;
            quint32 *it = byKey.insert(keyText, index, &inserted);
            if (!inserted) {
                ++result->keyCollisions;
                entries[*it].shadowed = true;
                *it = index;
            }
        }
    }
    result->stateSeconds = double(timer.nsecsElapsed()) / 1e9;

    // The table side, streamed in key order.
    struct Found
    {
        quint32 entry;
        QList<std::optional<QByteArray>> tableRow;
    };
    QList<Found> differing;
    QList<DiffEntry> extras;
    if (!reader.start(columnNames, keyColumns, error))
        return false;
    TableBatch batch;
    QByteArray keyText, rest;
    auto rowValues = [&](int r) {
        QList<std::optional<QByteArray>> row;
        row.reserve(nCols);
        for (int c = 0; c < nCols; ++c)
            row.append(batch.isNull(r, c) ? std::nullopt : std::optional<QByteArray>(batch.cell(r, c).toByteArray()));
        return row;
    };
    while (true) {
        if (!reader.next(&batch, options.batchRows, error))
            return false;
        const int rows = batch.rows();
        if (rows == 0)
            break;
        for (int r = 0; r < rows; ++r) {
            keyText.resize(0);
            rest.resize(0);
            for (int c = 0; c < nCols; ++c)
                appendCanonical(c < nKeys ? &keyText : &rest, batch.isNull(r, c), batch.cell(r, c), classes[size_t(c)]);
            const quint32 *it = byKey.find(keyText);
            if (!it) {
                ++result->extra;
                if (options.maxEntries < 0 || extras.size() < options.maxEntries) {
                    DiffEntry d;
                    d.kind = DiffEntry::Kind::Extra;
                    d.key = rowValues(r).mid(0, nKeys);
                    extras.append(std::move(d));
                }
                continue;
            }
            StateEntry &s = entries[*it];
            s.matched = true;
            if (s.digest == quint64(qHash(rest, 0x7461706564656b))) {
                ++result->equalRows;
            } else {
                ++result->differing;
                differing.append({*it, rowValues(r)});
            }
        }
        result->tableRows += rows;
        if (progress && !progress(result->tableRows)) {
            *error = u"cancelled"_s;
            return false;
        }
    }

    // Details: the state's values of missing and differing keys, read back from the tape.
    QList<quint32> missing;
    for (quint32 i = 0; i < quint32(entries.size()); ++i) {
        if (!entries[i].matched && !entries[i].shadowed)
            missing.append(i);
    }
    result->missing = missing.size();
    if (options.maxEntries >= 0) {
        missing.resize(std::min<qsizetype>(missing.size(), options.maxEntries));
        differing.resize(std::min<qsizetype>(differing.size(), options.maxEntries));
    }
    QList<quint32> detailKeys;
    for (quint32 i : std::as_const(missing))
        detailKeys.append(entries[i].keyId);
    for (const Found &f : std::as_const(differing))
        detailKeys.append(entries[f.entry].keyId);
    QList<LogStateRow> stateRows;
    if (!state.rows(snapshot, detailKeys, &stateRows, error))
        return false;
    auto lastEvents = [&](quint32 keyId) {
        const QList<qint64> all = state.keyEvents(ti, keyId, 0, snapshot.end());
        return all.mid(std::max<qsizetype>(0, all.size() - 3));
    };
    auto stateValues = [&](const LogStateRow &row) {
        Event e;
        e.key = state.keyText(ti, row.keyId);
        e.value = row.value;
        e.newRow = row.row;
        QList<std::optional<QByteArray>> values;
        for (int c = 0; c < nCols; ++c)
            values.append(mappedValue(sources[c], e));
        return values;
    };
    QList<DiffEntry> out;
    for (qsizetype i = 0; i < stateRows.size(); ++i) {
        DiffEntry d;
        d.stateRow = stateValues(stateRows[i]);
        d.lastEvents = lastEvents(stateRows[i].keyId);
        if (i < missing.size()) {
            d.kind = DiffEntry::Kind::Missing;
            d.key = d.stateRow.mid(0, nKeys);
        } else {
            const Found &f = differing[i - missing.size()];
            d.kind = DiffEntry::Kind::Differs;
            d.key = f.tableRow.mid(0, nKeys);
            for (int c = nKeys; c < nCols; ++c) {
                const auto &a = d.stateRow[c], &b = f.tableRow[c];
                const bool same = a.has_value() == b.has_value()
                    && (!a || normalise(*a, result->columns[c].type, dialect) == normalise(*b, result->columns[c].type, dialect));
                if (!same)
                    d.differences.append({result->columns[c].name, a, b});
            }
        }
        out.append(std::move(d));
    }
    // Extra keys: their events, when the table key is also the state's key.
    const bool sameKey = change ? keyColumns == info.keyColumns
                                : (nKeys == 1 && sources[0].from == Mapped::From::Key);
    for (DiffEntry &d : extras) {
        if (sameKey && std::all_of(d.key.cbegin(), d.key.cend(), [](const auto &v) { return v.has_value(); })) {
            QByteArray text;
            for (qsizetype i = 0; i < d.key.size(); ++i)
                text += (i ? QByteArray(1, LogState::KeySeparator) : QByteArray()) + *d.key[i];
            if (const auto k = state.findKey(ti, text))
                d.lastEvents = lastEvents(*k);
        }
        out.append(std::move(d));
    }
    auto keyString = [](const DiffEntry &d) {
        QByteArray s;
        for (qsizetype i = 0; i < d.key.size(); ++i)
            s += (i ? QByteArray(1, LogState::KeySeparator) : QByteArray()) + d.key[i].value_or(QByteArray());
        return s;
    };
    std::stable_sort(out.begin(), out.end(), [&](const DiffEntry &a, const DiffEntry &b) {
        return LogState::compareKeys(keyString(a), keyString(b)) < 0;
    });
    result->entries = std::move(out);
    result->seconds = double(timer.nsecsElapsed()) / 1e9;
    return true;
}

QByteArray TableDiff::repairSql(const DiffResult &r, const QString &header)
{
    QByteArray sql;
    for (const QString &line : header.split(u'\n'))
        sql += "-- " + line.toUtf8() + '\n';
    sql += "BEGIN;\n";
    if (r.dialect == u"postgresql")
        sql += "SET LOCAL standard_conforming_strings = on;\n";
    const int nKeys = int(r.keyColumns.size());
    auto where = [&](const QList<std::optional<QByteArray>> &key) {
        QByteArray w;
        for (int c = 0; c < nKeys; ++c) {
            w += (c ? " AND " : " WHERE ") + quoteIdentifier(r.columns[c].name);
            w += key[c] ? " = " + literal(key[c], r.columns[c], r.dialect) : QByteArray(" IS NULL");
        }
        return w;
    };
    for (const DiffEntry &d : r.entries) {
        switch (d.kind) {
        case DiffEntry::Kind::Extra:
            sql += "DELETE FROM " + r.quotedTable + where(d.key) + ";\n";
            break;
        case DiffEntry::Kind::Missing: {
            QByteArray names, values;
            for (int c = 0; c < r.columns.size(); ++c) {
                names += (c ? ", " : "") + quoteIdentifier(r.columns[c].name);
                values += (c ? ", " : "") + literal(d.stateRow[c], r.columns[c], r.dialect);
            }
            sql += "INSERT INTO " + r.quotedTable + " (" + names + ") VALUES (" + values + ");\n";
            break;
        }
        case DiffEntry::Kind::Differs: {
            QByteArray set;
            for (const ColumnDifference &x : d.differences) {
                for (const TableColumn &c : r.columns) {
                    if (c.name == x.column)
                        set += (set.isEmpty() ? "" : ", ") + quoteIdentifier(c.name) + " = " + literal(x.state, c, r.dialect);
                }
            }
            sql += "UPDATE " + r.quotedTable + " SET " + set + where(d.key) + ";\n";
            break;
        }
        }
    }
    sql += "COMMIT;\n";
    return sql;
}

QList<SinkOutput> TableDiff::repairOutputs(const DiffResult &r)
{
    QList<SinkOutput> outputs;
    const int nKeys = int(r.keyColumns.size());
    auto value = [&](const std::optional<QByteArray> &v, const TableColumn &c) {
        std::optional<QByteArray> text = v;
        if (v && r.dialect == u"sqlite" && classify(c.type, r.dialect) == ValueClass::Bool) {
            const QByteArray n = normalise(*v, c.type, r.dialect);
            if (n == "t" || n == "f")
                text = QByteArray(n == "t" ? "1" : "0");
        }
        return SinkField{c.name, SinkValue{text, c.type}};
    };
    for (const DiffEntry &d : r.entries) {
        SinkOutput out;
        out.kind = SinkOutput::Kind::Sql;
        out.table = r.table;
        out.seq = d.lastEvents.isEmpty() ? -1 : d.lastEvents.last();
        for (int c = 0; c < nKeys; ++c)
            out.key.append(value(d.kind == DiffEntry::Kind::Extra ? d.key[c] : d.stateRow[c], r.columns[c]));
        if (d.kind == DiffEntry::Kind::Extra) {
            out.op = SqlOp::Delete;
        } else {
            out.op = SqlOp::Upsert;
            for (int c = 0; c < r.columns.size(); ++c)
                out.row.append(value(d.stateRow[c], r.columns[c]));
        }
        outputs.append(std::move(out));
    }
    return outputs;
}

bool TableDiff::repair(Sink &sink, const DiffResult &r, const QString &replayId, qint64 *written, QString *error)
{
    *written = 0;
    if (!sink.open(replayId, error))
        return false;
    const QList<SinkOutput> outputs = repairOutputs(r);
    constexpr qsizetype Batch = 5000;
    const ReplayPosition progress{u"repair/"_s + r.table, r.end, r.end - 1};
    for (qsizetype i = 0; i < outputs.size(); i += Batch) {
        if (!sink.write(outputs.mid(i, Batch), {progress}, error)) {
            sink.close();
            return false;
        }
        *written += std::min(Batch, outputs.size() - i);
    }
    sink.close();
    return true;
}

} // namespace tapedeck
