// Event table benchmark: is scrolling through a big tape fluid? Writes an
// N-event tape (default 10 M), shows it in a QTableView over EventTableModel
// (offscreen) and measures, for 200 jumps to random rows, the time to build
// the visible rows' text and paint the view, against painting the same view
// over a model that returns constant strings (the reference: Qt's own cost).
//   bench_table [N]
#include "ui/browser/eventtablemodel.h"
#include "core/tape/tape.h"
#include "core/tape/tapewriter.h"
#include "tests/common/testevents.h"

#include <QApplication>
#include <QElapsedTimer>
#include <QHeaderView>
#include <QRandomGenerator>
#include <QStandardItemModel>
#include <QTableView>
#include <QTemporaryDir>

#include <algorithm>
#include <cstdio>

using namespace tapedeck;

namespace {

// Same shape as the real model, constant text: what Qt alone costs.
class ConstantModel : public QAbstractTableModel
{
public:
    explicit ConstantModel(int rows) : m_rows(rows) {}
    int rowCount(const QModelIndex &) const override { return m_rows; }
    int columnCount(const QModelIndex &) const override { return EventTableModel::ColumnCount; }
    QVariant data(const QModelIndex &index, int role) const override
    {
        if (role != Qt::DisplayRole)
            return {};
        static const QString texts[] = {QStringLiteral("2026-01-01 10:00:00.000"), QStringLiteral("payments"),
                                        QStringLiteral("3"), QStringLiteral("1234567"), QStringLiteral("order-123"),
                                        QStringLiteral("{\"id\":1234567,\"status\":\"paid\",\"amount\":12.5}"),
                                        QStringLiteral("72"), QStringLiteral("trace-id=t-1")};
        return texts[index.column()];
    }

private:
    int m_rows;
};

struct Stats
{
    double p50, p99, max;
};

Stats measure(QTableView &view, int rows)
{
    QVector<double> ms;
    auto *rng = QRandomGenerator::global();
    for (int i = 0; i < 200; ++i) {
        const int row = int(rng->bounded(rows));
        QElapsedTimer t;
        t.start();
        view.scrollTo(view.model()->index(row, 0), QAbstractItemView::PositionAtTop);
        const QPixmap frame = view.viewport()->grab(); // lays out and paints the visible rows
        ms.append(double(t.nsecsElapsed()) / 1e6);
        Q_UNUSED(frame);
    }
    std::sort(ms.begin(), ms.end());
    return {ms[ms.size() / 2], ms[ms.size() * 99 / 100], ms.last()};
}

} // namespace

int main(int argc, char **argv)
{
    QApplication app(argc, argv);
    const qint64 n = argc > 1 ? QByteArray(argv[1]).toLongLong() : 10'000'000;
    QTemporaryDir dir;
    const QString path = dir.filePath(QStringLiteral("table.tape"));
    {
        TapeWriter writer;
        writer.create(path, TapeMetadata{});
        for (qint64 i = 0; i < n; ++i)
            writer.append(testing::kafkaEvent(i));
        if (!writer.close()) {
            std::fprintf(stderr, "%s\n", qPrintable(writer.errorString()));
            return 1;
        }
    }
    QString error;
    const auto tape = Tape::open(path, &error);
    if (!tape) {
        std::fprintf(stderr, "%s\n", qPrintable(error));
        return 1;
    }
    QElapsedTimer t;
    t.start();
    EventTableModel model;
    model.setTape(tape);
    QTableView view;
    view.resize(1400, 900);
    view.verticalHeader()->setDefaultSectionSize(20);
    view.verticalHeader()->setSectionResizeMode(QHeaderView::Fixed);
    view.setWordWrap(false);
    view.setModel(&model);
    view.show();
    const QPixmap first = view.viewport()->grab();
    const double firstMs = double(t.nsecsElapsed()) / 1e6;
    Q_UNUSED(first);
    const Stats real = measure(view, int(n));

    ConstantModel constant{int(n)};
    QTableView reference;
    reference.resize(1400, 900);
    reference.verticalHeader()->setDefaultSectionSize(20);
    reference.verticalHeader()->setSectionResizeMode(QHeaderView::Fixed);
    reference.setWordWrap(false);
    reference.setModel(&constant);
    reference.show();
    const Stats ref = measure(reference, int(n));

    std::printf("bench_table: %lld events, 1400x900 view (~%d rows visible), 200 jumps to random rows\n",
                static_cast<long long>(n), view.viewport()->height() / 20);
    std::printf("first screen:        %.1f ms (model + view + first paint)\n", firstMs);
    std::printf("tape model:          p50 %.1f ms, p99 %.1f ms, max %.1f ms per jump+paint\n", real.p50, real.p99, real.max);
    std::printf("constant reference:  p50 %.1f ms, p99 %.1f ms, max %.1f ms per jump+paint\n", ref.p50, ref.p99, ref.max);
    std::printf("ratio p50 tape/reference: %.2fx (goal: a jump stays under 16 ms)\n", real.p50 / ref.p50);
    return 0;
}
