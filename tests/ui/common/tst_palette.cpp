#include "tests/common/shots.h"
#include "ui/browser/eventtablemodel.h"
#include "ui/common/palette.h"
#include "ui/common/roledelegate.h"
#include "ui/common/settings.h"
#include "ui/compaction/compactionpanel.h"
#include "ui/shell/mainwindow.h"
#include "ui/state/stateview.h"
#include "core/demo/demotape.h"
#include "core/event/event.h"

#include <QAction>
#include <QApplication>
#include <QSignalSpy>
#include <QStandardPaths>
#include <QLabel>
#include <QMetaEnum>
#include <QTableView>
#include <QTemporaryDir>
#include <QTest>

#include <cmath>

using namespace Qt::StringLiterals;
using namespace tapedeck;

class TestPalette : public QObject
{
    Q_OBJECT
private:
    QTemporaryDir m_dir;

    // WCAG 2 relative luminance and contrast ratio.
    static double luminance(const QColor &c)
    {
        auto lin = [](double v) { return v <= 0.03928 ? v / 12.92 : std::pow((v + 0.055) / 1.055, 2.4); };
        return 0.2126 * lin(c.redF()) + 0.7152 * lin(c.greenF()) + 0.0722 * lin(c.blueF());
    }
    static double contrast(const QColor &a, const QColor &b)
    {
        const double la = luminance(a), lb = luminance(b);
        return (std::max(la, lb) + 0.05) / (std::min(la, lb) + 0.05);
    }
    QString m_demo;

    // The main window on the demo tape with the timeline, compaction and
    // state docks and an update in the detail pane, grabbed to `name`.
    void shootMainWindow(const QString &name)
    {
        MainWindow window;
        window.setErrorDialogsEnabled(false);
        window.resize(1600, 1400);
        window.show();
        QVERIFY(QTest::qWaitForWindowExposed(&window));
        QVERIFY(window.openFile(m_demo));
        window.showCompactionPreview();
        window.showStateView();
        QTRY_VERIFY_WITH_TIMEOUT(!window.compactionPanel()->isBusy(), 10000);
        // The last update, so that the detail pane shows a changed cell.
        EventTableModel *model = window.model();
        int update = -1;
        for (int r = 0; r < model->rowCount(); ++r) {
            if (model->index(r, 0).data(EventTableModel::OperationRole).toInt() == int(Operation::Update))
                update = r;
        }
        QVERIFY(update >= 0);
        window.tableView()->selectRow(update);
        QTRY_VERIFY_WITH_TIMEOUT(!window.stateView()->isBusy(), 10000);
        QTest::qWait(500);
        QVERIFY(window.grab().save(testing::shotPath(name)));
    }

private Q_SLOTS:
    void initTestCase()
    {
        QVERIFY(m_dir.isValid());
        qputenv("XDG_CONFIG_HOME", QFile::encodeName(m_dir.filePath(u"config"_s)));
        QStandardPaths::setTestModeEnabled(true);
        m_demo = m_dir.filePath(u"demo.tape"_s);
        QString error;
        QVERIFY2(writeDemoTape(m_demo, &error), qPrintable(error));
    }

