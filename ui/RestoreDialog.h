// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once

#include "host/ServerSnapshot.h"

#include <QDialog>

class QLabel;
class QPushButton;

namespace oll {
class ServerHost;
}

namespace oll::ui {

/// Asks the director to approve or refuse one restore request. Non-blocking (shown with open(),
/// window-modal at most): the server runs on its own thread and keeps serving meanwhile.
/// objectName "restoreDialog-<meetId>"; the buttons are "approveButton" and "refuseButton".
class RestoreDialog : public QDialog
{
    Q_OBJECT
public:
    RestoreDialog(oll::ServerHost* host, const oll::RestoreRequestInfo& request, QWidget* parent = nullptr);

    QString meetId() const { return m_request.meetId; }
    /// The same meet asked again (e.g. another location): show the newest request.
    void updateRequest(const oll::RestoreRequestInfo& request);

    static QString objectNameFor(const QString& meetId);

private:
    void approve();
    void refuse();
    QString message() const;

    oll::ServerHost* m_host;
    oll::RestoreRequestInfo m_request;
    QLabel* m_text;
    QPushButton* m_approve;
    QPushButton* m_refuse;
};

} // namespace oll::ui
