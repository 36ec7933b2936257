// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once

#include "host/ServerSnapshot.h"

#include <QWidget>

class QComboBox;
class QFrame;
class QLabel;
class QLineEdit;
class QPushButton;
class QTableView;

namespace oll {
class ServerHost;
}

namespace oll::ui {

class DisplayLinksModel;

/// The meet's display links: the list, minting a new one (its URL is shown once, with a copy
/// button: the server keeps only the token's hash) and revoking one (after a confirmation; the
/// server closes the sockets that use it at once).
class DisplayLinksPanel : public QWidget
{
    Q_OBJECT
public:
    explicit DisplayLinksPanel(oll::ServerHost* host, QWidget* parent = nullptr);

    void setMeet(const QString& meetId);
    /// `meetLoaded`: the selected meet is in the snapshot (links can be minted for it).
    void updateSnapshot(const oll::ServerSnapshot& snapshot, bool meetLoaded);
    DisplayLinksModel* model() const { return m_model; }
    int linkCount() const;

private:
    void mint();
    void onMinted(quint64 requestId, const oll::DisplayLinkInfo& link, const QString& token, const QString& path,
                  const QString& error);
    void onRevoked(const QString& meetId, const QString& linkId, int socketsClosed, const QString& warning);
    void askRevoke();
    void showMintedUrl();
    void dismissMinted();
    void updateButtons();

    oll::ServerHost* m_host;
    QString m_meetId;
    bool m_running = false; // the server runs and holds the selected meet
    QHostAddress m_bindAddress;
    quint16 m_port = 0;

    DisplayLinksModel* m_model;
    QTableView* m_view;
    QLineEdit* m_labelEdit;
    QPushButton* m_mintButton;
    QPushButton* m_revokeButton;
    QLabel* m_status;

    QFrame* m_mintedPanel;
    QLabel* m_mintedNote;
    QComboBox* m_addressCombo;
    QLineEdit* m_urlEdit;
    QPushButton* m_copyButton;

    quint64 m_pendingMint = 0;
    QString m_mintedPath; // path + fragment with the token; kept only while the panel shows it
    QString m_mintedLinkId;
};

} // namespace oll::ui
