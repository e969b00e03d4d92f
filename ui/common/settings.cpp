#include "ui/common/settings.h"

#include "core/postgres/pgtypes.h"

#include <QFileInfo>

#include <algorithm>

using namespace Qt::StringLiterals;

namespace tapedeck {

namespace {
const QString s_recentFiles = u"recentFiles"_s;
const QString s_demoShown = u"demoShown"_s;
const QString s_geometry = u"mainWindow/geometry"_s;
const QString s_state = u"mainWindow/state"_s;
const QString s_splitter = u"mainWindow/splitter"_s;
const QString s_utcTime = u"view/utcTime"_s;
const QString s_theme = u"view/theme"_s;
const QString s_kafkaProfiles = u"kafka/profiles"_s;
const QString s_kafkaLastProfile = u"kafka/lastProfile"_s;
const QString s_profileName = u"name"_s;
const QString s_profileBootstrap = u"bootstrap"_s;
const QString s_profileProperties = u"properties"_s;
const QString s_profileSecrets = u"secretNames"_s;

struct StoredProfile
{
    QString name;
    QString bootstrap;
    QStringList properties; // "name=value", never a secret
    QStringList secretNames;
};
} // namespace

namespace {

QList<StoredProfile> readProfiles(QSettings &settings)
{
    QList<StoredProfile> profiles;
    const int n = settings.beginReadArray(s_kafkaProfiles);
    for (int i = 0; i < n; ++i) {
        settings.setArrayIndex(i);
        profiles.append({settings.value(s_profileName).toString(), settings.value(s_profileBootstrap).toString(),
                         settings.value(s_profileProperties).toStringList(),
                         settings.value(s_profileSecrets).toStringList()});
    }
    settings.endArray();
    return profiles;
}

void writeProfiles(QSettings &settings, const QList<StoredProfile> &profiles)
{
    settings.remove(s_kafkaProfiles);
    settings.beginWriteArray(s_kafkaProfiles, int(profiles.size()));
    for (int i = 0; i < profiles.size(); ++i) {
        settings.setArrayIndex(i);
        settings.setValue(s_profileName, profiles[i].name);
        settings.setValue(s_profileBootstrap, profiles[i].bootstrap);
        settings.setValue(s_profileProperties, profiles[i].properties);
        settings.setValue(s_profileSecrets, profiles[i].secretNames);
    }
    settings.endArray();
}

QStringList namesOf(const QList<StoredProfile> &profiles)
{
    QStringList names;
    for (const StoredProfile &p : profiles)
        names.append(p.name);
    return names;
}

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

QString Settings::theme() const
{
    return m_settings.value(s_theme, u"auto"_s).toString();
}

void Settings::setTheme(const QString &theme)
{
    m_settings.setValue(s_theme, theme);
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

QStringList Settings::kafkaProfileNames() const
{
    return namesOf(readProfiles(m_settings));
}

std::optional<KafkaConnection> Settings::kafkaProfile(const QString &name, QStringList *secretNames) const
{
    const QList<StoredProfile> profiles = readProfiles(m_settings);
    for (const StoredProfile &p : profiles) {
        if (p.name != name)
            continue;
        KafkaConnection connection;
        connection.bootstrap = p.bootstrap;
        QString ignored;
        for (const QString &property : p.properties) {
            const qsizetype eq = property.indexOf(u'=');
            // Filtered again on the way out: a hand-edited settings file may hold a secret.
            if (eq > 0 && !KafkaConnection::isSecret(property.left(eq)))
                connection.addProperty(property, &ignored);
        }
        if (secretNames)
            *secretNames = p.secretNames;
        return connection;
    }
    return std::nullopt;
}

void Settings::setKafkaProfile(const QString &name, const KafkaConnection &connection)
{
    StoredProfile stored{name, connection.bootstrap, {}, {}};
    for (const auto &[property, value] : connection.properties) {
        if (KafkaConnection::isSecret(property)) {
            if (!stored.secretNames.contains(property))
                stored.secretNames.append(property);
        } else {
            stored.properties.append(property + u'=' + value);
        }
    }
    QList<StoredProfile> profiles = readProfiles(m_settings);
    auto it = std::find_if(profiles.begin(), profiles.end(), [&](const StoredProfile &p) { return p.name == name; });
    if (it != profiles.end())
        *it = stored;
    else
        profiles.append(stored);
    std::sort(profiles.begin(), profiles.end(),
              [](const StoredProfile &a, const StoredProfile &b) { return a.name.localeAwareCompare(b.name) < 0; });
    writeProfiles(m_settings, profiles);
    Q_EMIT kafkaProfilesChanged(namesOf(profiles));
}

void Settings::removeKafkaProfile(const QString &name)
{
    QList<StoredProfile> profiles = readProfiles(m_settings);
    const qsizetype removed = profiles.removeIf([&](const StoredProfile &p) { return p.name == name; });
    if (removed == 0)
        return;
    writeProfiles(m_settings, profiles);
    Q_EMIT kafkaProfilesChanged(namesOf(profiles));
}

QString Settings::lastKafkaProfile() const
{
    return m_settings.value(s_kafkaLastProfile).toString();
}

void Settings::setLastKafkaProfile(const QString &name)
{
    m_settings.setValue(s_kafkaLastProfile, name);
}

namespace {

const QString s_pgProfiles = u"postgres/profiles"_s;
const QString s_pgLastProfile = u"postgres/lastProfile"_s;

QList<std::pair<QString, QString>> readPgProfiles(QSettings &settings)
{
    QList<std::pair<QString, QString>> out;
    const int n = settings.beginReadArray(s_pgProfiles);
    for (int i = 0; i < n; ++i) {
        settings.setArrayIndex(i);
        // Cleaned on the way out too: a hand-edited settings file may hold a password.
        out.append({settings.value(u"name"_s).toString(), pgDsnWithoutPassword(settings.value(u"dsn"_s).toString())});
    }
    settings.endArray();
    return out;
}

QStringList writePgProfiles(QSettings &settings, const QList<std::pair<QString, QString>> &profiles)
{
    settings.remove(s_pgProfiles);
    settings.beginWriteArray(s_pgProfiles, int(profiles.size()));
    QStringList names;
    for (int i = 0; i < profiles.size(); ++i) {
        settings.setArrayIndex(i);
        settings.setValue(u"name"_s, profiles.at(i).first);
        settings.setValue(u"dsn"_s, pgDsnWithoutPassword(profiles.at(i).second));
        names.append(profiles.at(i).first);
    }
    settings.endArray();
    return names;
}

} // namespace

QStringList Settings::pgProfileNames() const
{
    QStringList names;
    for (const auto &[name, dsn] : readPgProfiles(m_settings))
        names.append(name);
    return names;
}

std::optional<QString> Settings::pgProfile(const QString &name) const
{
    for (const auto &[n, dsn] : readPgProfiles(m_settings)) {
        if (n == name)
            return dsn;
    }
    return std::nullopt;
}

void Settings::setPgProfile(const QString &name, const QString &dsn)
{
    QList<std::pair<QString, QString>> profiles = readPgProfiles(m_settings);
    const auto it = std::find_if(profiles.begin(), profiles.end(), [&](const auto &p) { return p.first == name; });
    if (it != profiles.end())
        it->second = dsn;
    else
        profiles.append({name, dsn});
    Q_EMIT pgProfilesChanged(writePgProfiles(m_settings, profiles));
}

void Settings::removePgProfile(const QString &name)
{
    QList<std::pair<QString, QString>> profiles = readPgProfiles(m_settings);
    if (profiles.removeIf([&](const auto &p) { return p.first == name; }) == 0)
        return;
    Q_EMIT pgProfilesChanged(writePgProfiles(m_settings, profiles));
}

QString Settings::lastPgProfile() const
{
    return m_settings.value(s_pgLastProfile).toString();
}

void Settings::setLastPgProfile(const QString &name)
{
    m_settings.setValue(s_pgLastProfile, name);
}

} // namespace tapedeck
