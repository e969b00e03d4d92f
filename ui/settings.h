#pragma once

#include <QByteArray>
#include <QObject>
#include <QSettings>
#include <QStringList>

namespace tapedeck {

// The one place that knows the QSettings keys of the GUI (organisation
// "Tapedeck", application "tapedeck"). Thread: GUI thread only.
class Settings : public QObject
{
    Q_OBJECT
public:
    static constexpr int MaxRecentFiles = 10;

    explicit Settings(QObject *parent = nullptr);

    QStringList recentFiles() const;
    // Moves `path` to the front (absolute path), keeps at most MaxRecentFiles.
    void addRecentFile(const QString &path);
    void removeRecentFile(const QString &path);
    void clearRecentFiles();

    bool demoShown() const;
    void setDemoShown(bool shown);

    QByteArray windowGeometry() const;
    void setWindowGeometry(const QByteArray &geometry);
    QByteArray windowState() const;
    void setWindowState(const QByteArray &state);
    QByteArray splitterState() const;
    void setSplitterState(const QByteArray &state);

    bool utcTime() const;
    void setUtcTime(bool utc);

Q_SIGNALS:
    void recentFilesChanged(const QStringList &files);
    void utcTimeChanged(bool utc);

private:
    void setRecentFiles(QStringList files);

    QSettings m_settings{QStringLiteral("Tapedeck"), QStringLiteral("tapedeck")};
};

} // namespace tapedeck
