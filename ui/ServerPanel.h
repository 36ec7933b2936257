// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once

#include "host/ServerSnapshot.h"

#include <QElapsedTimer>
#include <QUrl>
#include <QWidget>

#include <functional>

class QHostAddress;
class QLabel;
class QPushButton;
class QTableWidget;

namespace oll::ui {

class ElidedLabel;
class QrCodeWidget;

/// The server at a glance: its state (and what to do when it failed), Start/Stop, every address a
/// tablet on the venue network can join at (each with a Copy button; a QR code of the selected
/// one), the address for a browser on this computer only, and the data folder.
class ServerPanel : public QWidget
{
    Q_OBJECT
public:
    /// Lists the http:// URLs (path "/") the server is reachable at, loopback included.
    using AddressSource = std::function<QList<QUrl>(const QHostAddress& bind, quint16 port)>;

    explicit ServerPanel(QWidget* parent = nullptr);

    void setSnapshot(const oll::ServerSnapshot& snapshot);
    /// The addresses a tablet or another computer can join at (the app's page on each network
    /// address), in order. Never a loopback address: no tablet reaches 127.0.0.1. Empty while the
    /// server is not running or can only be reached from this computer (see reachProblem()).
    QList<QUrl> joinUrls() const { return m_urls; }
    /// The join URL whose QR code is shown.
    QUrl selectedUrl() const;
    void selectUrl(int row);
    QrCodeWidget* qrCode() const { return m_qr; }
    /// The page a browser on this computer opens: /openlifter/ with a local build, else /demo/; on
    /// loopback when the server listens there, else on the one address it is bound to.
    QUrl localAppUrl() const { return m_localAppUrl; }
    /// Why no tablet can connect although the server runs (this laptop is on no network; the server
    /// listens on this computer only), in the director's words; empty when they can connect or
    /// when the server is not running.
    QString reachProblem() const { return m_reachProblem; }
    /// Where the addresses come from: oll::ui::joinUrls by default; tests pass a fixed list.
    void setAddressSource(AddressSource source);

    /// What to do about a start failure, from LiveServer's error text.
    static QString adviceFor(const QString& error);
    /// "/openlifter/" or "/demo/".
    static QString appPath(const oll::ServerSnapshot& snapshot);

Q_SIGNALS:
    void startRequested();
    void stopRequested();
    void settingsRequested();
    void copied(const QString& text);

private:
    QLayout* buildServerColumn();
    QLayout* buildAddressColumn();
    void renderState(const oll::ServerSnapshot& snapshot);
    void renderAddresses(const oll::ServerSnapshot& snapshot);
    void setUrls(const QList<QUrl>& urls);
    void fitUrlTable();
    void copyUrl(const QUrl& url);
    void updateQr();

    QLabel* m_state;
    QLabel* m_detail;
    ElidedLabel* m_dataPath;
    QPushButton* m_startStop;
    QPushButton* m_settings;
    QPushButton* m_openApp;
    QPushButton* m_openData;
    QLabel* m_urlHeading;
    QTableWidget* m_urlTable;
    QLabel* m_reach; // reachProblem(), shown in place of the table
    QLabel* m_localLine;
    QrCodeWidget* m_qr;
    QLabel* m_qrCaption;

    AddressSource m_addressSource;
    QList<QUrl> m_urls;
    QList<QUrl> m_baseUrls; // what m_addressSource listed for the running server
    QString m_urlKey; // bind address, port and path m_baseUrls were listed for
    QElapsedTimer m_urlAge;
    static constexpr qint64 kAddressRecheckMs = 5000;
    static constexpr int kUrlRowsShown = 4; // more scroll
    QUrl m_localAppUrl;
    QString m_reachProblem;
    QString m_dataDir;
    oll::ServerSnapshot::State m_lastState = oll::ServerSnapshot::State::Stopped;
};

} // namespace oll::ui
