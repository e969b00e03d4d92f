#include "core/tape/tape.h"
#include "core/tape/tapeformat.h"
#include "core/tape/tapewriter.h"
#include "core/tape/chunkencoder.h"
#include "core/base/varint.h"
#include "tests/common/testevents.h"

#include <QCborStreamWriter>
#include <QFile>
#include <QJsonArray>
#include <QProcess>
#include <QRandomGenerator>
#include <QTemporaryDir>
#include <QTest>

#include <zstd.h>

#include <csignal>

using namespace tapedeck;
using namespace Qt::StringLiterals;

namespace {

TapeMetadata meta()
{
    TapeMetadata m;
    m.sourceKind = SourceKind::Kafka;
    m.source = u"kafka://localhost:9092"_qs;
    m.parameters = QJsonObject{{u"topics"_qs, QJsonArray{u"orders"_qs}}, {u"from"_qs, u"beginning"_qs}};
    m.recordedAt = QDateTime(QDate(2026, 11, 29), QTime(3, 4, 5, 678), Qt::UTC);
    m.createdBy = u"tapedeck test"_qs;
    return m;
}

Event readBack(const Tape &tape, qint64 seq)
{
    Event e;
    QString error;
    if (!tape.event(seq, &e, &error))
        qWarning() << error;
    return e;
}

void writeEvents(const QString &path, qint64 n, int chunkEvents = 100, bool close = true)
{
    TapeWriter w;
    TapeWriter::Options o;
    o.maxChunkEvents = chunkEvents;
    QVERIFY2(w.create(path, meta(), o), qPrintable(w.errorString()));
    for (qint64 i = 0; i < n; ++i)
        QVERIFY(w.append(testing::kafkaEvent(i)));
    if (close)
        QVERIFY(w.close());
    else
        QVERIFY(w.flush());
}

QByteArray readAll(const QString &path)
{
    QFile f(path);
    return f.open(QIODevice::ReadOnly) ? f.readAll() : QByteArray();
}

void writeAll(const QString &path, const QByteArray &bytes)
{
    QFile f(path);
    QVERIFY(f.open(QIODevice::WriteOnly | QIODevice::Truncate));
    QCOMPARE(f.write(bytes), bytes.size());
}


// `bytes` with the block at `offset` replaced by one of the given summary
// and payload, its checksums right: damage a reader cannot tell from a
// writer's output by checksums alone.
QByteArray withBlock(const QByteArray &bytes, qint64 offset, const QByteArray &summary, const QByteArray &payload,
                     quint8 codec, quint32 rawSize)
{
    const char *old = bytes.constData() + offset;
    const qint64 oldSize = format::BlockHeaderSize + format::getU32(old + 8) + format::getU32(old + 12);
    QByteArray h(old, format::BlockHeaderSize);
    h[5] = char(codec);
    format::putU32(h.data() + 8, quint32(summary.size()));
    format::putU32(h.data() + 12, quint32(payload.size()));
    format::putU32(h.data() + 16, rawSize);
    format::putU32(h.data() + 20, format::crc32c(payload));
    format::putU32(h.data() + 28, format::crc32c(summary, format::crc32c(h.constData(), 28)));
    return bytes.left(offset) + h + summary + payload + bytes.mid(offset + oldSize);
}

// The file offset of chunk `index` of a valid tape, or -1.
qint64 chunkOffset(const QString &path, int index)
{
    QString error;
    const auto tape = Tape::open(path, &error);
    if (!tape || index >= tape->chunkCount()) {
        qWarning() << error;
        return -1;
    }
    return tape->chunkInfo(index).fileOffset;
}
} // namespace

