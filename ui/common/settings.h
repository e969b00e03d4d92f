#pragma once

#include "core/kafka/kafkaconnection.h"

#include <QByteArray>
#include <QObject>
#include <QSettings>
#include <QStringList>

#include <optional>

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

    // "auto" (the system's), "light" or "dark": Palette::parseTheme.
    QString theme() const;
    void setTheme(const QString &theme);

    bool utcTime() const;
    void setUtcTime(bool utc);

    // Named Kafka connection profiles. Properties for which
    // KafkaConnection::isSecret() is true are never written: only their names
    // are kept, so that the connection dialog can ask for them each time.
    QStringList kafkaProfileNames() const;
    // The connection without its secret properties; nullopt if there is no such profile.
    std::optional<KafkaConnection> kafkaProfile(const QString &name, QStringList *secretNames = nullptr) const;
    void setKafkaProfile(const QString &name, const KafkaConnection &connection);
    void removeKafkaProfile(const QString &name);
    QString lastKafkaProfile() const;
    void setLastKafkaProfile(const QString &name);

    // Named PostgreSQL connection profiles: a libpq conninfo or URI, always
    // stored without its password (pgDsnWithoutPassword()).
    QStringList pgProfileNames() const;
    std::optional<QString> pgProfile(const QString &name) const;
    void setPgProfile(const QString &name, const QString &dsn);
    void removePgProfile(const QString &name);
    QString lastPgProfile() const;
    void setLastPgProfile(const QString &name);

Q_SIGNALS:
    void recentFilesChanged(const QStringList &files);
    void utcTimeChanged(bool utc);
    void kafkaProfilesChanged(const QStringList &names);
    void pgProfilesChanged(const QStringList &names);

private:
    void setRecentFiles(QStringList files);

    // Mutable: reading an array (beginReadArray) is not const in QSettings.
    mutable QSettings m_settings{QStringLiteral("Tapedeck"), QStringLiteral("tapedeck")};
};

} // namespace tapedeck
