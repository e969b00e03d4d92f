#include "settings.h"

#include <QFileInfo>

using namespace Qt::StringLiterals;

namespace tapedeck {

namespace {
const QString s_recentFiles = u"recentFiles"_s;
const QString s_demoShown = u"demoShown"_s;
const QString s_geometry = u"mainWindow/geometry"_s;
const QString s_state = u"mainWindow/state"_s;
const QString s_splitter = u"mainWindow/splitter"_s;
const QString s_utcTime = u"view/utcTime"_s;
} // namespace

Settings::Settings(QObject *parent)
    : QObject(parent)
{
}

QStringList Settings::recentFiles() const
{
    return m_settings.value(s_recentFiles).toStringList();
}

void Settings::setRecentFiles(QStringList files)
{
    while (files.size() > MaxRecentFiles)
        files.removeLast();
    if (files == recentFiles())
        return;
    m_settings.setValue(s_recentFiles, files);
    Q_EMIT recentFilesChanged(files);
}

void Settings::addRecentFile(const QString &path)
{
    const QString absolute = QFileInfo(path).absoluteFilePath();
    QStringList files = recentFiles();
    files.removeAll(absolute);
    files.prepend(absolute);
    setRecentFiles(files);
}

void Settings::removeRecentFile(const QString &path)
{
    QStringList files = recentFiles();
    files.removeAll(QFileInfo(path).absoluteFilePath());
    files.removeAll(path);
    setRecentFiles(files);
}

void Settings::clearRecentFiles()
{
    setRecentFiles({});
}

bool Settings::demoShown() const
{
    return m_settings.value(s_demoShown, false).toBool();
}

void Settings::setDemoShown(bool shown)
{
    m_settings.setValue(s_demoShown, shown);
}

QByteArray Settings::windowGeometry() const
{
    return m_settings.value(s_geometry).toByteArray();
}

void Settings::setWindowGeometry(const QByteArray &geometry)
{
    m_settings.setValue(s_geometry, geometry);
}

QByteArray Settings::windowState() const
{
    return m_settings.value(s_state).toByteArray();
}

void Settings::setWindowState(const QByteArray &state)
{
    m_settings.setValue(s_state, state);
}

QByteArray Settings::splitterState() const
{
    return m_settings.value(s_splitter).toByteArray();
}

void Settings::setSplitterState(const QByteArray &state)
{
    m_settings.setValue(s_splitter, state);
}

bool Settings::utcTime() const
{
    return m_settings.value(s_utcTime, false).toBool();
}

void Settings::setUtcTime(bool utc)
{
    if (utc == utcTime())
        return;
    m_settings.setValue(s_utcTime, utc);
    Q_EMIT utcTimeChanged(utc);
}

} // namespace tapedeck