class TestTape : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void init() { QVERIFY(m_dir.isValid()); }

    void writeReadEveryField()
    {
        const QString path = m_dir.filePath(u"all.tape"_qs);
        TapeWriter w;
        TapeWriter::Options o;
        o.maxChunkEvents = 7; // events cross chunk boundaries
        QVERIFY(w.create(path, meta(), o));
        QList<Event> written;
        for (int i = 0; i < 50; ++i) {
            Event e = i % 4 == 3 ? testing::changeEvent(i) : testing::kafkaEvent(i);
            if (i == 10) {
                e.key = std::nullopt;
                e.value = QByteArray("\x00\xff\xfe binary\n", 11);
                e.headers = {{"dup", QByteArray("1")}, {"dup", QByteArray("2")}, {"empty", QByteArray("")}, {"null", std::nullopt}};
                e.flags = Transactional | Aborted;
                e.leaderEpoch = 42;
            }
            if (i == 11)
                e.value = QByteArray(""); // empty, not a tombstone
            QVERIFY(w.append(e));
            written.append(e);
        }
        QVERIFY(w.close());
        QCOMPARE(w.eventCount(), 50);

        QString error;
        const auto tape = Tape::open(path, &error);
        QVERIFY2(tape, qPrintable(error));
        QCOMPARE(tape->eventCount(), 50);
        QVERIFY(tape->isComplete());
        QCOMPARE(tape->warnings(), QStringList());
        QCOMPARE(tape->formatVersion(), 1);
        QCOMPARE(tape->chunkCount(), 8); // 7 full chunks of 7 and one of 1
        QCOMPARE(tape->metadata().source, u"kafka://localhost:9092"_qs);
        QCOMPARE(tape->metadata().recordedAt, meta().recordedAt);
        QCOMPARE(tape->metadata().parameters, meta().parameters);
        for (int i = 0; i < 50; ++i)
            QCOMPARE(readBack(*tape, i), written[i]);
        QVERIFY(readBack(*tape, 11).value.has_value());
        QCOMPARE(readBack(*tape, 11).value->size(), 0);
        QVERIFY(!readBack(*tape, 10).key.has_value());
        QVERIFY(!tape->event(50, new Event, &error));
        QCOMPARE(error, path + u": no event #50 (the tape holds 50)"_qs);
    }

    // decodeExtension() reads what encodeExtension() writes with its own
    // CBOR reader, and anything else (valid CBOR it does not expect) through
    // QCborValue: both give the same event.
    void changeFieldsRoundTrip_data()
    {
        QTest::addColumn<Event>("event");
        Event e = testing::changeEvent(3);
        QTest::newRow("test event") << e;
        Event big;
        big.transactionId = Q_INT64_C(0x7fffffffffffffff);
        big.commitLsn = Q_INT64_C(0x100000000);
        big.commitTimeUs = 0;
        big.primaryKey = {u"id"_qs, u"sp\u00e9cial"_qs};
        big.newRow = {Column{u"id"_qs, u"bigint"_qs, QByteArray("9007199254740993"), false},
                      Column{u"sp\u00e9cial"_qs, QString(), std::nullopt, false},
                      Column{u"blob"_qs, u"text"_qs, QByteArray(70000, 'x'), false},
                      Column{u"medium"_qs, u"text"_qs, QByteArray(300, '\t'), false},
                      Column{u"toast"_qs, u"text"_qs, std::nullopt, true},
                      Column{u"empty"_qs, u"text"_qs, QByteArray(""), false}};
        big.oldRow = {Column{u"id"_qs, u"bigint"_qs, QByteArray("-1"), false}};
        QTest::newRow("edges") << big;
        Event onlyKey;
        onlyKey.primaryKey = {u"k"_qs};
        QTest::newRow("only a key") << onlyKey;
    }
    void changeFieldsRoundTrip()
    {
        QFETCH(Event, event);
        auto changeFields = [](const Event &e) {
            Event c;
            c.transactionId = e.transactionId;
            c.commitLsn = e.commitLsn;
            c.commitTimeUs = e.commitTimeUs;
            c.oldRow = e.oldRow;
            c.newRow = e.newRow;
            c.primaryKey = e.primaryKey;
            return c;
        };
        const Event expected = changeFields(event);
        Event decoded;
        QVERIFY(ChunkEncoder::decodeExtension(ChunkEncoder::encodeExtension(event), &decoded));
        QCOMPARE(decoded, expected);
        // The same fields with indefinite lengths (not what the encoder writes).
        QByteArray cbor;
        QCborStreamWriter w(&cbor);
        w.startMap();
        if (event.transactionId >= 0) {
            w.append(QLatin1StringView("x"));
            w.append(event.transactionId);
        }
        if (event.commitLsn >= 0) {
            w.append(QLatin1StringView("l"));
            w.append(event.commitLsn);
        }
        if (event.commitTimeUs >= 0) {
            w.append(QLatin1StringView("t"));
            w.append(event.commitTimeUs);
        }
        auto row = [&](const char *name, const Row &r) {
            if (r.isEmpty())
                return;
            w.append(QLatin1StringView(name));
            w.startArray();
            for (const Column &c : r) {
                w.startArray();
                w.append(c.name);
                w.append(c.type);
                if (c.value)
                    w.appendByteString(c.value->constData(), c.value->size());
                else
                    w.appendNull();
                w.append(c.unchangedToast);
                w.endArray();
            }
            w.endArray();
        };
        row("o", event.oldRow);
        row("n", event.newRow);
        if (!event.primaryKey.isEmpty()) {
            w.append(QLatin1StringView("k"));
            w.startArray();
            for (const QString &k : event.primaryKey)
                w.append(k);
            w.endArray();
        }
        w.endMap();
        Event slow;
        QVERIFY(ChunkEncoder::decodeExtension(cbor, &slow));
        QCOMPARE(slow, expected);
    }

    void streamStatistics()
    {
        const QString path = m_dir.filePath(u"stats.tape"_qs);
        writeEvents(path, 1000, 64);
        QString error;
        const auto tape = Tape::open(path, &error);
        QVERIFY(tape);
        // kafkaEvent: topic orders when i % 3 == 0, partition i % 4, offset i / 4.
        QCOMPARE(tape->streams().size(), 8);
        qint64 total = 0;
        for (const StreamStats &s : tape->streams()) {
            qint64 expected = 0, minPos = -1, maxPos = -1;
            for (qint64 i = 0; i < 1000; ++i) {
                const Event e = testing::kafkaEvent(i);
                if (e.topic == s.key.topic && e.partition == s.key.partition) {
                    ++expected;
                    minPos = minPos < 0 ? e.position : std::min(minPos, e.position);
                    maxPos = std::max(maxPos, e.position);
                }
            }
            QCOMPARE(s.count, expected);
            QCOMPARE(s.minPosition, minPos);
            QCOMPARE(s.maxPosition, maxPos);
            QCOMPARE(s.key.cluster, u"test-cluster"_qs);
            total += s.count;
        }
        QCOMPARE(total, 1000);
        QCOMPARE(tape->minTimestampUs(), testing::kafkaEvent(0).timestampUs);
        QCOMPARE(tape->maxTimestampUs(), testing::kafkaEvent(999).timestampUs);
        QCOMPARE(tape->chunkIndexOf(0), 0);
        QCOMPARE(tape->chunkIndexOf(63), 0);
        QCOMPARE(tape->chunkIndexOf(64), 1);
        QCOMPARE(tape->chunkIndexOf(999), 15);
        QCOMPARE(tape->chunkIndexOf(1000), -1);
    }

    void unclosedTapeOpensWithFlushedEvents()
    {
        const QString path = m_dir.filePath(u"open.tape"_qs);
        TapeWriter w;
        QVERIFY(w.create(path, meta()));
        for (int i = 0; i < 10; ++i)
            QVERIFY(w.append(testing::kafkaEvent(i)));
        QVERIFY(w.flush());
        QVERIFY(w.append(testing::kafkaEvent(10))); // not flushed

        QString error;
        auto tape = Tape::open(path, &error);
        QVERIFY2(tape, qPrintable(error));
        QCOMPARE(tape->eventCount(), 10);
        QVERIFY(!tape->isComplete());
        QCOMPARE(tape->warnings(), QStringList());

        // A reader follows a tape that is being written.
        for (int i = 11; i < 25; ++i)
            QVERIFY(w.append(testing::kafkaEvent(i)));
        QVERIFY(w.flush());
        QCOMPARE(tape->refresh(&error), 15);
        QCOMPARE(tape->eventCount(), 25);
        QCOMPARE(readBack(*tape, 24), testing::kafkaEvent(24));
        QVERIFY(w.close());
        QCOMPARE(tape->refresh(&error), 0);
        QVERIFY(tape->isComplete());
    }

    void snapshotsFollowAGrowingTape()
    {
        const QString path = m_dir.filePath(u"grow.tape"_qs);
        TapeWriter w;
        QVERIFY(w.create(path, meta()));
        for (int i = 0; i < 5; ++i)
            QVERIFY(w.append(testing::kafkaEvent(i)));
        QVERIFY(w.flush());
        QString error;
        const std::shared_ptr<const Tape> first = Tape::open(path, &error);
        QVERIFY(first);
        for (int i = 5; i < 12; ++i)
            QVERIFY(w.append(testing::kafkaEvent(i)));
        QVERIFY(w.flush());
        const auto second = first->refreshed(&error);
        QVERIFY2(second, qPrintable(error));
        QCOMPARE(first->eventCount(), 5); // a snapshot never changes
        QCOMPARE(second->eventCount(), 12);
        QCOMPARE(readBack(*second, 11), testing::kafkaEvent(11));
        QCOMPARE(readBack(*first, 4), testing::kafkaEvent(4));
        QVERIFY(w.close());
        const auto third = second->refreshed(&error);
        QVERIFY(third->isComplete());
        QVERIFY(!second->isComplete());
        QCOMPARE(third->eventCount(), 12);
    }

    void appendRecordEqualsAppend()
    {
        // The connectors' copy-free path stores exactly what append(Event) stores.
        const QString a = m_dir.filePath(u"a.tape"_qs), b = m_dir.filePath(u"b.tape"_qs);
        TapeWriter wa, wb;
        QVERIFY(wa.create(a, meta()));
        QVERIFY(wb.create(b, meta()));
        for (int i = 0; i < 300; ++i) {
            Event e = testing::kafkaEvent(i);
            if (i == 7)
                e.key = std::nullopt;
            e.flags = i % 9 == 0 ? quint8(Transactional | Aborted) : quint8(NoFlags);
            QVERIFY(wa.append(e));
            QVector<HeaderView> headers;
            for (const Header &h : std::as_const(e.headers))
                headers.append({h.name, h.value ? std::optional<QByteArrayView>(*h.value) : std::nullopt});
            RecordView r;
            r.position = e.position;
            r.timestampUs = e.timestampUs;
            r.timestampType = e.timestampType;
            r.flags = e.flags;
            r.broker = e.broker;
            r.leaderEpoch = e.leaderEpoch;
            if (e.key)
                r.key = QByteArrayView(*e.key);
            if (e.value)
                r.value = QByteArrayView(*e.value);
            r.headers = headers.constData();
            r.headerCount = int(headers.size());
            QVERIFY(wb.appendRecord(wb.streamId({e.kind, e.cluster, e.topic, e.partition}), r));
        }
        QVERIFY(wa.close());
        QVERIFY(wb.close());
        QCOMPARE(readAll(b), readAll(a));
        QVERIFY(!wb.appendRecord(99, RecordView{}));
    }

    void killDuringWriting()
    {
        // The writer flushes every 777 events; kill -9 it at a random moment and
        // the tape must hold at least every event it reported flushed, each intact.
        const QString path = m_dir.filePath(u"killed.tape"_qs);
        QProcess victim;
        victim.start(QStringLiteral(VICTIM_EXECUTABLE), {path, u"777"_qs});
        QVERIFY(victim.waitForStarted());
        const int flushesBeforeKill = 3 + QRandomGenerator::global()->bounded(20);
        qint64 flushed = 0;
        int flushes = 0;
        while (flushes < flushesBeforeKill) {
            QVERIFY(victim.waitForReadyRead(10000));
            while (victim.canReadLine()) {
                const QByteArray line = victim.readLine().trimmed();
                QVERIFY(line.startsWith("flushed "));
                flushed = line.mid(8).toLongLong();
                ++flushes;
            }
        }
        ::kill(pid_t(victim.processId()), SIGKILL);
        QVERIFY(victim.waitForFinished(5000));
        QCOMPARE(victim.exitStatus(), QProcess::CrashExit);

        QString error;
        const auto tape = Tape::open(path, &error);
        QVERIFY2(tape, qPrintable(error));
        QVERIFY(!tape->isComplete());
        QVERIFY2(tape->eventCount() >= flushed, qPrintable(u"%1 < %2"_qs.arg(tape->eventCount()).arg(flushed)));
        // Every event that is there reads back exactly, all chunks verify.
        for (int c = 0; c < tape->chunkCount(); ++c) {
            const auto chunk = tape->chunk(c, &error);
            QVERIFY2(chunk, qPrintable(error));
        }
        for (qint64 seq : {qint64(0), flushed / 2, flushed - 1, tape->eventCount() - 1})
            QCOMPARE(readBack(*tape, seq), testing::kafkaEvent(seq));
    }

    void truncatedTapesKeepCompleteChunks_data()
    {
        QTest::addColumn<int>("cut"); // bytes removed from the end
        QTest::addColumn<qint64>("events");
        QTest::addColumn<bool>("warning");
        QTest::newRow("end marker torn") << 5 << qint64(300) << true;
        QTest::newRow("last chunk torn") << 60 << qint64(200) << true;
    }
    void truncatedTapesKeepCompleteChunks()
    {
        QFETCH(int, cut);
        QFETCH(qint64, events);
        QFETCH(bool, warning);
        const QString path = m_dir.filePath(u"cut.tape"_qs);
        writeEvents(path, 300, 100);
        const QByteArray full = readAll(path);
        // Cut inside the End block (~50 bytes) or inside the last chunk.
        writeAll(path, full.left(full.size() - cut));
        QString error;
        const auto tape = Tape::open(path, &error);
        QVERIFY2(tape, qPrintable(error));
        QCOMPARE(tape->eventCount(), events);
        QCOMPARE(!tape->warnings().isEmpty(), warning);
        QVERIFY(tape->warnings().constFirst().contains(u"are an incomplete block and were ignored; the recording was probably interrupted"_qs));
        QVERIFY(!tape->isComplete());
        QCOMPARE(readBack(*tape, events - 1), testing::kafkaEvent(events - 1));
    }

    void badFilesGiveClearErrors_data()
    {
        QTest::addColumn<QByteArray>("bytes");
        QTest::addColumn<QString>("message");
        QTest::newRow("empty") << QByteArray() << u"is empty, not a tape file"_qs;
        QTest::newRow("text") << QByteArray("{\"topic\":\"x\"}\n") << u"is not a tape file (it does not start with the TAPEDECK signature)"_qs;
        QTest::newRow("short header") << QByteArray("TAPEDECK\x01") << u"is truncated: the file header is incomplete (9 of 16 bytes)"_qs;
        QByteArray header(16, 0);
        std::memcpy(header.data(), "TAPEDECK", 8);
        header[8] = 1;
        QTest::newRow("header checksum") << header << u"is corrupt: the file header fails its checksum"_qs;
        format::putU32(header.data() + 12, format::crc32c(header.constData(), 12));
        QTest::newRow("header only") << header << u"is truncated: it has no metadata block"_qs;
        QTest::newRow("torn metadata") << header + QByteArray("BLK1\x01", 5) << u"is truncated: it ends before its metadata block is complete"_qs;
    }
    void badFilesGiveClearErrors()
    {
        QFETCH(QByteArray, bytes);
        QFETCH(QString, message);
        const QString path = m_dir.filePath(u"bad.tape"_qs);
        writeAll(path, bytes);
        QString error;
        QVERIFY(!Tape::open(path, &error));
        QCOMPARE(error, path + u": "_qs + message);
    }

    void missingFile()
    {
        QString error;
        QVERIFY(!Tape::open(m_dir.filePath(u"nope.tape"_qs), &error));
        QCOMPARE(error, m_dir.filePath(u"nope.tape"_qs) + u": No such file or directory"_qs);
    }

    void futureVersionIsRefused()
    {
        const QString path = m_dir.filePath(u"future.tape"_qs);
        writeEvents(path, 10);
        QByteArray bytes = readAll(path);
        format::putU16(bytes.data() + 8, 2);
        format::putU32(bytes.data() + 12, format::crc32c(bytes.constData(), 12));
        writeAll(path, bytes);
        QString error;
        QVERIFY(!Tape::open(path, &error));
        QCOMPARE(error, path + u": was written by a newer Tapedeck (tape format version 2; this build reads versions up to 1). Update Tapedeck to open it."_qs);
    }

    void corruptPayloadIsFoundWhenRead()
    {
        const QString path = m_dir.filePath(u"flip.tape"_qs);
        writeEvents(path, 300, 100);
        QString error;
        qint64 offset;
        {
            const auto tape = Tape::open(path, &error);
            QVERIFY(tape);
            offset = tape->chunkInfo(1).payloadOffset + 10;
        }
        QByteArray bytes = readAll(path);
        bytes[offset] = char(bytes[offset] ^ 0x40);
        writeAll(path, bytes);
        const auto tape = Tape::open(path, &error);
        QVERIFY2(tape, qPrintable(error)); // headers are intact
        QCOMPARE(readBack(*tape, 0), testing::kafkaEvent(0));
        Event e;
        QVERIFY(!tape->event(150, &e, &error));
        QCOMPARE(error, path + u": is corrupt: chunk 1 (events 100 to 199, at byte %1): checksum mismatch"_qs
                                   .arg(tape->chunkInfo(1).fileOffset));
    }

    void corruptHeaderInTheMiddleIsAnError()
    {
        const QString path = m_dir.filePath(u"mid.tape"_qs);
        writeEvents(path, 300, 100);
        QString error;
        qint64 offset;
        {
            const auto tape = Tape::open(path, &error);
            offset = tape->chunkInfo(1).fileOffset + 13; // inside the stored size
        }
        QByteArray bytes = readAll(path);
        bytes[offset] = char(bytes[offset] ^ 0x01);
        writeAll(path, bytes);
        QVERIFY(!Tape::open(path, &error));
        QCOMPARE(error, path + u": is corrupt: damaged block at byte %1 (block header fails its checksum), with more blocks after it"_qs
                                   .arg(offset - 13));
    }

    // A chunk summary is read before its payload; a count the payload
    // cannot hold is corruption at open (a 422-byte tape claimed 2^31-1
    // events and crashed the GUI's header view).
    void summaryCountBeyondThePayload()
    {
        const QString path = m_dir.filePath(u"count.tape"_s);
        writeEvents(path, 10, 100);
        const qint64 offset = chunkOffset(path, 0);
        QVERIFY(offset > 0);
        QString error;
        const QByteArray bytes = readAll(path);
        const char *h = bytes.constData() + offset;
        const QByteArray summary(h + format::BlockHeaderSize, format::getU32(h + 8));
        varint::Reader r(summary.constData(), summary.constData() + summary.size());
        r.get();
        r.get();
        QByteArray crafted;
        varint::put(crafted, 0);
        varint::put(crafted, 2147483647);
        crafted += summary.mid(r.pos() - summary.constData());
        const QByteArray payload(h + format::BlockHeaderSize + summary.size(), format::getU32(h + 12));
        writeAll(path, withBlock(bytes, offset, crafted, payload, quint8(h[5]), format::getU32(h + 16)));
        QVERIFY(!Tape::open(path, &error));
        QCOMPARE(error, path + u": is corrupt: chunk at byte %1 claims 2147483647 events in %2 bytes"_s
                                   .arg(offset).arg(format::getU32(h + 16)));
    }

    // A few kilobytes of zstd that claim 64 MiB: refused before anything is
    // decompressed (a 1.3 MB tape of such chunks took `tape verify` to 3 GB).
    void decompressionBombIsRefused()
    {
        const QString path = m_dir.filePath(u"bomb.tape"_s);
        writeEvents(path, 300, 100);
        const qint64 offset = chunkOffset(path, 1);
        QVERIFY(offset > 0);
        QString error;
        const QByteArray zeros(64 << 20, '\0');
        QByteArray bomb(qsizetype(ZSTD_compressBound(size_t(zeros.size()))), Qt::Uninitialized);
        bomb.resize(qsizetype(ZSTD_compress(bomb.data(), size_t(bomb.size()), zeros.constData(), size_t(zeros.size()), 3)));
        QVERIFY(bomb.size() * qint64(format::MaxCompressionRatio) < zeros.size());
        const QByteArray bytes = readAll(path);
        const char *h = bytes.constData() + offset;
        const QByteArray summary(h + format::BlockHeaderSize, format::getU32(h + 8));
        writeAll(path, withBlock(bytes, offset, summary, bomb, format::Zstd, quint32(zeros.size())));
        QVERIFY(!Tape::open(path, &error));
        QCOMPARE(error, path + u": is corrupt: damaged block at byte %1 (block claims 67108864 bytes from %2 compressed "
                               "(more than 1024 times)), with more blocks after it"_s.arg(offset).arg(bomb.size()));
    }

    // What compresses better than a reader accepts is stored as it is, so
    // every tape the writer makes opens.
    void writerStoresBombLikeChunksUncompressed()
    {
        const QString path = m_dir.filePath(u"zeros.tape"_s);
        TapeWriter w;
        QVERIFY2(w.create(path, meta(), {}), qPrintable(w.errorString()));
        Event e = testing::kafkaEvent(0);
        e.value = QByteArray(4 << 20, '\0');
        QVERIFY(w.append(e));
        QVERIFY(w.append(testing::kafkaEvent(1)));
        QVERIFY2(w.close(), qPrintable(w.errorString()));
        QString error;
        const auto tape = Tape::open(path, &error);
        QVERIFY2(tape, qPrintable(error));
        QCOMPARE(tape->chunkInfo(0).codec, quint8(format::Stored));
        QCOMPARE(readBack(*tape, 0), e);
        QCOMPARE(readBack(*tape, 1), testing::kafkaEvent(1));
    }

    void garbageNeverCrashes()
    {
        // Random damage anywhere: open and read everything; only errors, no crash.
        const QString path = m_dir.filePath(u"fuzz.tape"_qs);
        writeEvents(path, 500, 50);
        const QByteArray good = readAll(path);
        auto *rng = QRandomGenerator::global();
        int opened = 0, failed = 0;
        for (int round = 0; round < 300; ++round) {
            QByteArray bytes = good;
            const int flips = 1 + int(rng->bounded(8));
            for (int f = 0; f < flips; ++f)
                bytes[rng->bounded(int(bytes.size()))] = char(rng->bounded(256));
            if (round % 3 == 0)
                bytes.truncate(rng->bounded(int(bytes.size())));
            writeAll(path, bytes);
            QString error;
            const auto tape = Tape::open(path, &error);
            if (!tape) {
                QVERIFY(error.startsWith(path + u": "_qs));
                ++failed;
                continue;
            }
            ++opened;
            Event e;
            for (qint64 s = 0; s < tape->eventCount(); s += 7)
                tape->event(s, &e, &error);
        }
        QCOMPARE(opened + failed, 300);
    }

private:
    QTemporaryDir m_dir;
};

QTEST_GUILESS_MAIN(TestTape)
#include "tst_tape.moc"
