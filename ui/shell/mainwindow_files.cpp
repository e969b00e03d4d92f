// MainWindow's file handling: open, the demo, close, save as, drag and drop.

#include "ui/shell/mainwindow.h"

#include "ui/browser/eventtablemodel.h"
#include "ui/common/settings.h"
#include "ui/common/tapedocument.h"
#include "core/tape/tape.h"

#include <QDir>
#include <QDropEvent>
#include <QFile>
#include <QFileDialog>
#include <QFileInfo>
#include <QMessageBox>
#include <QMimeData>
#include <QStandardPaths>
#include <QTableView>

using namespace Qt::StringLiterals;

namespace tapedeck {

namespace {

QStringList tapeFilesIn(const QMimeData *mime)
{
    QStringList files;
    if (!mime || !mime->hasUrls())
        return files;
    const QList<QUrl> urls = mime->urls();
    for (const QUrl &url : urls) {
        if (url.isLocalFile() && url.toLocalFile().endsWith(u".tape"_s, Qt::CaseInsensitive))
            files << url.toLocalFile();
    }
    return files;
}

} // namespace

bool MainWindow::openFile(const QString &path)
{
    QString error;
    std::shared_ptr<Tape> tape = Tape::open(path, &error);
    if (!tape) {
        showError(u"Cannot open tape"_s, error.isEmpty() ? u"%1: cannot open"_s.arg(path) : error);
        if (!QFileInfo::exists(path))
            m_settings->removeRecentFile(path);
        return false;
    }
    m_document->setTape(std::move(tape));
    m_settings->addRecentFile(path);
    if (m_model->rowCount() > 0)
        m_table->selectRow(0);
    return true;
}

QString MainWindow::demoResourcePath()
{
    return TapeDocument::demoResourcePath();
}

QString MainWindow::demoOrdersResourcePath()
{
    return TapeDocument::demoOrdersResourcePath();
}

bool MainWindow::openDemo()
{
    if (!QFile::exists(demoResourcePath())) {
        showError(u"No demo tape"_s, u"This build of Tapedeck has no demo tape."_s);
        return false;
    }
    const QString dir = QStandardPaths::writableLocation(QStandardPaths::CacheLocation);
    QDir().mkpath(dir);
    const QString target = dir + u"/demo.tape"_s;
    // Resource files are read-only; a fresh copy each time keeps the demo pristine.
    if (QFile::exists(target)) {
        QFile::setPermissions(target, QFile::ReadOwner | QFile::WriteOwner);
        QFile::remove(target);
    }
    if (!QFile::copy(demoResourcePath(), target)) {
        showError(u"No demo tape"_s, u"Cannot copy the demo tape to %1."_s.arg(target));
        return false;
    }
    QFile::setPermissions(target, QFile::ReadOwner | QFile::WriteOwner | QFile::ReadGroup | QFile::ReadOther);
    // The dual-write story's SQLite orders: a writable copy, since the repair writes to it.
    m_demoOrdersPath.clear();
    if (QFile::exists(demoOrdersResourcePath())) {
        const QString orders = dir + u"/demo-orders.sqlite"_s;
        QFile::remove(orders);
        if (QFile::copy(demoOrdersResourcePath(), orders)) {
            QFile::setPermissions(orders, QFile::ReadOwner | QFile::WriteOwner | QFile::ReadGroup | QFile::ReadOther);
            m_demoOrdersPath = orders;
        }
    }
    m_settings->setDemoShown(true);
    return openFile(target);
}

void MainWindow::closeFile()
{
    m_document->close();
}

void MainWindow::showLiveTape(std::shared_ptr<const Tape> tape)
{
    m_document->showLiveTape(std::move(tape));
}

void MainWindow::saveAs()
{
    if (!tape())
        return;
    const QString target = QFileDialog::getSaveFileName(this, u"Save tape as"_s,
                                                        QFileInfo(tape()->path()).absoluteFilePath(),
                                                        u"Tapes (*.tape)"_s);
    if (target.isEmpty() || QFileInfo(target) == QFileInfo(tape()->path()))
        return;
    // The dialog already asked about overwriting.
    if (QFile::exists(target) && !QFile::remove(target)) {
        showError(u"Cannot save tape"_s, u"%1: cannot replace the existing file"_s.arg(target));
        return;
    }
    if (!QFile::copy(tape()->path(), target)) {
        showError(u"Cannot save tape"_s, u"%1: cannot copy the tape there"_s.arg(target));
        return;
    }
    m_settings->addRecentFile(target);
}

void MainWindow::dragEnterEvent(QDragEnterEvent *event)
{
    if (!tapeFilesIn(event->mimeData()).isEmpty())
        event->acceptProposedAction();
}

void MainWindow::dropEvent(QDropEvent *event)
{
    const QStringList files = tapeFilesIn(event->mimeData());
    if (files.isEmpty())
        return;
    event->acceptProposedAction();
    // Opened after the drop returns, so a message box never runs inside the drag.
    const QString path = files.constFirst();
    QMetaObject::invokeMethod(this, [this, path] { openFile(path); }, Qt::QueuedConnection);
}

} // namespace tapedeck
