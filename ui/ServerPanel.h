// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once

#include "host/ServerSnapshot.h"

#include <QElapsedTimer>
#include <QUrl>
#include <QWidget>

class QLabel;
class QPushButton;
class QTableWidget;

namespace oll::ui {

class QrCodeWidget;

/// The server at a glance: its state (and what to do when it failed), Start/Stop, every address a
/// browser on the LAN can join at (each with a Copy button; a QR code of the selected one), what
/// to open in a browser here, and the data folder.
class ServerPanel : public QWidget
{
    Q_OBJECT
public:
    explicit ServerPanel(QWidget* parent = nullptr);

    void setSnapshot(const oll::ServerSnapshot& snapshot);
    /// The join URLs shown, in order (the app's page on each address).
    QList<QUrl> joinUrls() const { return m_urls; }
    /// The URL whose QR code is shown.
    QUrl selectedUrl() const;
    void selectUrl(int row);
    QrCodeWidget* qrCode() const { return m_qr; }
    /// The page a browser on this computer opens: /openlifter/ with a local build, else /demo/.
    QUrl localAppUrl() const;

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
    void setUrls(const QList<QUrl>& urls);
    void copyUrl(const QUrl& url);
    void updateQr();

    QLabel* m_state;
    QLabel* m_detail;
    QPushButton* m_startStop;
    QPushButton* m_settings;
    QPushButton* m_openApp;
    QPushButton* m_openData;
    QTableWidget* m_urlTable;
    QrCodeWidget* m_qr;
    QLabel* m_qrCaption;
    QList<QUrl> m_urls;
    QList<QUrl> m_baseUrls; // joinUrls() of the running server
    QString m_urlKey; // bind address, port and path m_baseUrls were listed for
    QElapsedTimer m_urlAge;
    static constexpr qint64 kAddressRecheckMs = 5000;
    QUrl m_localAppUrl;
    QString m_dataDir;
    oll::ServerSnapshot::State m_lastState = oll::ServerSnapshot::State::Stopped;
};

} // namespace oll::ui
