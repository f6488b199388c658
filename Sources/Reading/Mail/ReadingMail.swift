import Foundation

/// The e-mails the consultation workflow sends (issue 16, "Notifications"): a new stat or urgent request to the readers
/// on duty, a critical result and a signed report to the requesting site's users. Each in the recipient's language
/// (Simplified Chinese or English). No patient name or identifier, and no report text, is ever in a message: the
/// request's number, priority, site and deadline, and a link to sign in and look.
public enum ReadingMail {
    public enum Kind: String, Sendable, CaseIterable {
        case newRequest = "new-request"
        case critical
        case reportFinal = "report-final"
    }

    /// One message in one language.
    public struct Text: Sendable, Equatable {
        public var subject: String
        public var body: String
    }

    static func priorityName(_ priority: Priority, english: Bool) -> String {
        switch priority {
        case .stat: english ? "stat" : "急诊"
        case .urgent: english ? "urgent" : "加急"
        case .routine: english ? "routine" : "常规"
        }
    }

    /// The message of `kind` about `request`, in English or Chinese. `link` is the absolute base URL of the web
    /// application when configured ("" leaves the path alone).
    public static func text(_ kind: Kind, request: ConsultationRequest, english: Bool, link: String) -> Text {
        let number = "#\(request.id)"
        let deadline = ReadingFormat.local(request.deadline)
        let priority = priorityName(request.priority, english: english)
        switch kind {
        case .newRequest:
            let url = link + "/worklist"
            return english
                ? Text(
                    subject: "[Atrium] New \(priority) consultation request \(number)",
                    body:
                        "A \(priority) consultation request (\(number)) from \(request.institutionCode) is waiting on the reading worklist.\n"
                        + "Deadline: \(deadline) (UTC+8).\n\n\(url)\n")
                : Text(
                    subject: "[Atrium] 新的\(priority)会诊申请 \(number)",
                    body: "来自 \(request.institutionCode) 的\(priority)会诊申请（\(number)）正在阅片工作列表中等待。\n截止时间：\(deadline)（北京时间）。\n\n\(url)\n")
        case .critical:
            let url = link + "/consultations/\(request.id)"
            return english
                ? Text(
                    subject: "[Atrium] Critical result on consultation \(number)",
                    body:
                        "A reader flagged a critical result on consultation \(number). Please sign in, read it and acknowledge it at once.\n\n\(url)\n"
                )
                : Text(
                    subject: "[Atrium] 会诊 \(number) 危急值通知",
                    body: "诊断专家在会诊 \(number) 中标记了危急值。请立即登录查看并确认。\n\n\(url)\n")
        case .reportFinal:
            let url = link + "/consultations/\(request.id)"
            return english
                ? Text(
                    subject: "[Atrium] Report signed for consultation \(number)",
                    body: "The final report of consultation \(number) is signed. Sign in to read and print it.\n\n\(url)\n")
                : Text(
                    subject: "[Atrium] 会诊 \(number) 报告已签发",
                    body: "会诊 \(number) 的正式报告已签发。请登录查看并打印。\n\n\(url)\n")
        }
    }
}

/// An e-mail waiting in the outbox (or sent), as the mailer sees it.
public struct OutboxMail: Sendable, Equatable {
    public var id: Int64
    public var recipient: String
    public var kind: String
    public var requestID: Int64
    public var subject: String
    public var body: String
    public var attempts: Int
}
