#pragma once

#include <QObject>
#include <QString>

#include <functional>

namespace tapedeck {

// The host side of a transform's `console` object: the only thing that the
// script can call outside the ECMAScript built-ins, and it just hands text
// to a callback. Reached only through a closure of the console functions
// (see Transform::compile()). Thread: the QJSEngine's thread.
class JsConsole : public QObject
{
    Q_OBJECT
public:
    explicit JsConsole(QObject *parent = nullptr) : QObject(parent) {}

    // seq: the event being transformed, -1 none
    std::function<void(int level, const QString &text, double seq)> sink;
    qint64 lines = 0;

    Q_INVOKABLE void write(int level, const QString &text, double seq)
    {
        ++lines;
        if (sink)
            sink(level, text, seq);
    }
};

} // namespace tapedeck