    // Text stands out from what it is drawn on in both sets (3:1, WCAG's
    // large-text level; the light set is what the GUI always drew), marks
    // at 2:1; fills are lighter than text in light and darker in dark.
    void readableInBothSets()
    {
        const int count = int(Palette::Role::Count);
        QCOMPARE(count, QMetaEnum::fromType<Palette::Role>().keyCount() - 1);
        QStringList problems;
        for (int i = 0; i < count; ++i) {
            const auto role = Palette::Role(i);
            for (bool dark : {false, true}) {
                const QColor c = Palette::color(role, dark);
                QVERIFY(c.isValid());
                const QColor on = Palette::background(role, dark);
                const double ratio = contrast(c, on);
                const Palette::Kind kind = Palette::kind(role);
                const double needed = kind == Palette::Kind::Text ? 3.0 : kind == Palette::Kind::Mark ? 2.0 : 0.0;
                if (c.alpha() == 255 && ratio < needed)
                    problems << u"%1 (%2): %3 on %4 is %5:1"_s.arg(Palette::name(role), dark ? u"dark"_s : u"light"_s,
                                                                  c.name(), on.name())
                                    .arg(ratio, 0, 'f', 2);
                if (kind == Palette::Kind::Fill && c.alpha() == 255 && (luminance(c) < 0.3) != dark)
                    problems << u"%1 (%2): fill %3 has the wrong lightness"_s.arg(Palette::name(role), dark ? u"dark"_s : u"light"_s, c.name());
            }
        }
        QVERIFY2(problems.isEmpty(), qPrintable(problems.join(u'\n')));
        QCOMPARE(Palette::name(Palette::Role::Tombstone), u"Tombstone"_s);
    }

    // Switching the theme switches the set, tells listeners once, restyles
    // widgets' style sheets, and the delegates draw with the new colours.
    void themeSwitch()
    {
        QVERIFY(!Palette::isDark());
        QSignalSpy changed(Palette::instance(), &Palette::changed);
        QLabel label;
        Palette::setStyleSheet(&label, u"color: %1;"_s, {Palette::Role::Error});
        QCOMPARE(label.styleSheet(), u"color: #a01010;"_s);
        Palette::setTheme(Palette::Theme::Dark);
        QTRY_VERIFY(Palette::isDark());
        QVERIFY(changed.count() >= 1);
        QCOMPARE(label.styleSheet(), u"color: %1;"_s.arg(Palette::color(Palette::Role::Error, true).name()));
        QCOMPARE(Palette::color(Palette::Role::Tombstone), Palette::color(Palette::Role::Tombstone, true));
        Palette::setTheme(Palette::Theme::Light);
        QTRY_VERIFY(!Palette::isDark());
        QCOMPARE(label.styleSheet(), u"color: #a01010;"_s);
        QCOMPARE(Palette::parseTheme(u"dark"), std::optional(Palette::Theme::Dark));
        QCOMPARE(Palette::parseTheme(u"Dark"), std::nullopt);
    }

    // View -> Theme -> Dark is remembered in the settings.
    void themeMenu()
    {
        MainWindow window;
        window.setErrorDialogsEnabled(false);
        auto *dark = window.findChild<QAction *>(u"theme-dark"_s);
        QVERIFY(dark);
        dark->trigger();
        QTRY_VERIFY(Palette::isDark());
        QCOMPARE(window.settings()->theme(), u"dark"_s);
        window.findChild<QAction *>(u"theme-light"_s)->trigger();
        QTRY_VERIFY(!Palette::isDark());
        QCOMPARE(window.settings()->theme(), u"light"_s);
    }

    void mainWindowLight() { shootMainWindow(u"tapedeck-light.png"_s); }

    void mainWindowDark()
    {
        Palette::setTheme(Palette::Theme::Dark);
        QTRY_VERIFY(Palette::isDark());
        shootMainWindow(u"tapedeck-dark.png"_s);
        // The window really is dark: most of its pixels are.
        MainWindow window;
        window.resize(800, 600);
        window.show();
        QVERIFY(QTest::qWaitForWindowExposed(&window));
        const QImage image = window.grab().toImage();
        int darkPixels = 0, all = 0;
        for (int y = 0; y < image.height(); y += 7)
            for (int x = 0; x < image.width(); x += 7, ++all)
                darkPixels += QColor(image.pixel(x, y)).lightness() < 100;
        QVERIFY2(darkPixels * 2 > all, qPrintable(u"%1 of %2 sampled pixels are dark"_s.arg(darkPixels).arg(all)));
        Palette::setTheme(Palette::Theme::Light);
    }
};

QTEST_MAIN(TestPalette)
#include "tst_palette.moc"
