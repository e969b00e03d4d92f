#include "ui/shell/mainwindow.h"
#include "connectors/postgres/service/pgservice.h"
#include "connectors/kafka/rdkafkaservice.h"
#include "ui/common/palette.h"
#include "ui/common/settings.h"
#include "connectors/sinks/sinkfactory.h"

#include <QApplication>
#include <QCommandLineParser>
#include <QFileInfo>

#include <cstdio>
#include <memory>

using namespace Qt::StringLiterals;

namespace {

bool wantsTextOnly(int argc, char **argv)
{
    for (int i = 1; i < argc; ++i) {
        const QByteArrayView arg(argv[i]);
        if (arg == "-h" || arg == "--help" || arg == "-v" || arg == "--version" || arg == "--help-all")
            return true;
    }
    return false;
}

} // namespace

int main(int argc, char **argv)
{
    // --help and --version must work without a display.
    std::unique_ptr<QCoreApplication> app = wantsTextOnly(argc, argv) ? std::make_unique<QCoreApplication>(argc, argv)
                                                                      : std::make_unique<QApplication>(argc, argv);
    QCoreApplication::setOrganizationName(u"Tapedeck"_s);
    QCoreApplication::setApplicationName(u"tapedeck"_s);
    QCoreApplication::setApplicationVersion(QStringLiteral(TAPEDECK_VERSION));
    QCommandLineParser parser;
    parser.setApplicationDescription(u"Browse recorded Kafka records and Postgres change events (.tape files)."_s);
    parser.addHelpOption();
    parser.addVersionOption();
    parser.addPositionalArgument(u"file"_s, u"A .tape file to open."_s, u"[FILE.tape]"_s);
    const QCommandLineOption demo(u"demo"_s, u"Open the bundled demo tape."_s);
    parser.addOption(demo);
    const QCommandLineOption theme(u"theme"_s, u"Colours: auto (the system's), light or dark; remembered."_s, u"THEME"_s);
    parser.addOption(theme);
    parser.process(*app);
    if (parser.isSet(theme) && !tapedeck::Palette::parseTheme(parser.value(theme))) {
        std::fprintf(stderr, "tapedeck: --theme %s: expected auto, light or dark\n", qPrintable(parser.value(theme)));
        return 2;
    }

    QGuiApplication::setApplicationDisplayName(u"Tapedeck"_s);
    QGuiApplication::setDesktopFileName(u"tapedeck"_s);

    // Declared before the window: it outlives the window's Kafka workers.
    tapedeck::RdKafkaService kafka;
    tapedeck::LibpqPostgresService postgres;
    tapedeck::MainWindow window;
    if (parser.isSet(theme))
        window.settings()->setTheme(parser.value(theme));
    if (const auto chosen = tapedeck::Palette::parseTheme(window.settings()->theme()); chosen && *chosen != tapedeck::Palette::Theme::Auto)
        tapedeck::Palette::setTheme(*chosen);
    window.setKafkaService(&kafka);
    window.setPostgresService(&postgres);
    window.setSinkFactory(&tapedeck::createSink);
    window.setTableReaderFactory(&tapedeck::createTableReader);
    window.show();

    const QStringList files = parser.positionalArguments();
    if (parser.isSet(demo)) {
        window.openDemo();
    } else if (!files.isEmpty()) {
        window.openFile(files.constFirst());
    } else if (!window.settings()->demoShown() && QFileInfo::exists(tapedeck::MainWindow::demoResourcePath())) {
        // First run: something to look at instead of an empty window.
        window.openDemo();
    }
    return app->exec();
}
