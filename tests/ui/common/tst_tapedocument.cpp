#include "ui/common/tapedocument.h"
#include "core/tape/tape.h"
#include "tests/common/testtapes.h"

#include <QSignalSpy>
#include <QTemporaryDir>
#include <QTest>

using namespace tapedeck;
using namespace Qt::StringLiterals;

class TestTapeDocument : public QObject
{
    Q_OBJECT

private:
    QTemporaryDir m_dir;
    QString m_tapePath;

    std::shared_ptr<const Tape> open()
    {
        QString error;
        return Tape::open(m_tapePath, &error);
    }

private Q_SLOTS:
    void initTestCase()
    {
        QVERIFY(m_dir.isValid());
        m_tapePath = m_dir.filePath(u"sample.tape"_s);
        QString error;
        QVERIFY2(testtapes::writeSampleTape(m_tapePath, &error), qPrintable(error));
    }

    // A new tape drops the rows of the old one's filter and selection.
    void setTapeResetsRows()
    {
        TapeDocument document;
        QSignalSpy changed(&document, &TapeDocument::tapeChanged);
        QSignalSpy visible(&document, &TapeDocument::visibleRowsChanged);
        document.setTape(open());
        QCOMPARE(changed.size(), 1);
        QVERIFY(!document.hasVisibleRows());
        document.setFilterRows({1, 2, 5});
        QCOMPARE(visible.size(), 1);
        QVERIFY(document.hasVisibleRows());
        QCOMPARE(document.visibleRows(), (QVector<quint32>{1, 2, 5}));
        document.setTape(open());
        QVERIFY(!document.hasVisibleRows());
        QVERIFY(!document.isFilterActive());
        document.close();
        QCOMPARE(changed.size(), 3);
        QVERIFY(!document.tape());
    }

    // The brushed selection is looked up in the background, then intersected with the filter.
    void selectionIntersectsFilter()
    {
        TapeDocument document;
        document.setTape(open());
        document.setFilterRows({1, 2, 5});
        QSignalSpy selected(&document, &TapeDocument::selectionChanged);
        EventSelection selection;
        selection.axis = AxisKind::Position;
        selection.range = AxisRange{2, 6};
        document.setSelection(selection);
        QVERIFY(document.isSelectionPending());
        QVERIFY(selected.wait(5000));
        QTRY_VERIFY(!document.isSelectionPending());
        QVERIFY(document.isSelectionKnown());
        QCOMPARE(document.selectionRows(), (QVector<quint32>{2, 3, 4, 5}));
        QCOMPARE(document.visibleRows(), (QVector<quint32>{2, 5}));
        document.setSelection({});
        QVERIFY(selected.wait(5000));
        QVERIFY(!document.isSelectionActive());
        QCOMPARE(document.visibleRows(), (QVector<quint32>{1, 2, 5}));
    }

    // A snapshot of the shown tape grows it; another path is shown like a new tape.
    void liveTape()
    {
        TapeDocument document;
        QSignalSpy changed(&document, &TapeDocument::tapeChanged);
        QSignalSpy grew(&document, &TapeDocument::tapeGrew);
        QSignalSpy completed(&document, &TapeDocument::tapeCompleted);
        document.showLiveTape(open());
        QVERIFY(document.isLive());
        QCOMPARE(changed.size(), 2); // the old tape closed, then the recording shown
        document.showLiveTape(open());
        QCOMPARE(changed.size(), 2);
        QCOMPARE(grew.size(), 1);
        QCOMPARE(completed.size(), 1); // the sample tape is complete
        document.setTape(open());
        QVERIFY(!document.isLive());
    }

    void recordingSource()
    {
        TapeDocument document;
        QSignalSpy recording(&document, &TapeDocument::recordingChanged);
        document.setRecordingSource(u"Kafka"_s);
        QVERIFY(document.isRecording());
        QCOMPARE(document.recordingSource(), u"Kafka"_s);
        document.setRecordingSource(u"Kafka"_s);
        document.setRecordingSource({});
        QCOMPARE(recording.size(), 2);
        QCOMPARE(recording.at(1).at(0).toBool(), false);
    }
};

QTEST_MAIN(TestTapeDocument)
#include "tst_tapedocument.moc"
