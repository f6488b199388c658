import Foundation
import Platform

/// What someone may try to do in the consultation workflow.
public enum ReadingAction: String, CaseIterable, Sendable {
    /// File a request for one's institution's studies.
    case request
    /// Withdraw a request (until claimed).
    case withdraw
    /// See a request and its events.
    case viewRequest
    /// See the readers' worklist.
    case viewWorklist
    /// Claim, renew or release a work item.
    case claim
    case release
    /// Take another reader's lock away.
    case breakLock
    /// Write the draft and issue a preliminary report.
    case writeReport
    /// Sign a final report (and its addenda).
    case sign
    case addendum
    /// Read a report (any version).
    case viewReport
    /// Flag a critical finding.
    case flagCritical
    /// Acknowledge a critical finding on behalf of the requesting site.
    case acknowledgeCritical
    /// Ask a colleague for a second read.
    case secondOpinion
    /// See turnaround figures.
    case viewTurnaround
    /// Score a signed report on the RADPEER scale, and see the discrepancy rates.
    case peerReview
    /// Attach a file (an earlier report, the paper request form) to a request.
    case attach
    /// List and download a request's attachments.
    case viewAttachments
}

/// What the table decided.
public enum ReadingDecision: Sendable, Equatable {
    case allow
    case deny(String)

    public var allowed: Bool { self == .allow }
}

/// The role × action table of the consultation workflow, in one pure function (the "Access and audit"):
///
/// | action | site | reader | senior reader (reader + supervisor, or profile `senior`) | admin | curator, student |
/// |---|---|---|---|---|---|
/// | request, withdraw | own institution | – | – | – | – |
/// | view request, view report | own institution | all | all | all | – |
/// | acknowledge critical | own institution | – | – | – | – |
/// | worklist, claim, release, write report, flag critical, second opinion | – | yes | yes | worklist only | – |
/// | sign, addendum | – | if the profile may sign | yes | – | – |
/// | break lock | – | – | yes | – | – |
/// | turnaround | own institution | yes | yes | yes | – |
/// | RADPEER review and rates | – | – | yes (any supervisor) | – | – |
/// | attach a file | own institution | – | – | yes | – |
/// | see attachments | own institution | if assigned | if assigned | yes | – |
///
/// "Assigned" (`assigned`): the reader holds or held one of the request's work items, is named on one, or writes one of
/// its reports. Attachments are paper forms and earlier reports from the site: other readers see them once they claim.
/// A student never sees the worklist or a clinical report; a curator has no clinical access here either.
public enum ReadingAccess {
    public static func decide(
        _ action: ReadingAction, principal: Principal, profile: ReaderProfile? = nil, requestInstitution: String? = nil,
        assigned: Bool = false
    ) -> ReadingDecision {
        let reader = principal.has(.reader)
        let senior = reader && (principal.has(.supervisor) || profile?.senior == true)
        let site = principal.has(.site)
        let admin = principal.has(.admin)
        let ownInstitution: Bool = {
            guard let code = principal.institutionCode, !code.isEmpty else { return false }
            return requestInstitution == nil || requestInstitution == code
        }()
        func allow(_ condition: Bool, _ reason: String) -> ReadingDecision { condition ? .allow : .deny(reason) }
        switch action {
        case .request:
            return allow(site && ownInstitution, "only a site user files requests, for its own institution")
        case .withdraw:
            return allow(site && ownInstitution, "only the requesting site withdraws a request")
        case .acknowledgeCritical:
            return allow(site && ownInstitution, "only the requesting site acknowledges a critical result")
        case .viewRequest, .viewReport:
            if reader || admin { return .allow }
            return allow(site && ownInstitution, "a site user sees only its own institution's requests and reports")
        case .viewWorklist:
            return allow(reader || admin, "the worklist is for readers")
        case .claim, .release, .writeReport, .flagCritical, .secondOpinion:
            return allow(reader, "readers only")
        case .sign, .addendum:
            guard reader else { return .deny("readers only") }
            return allow(senior || (profile?.canSign ?? true), "this reader writes preliminary reports; a reader who may sign signs them")
        case .breakLock:
            return allow(senior, "only a senior reader breaks another reader's lock")
        case .peerReview:
            return allow(principal.has(.supervisor), "supervisors review reports")
        case .viewTurnaround:
            if reader || admin { return .allow }
            return allow(site && ownInstitution, "turnaround is for readers, administrators and the site itself")
        case .attach:
            if admin { return .allow }
            return allow(site && ownInstitution, "only the requesting site and administrators attach files")
        case .viewAttachments:
            if admin || (reader && assigned) { return .allow }
            return allow(site && ownInstitution, "a request's attachments are for its site, its assigned readers and administrators")
        }
    }
}
