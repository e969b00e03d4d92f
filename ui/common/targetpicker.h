#pragma once

#include "core/replay/replaytarget.h"

#include <QStackedWidget>

class QComboBox;
class QLineEdit;

namespace tapedeck {

class Settings;

// Where a replay writes or a comparison reads: an SQLite file or a PostgreSQL
// connection (a saved profile or a typed connection string, with a password
// typed here and never stored). The picker is the stack of pages; its kind
// box is made beside it (same parent) so that a form can give the box its own
// labelled row. More pages (the replay's Kafka topic) can be added. The stack
// is as tall as its current page, not its tallest one. Thread: GUI thread.
class TargetPicker : public QStackedWidget
{
    Q_OBJECT
public:
    // Write: a file to write (created if missing; a save dialog that does not
    // ask about overwriting). Read: an existing file (an open dialog).
    enum class Purpose { Read, Write };

    TargetPicker(Purpose purpose, Settings *settings, QWidget *parent);

    void addTarget(const QString &text, ReplayTarget::Kind kind, QWidget *page);
    ReplayTarget::Kind kind() const;

    QComboBox *kindBox() const { return m_kind; }
    QLineEdit *sqlitePathEdit() const { return m_sqlitePath; }
    QComboBox *pgProfileBox() const { return m_pgProfile; }
    QLineEdit *pgDsnEdit() const { return m_pgDsn; }
    QLineEdit *pgPasswordEdit() const { return m_pgPassword; }

    // The typed connection with the typed password in *dsn; false with
    // *problem ("Connection: …") when it is malformed, or `ifEmpty` when
    // nothing is typed.
    bool pgConnection(QString *dsn, QString *problem, const QString &ifEmpty) const;

Q_SIGNALS:
    // The kind, the SQLite path or the connection changed (validate again).
    void changed();

private:
    void showTarget(int index);
    void loadPgProfile();

    Settings *m_settings = nullptr;
    QComboBox *m_kind = nullptr;
    QLineEdit *m_sqlitePath = nullptr;
    QComboBox *m_pgProfile = nullptr;
    QLineEdit *m_pgDsn = nullptr;
    QLineEdit *m_pgPassword = nullptr;
};

} // namespace tapedeck
