import Foundation
import Imaging

/// A case put forward for teaching and waiting for a curator: a Key Object Selection "For Teaching" that reached the
/// archive (from the report page, or by C-STORE or STOW-RS from any workstation), or a study a curator chose from the
/// archive. It refers to clinical instances; the case made from it holds only their de-identified copies.
public struct FlaggedCase: Sendable, Equatable {
    /// Where the entry came from.
    public enum Kind: String, Sendable, Codable {
        /// A KOS "For Teaching" (DCM 113004); `sourceKey` is `kos:` + its SOP Instance UID.
        case keyObjectSelection = "kos"
        /// A study (or a choice of its instances) that went through no consultation; `sourceKey` is `study:` + its UID.
        case study
    }

    public var id: Int64
    public var kind: Kind
    /// Unique: the same KOS or study never makes two entries, nor two cases.
    public var sourceKey: String
    /// The clinical study (shown to curators and administrators only).
    public var studyInstanceUID: String
    public var references: [InstanceReference]
    /// The reader's teaching note (the KOS's Key Object Description), or the curator's.
    public var note: String
    public var flaggedBy: String
    public var institution: String
    /// Masks a curator confirmed per clinical Series Instance UID (an empty list: looked, no burned-in text).
    public var masks: [String: [MaskRectangle]]
    /// The case made from it, once made.
    public var caseID: Int64?
    public var createdAt: Date
    public var revision: Int64

    public init(
        id: Int64, kind: Kind, sourceKey: String, studyInstanceUID: String, references: [InstanceReference], note: String,
        flaggedBy: String, institution: String, masks: [String: [MaskRectangle]] = [:], caseID: Int64? = nil, createdAt: Date,
        revision: Int64 = 0
    ) {
        self.id = id
        self.kind = kind
        self.sourceKey = sourceKey
        self.studyInstanceUID = studyInstanceUID
        self.references = references
        self.note = note
        self.flaggedBy = flaggedBy
        self.institution = institution
        self.masks = masks
        self.caseID = caseID
        self.createdAt = createdAt
        self.revision = revision
    }
}

/// One referenced clinical instance.
public struct InstanceReference: Sendable, Equatable, Codable, Hashable {
    public var seriesInstanceUID: String
    public var sopInstanceUID: String
    public var sopClassUID: String
    public var frame: Int?

    public init(seriesInstanceUID: String, sopInstanceUID: String, sopClassUID: String, frame: Int? = nil) {
        self.seriesInstanceUID = seriesInstanceUID
        self.sopInstanceUID = sopInstanceUID
        self.sopClassUID = sopClassUID
        self.frame = frame
    }
}

/// A rectangle to black out, in image pixels (every frame).
public struct MaskRectangle: Sendable, Equatable, Codable, Hashable {
    public var x: Int
    public var y: Int
    public var width: Int
    public var height: Int

    public init(x: Int, y: Int, width: Int, height: Int) {
        self.x = x
        self.y = y
        self.width = width
        self.height = height
    }

    public var region: MaskRegion { MaskRegion(x: x, y: y, width: width, height: height) }
}

/// A de-identified instance of a teaching case, stored with the case (the teaching namespace: never in the clinical
/// archive, so nothing that serves clinical studies can reach it, and nothing that serves cases can reach a clinical one).
public struct CaseImage: Sendable, Equatable {
    public var caseID: Int64
    public var studyInstanceUID: String
    public var seriesInstanceUID: String
    public var sopInstanceUID: String
    public var modality: String
    public var bytes: [UInt8]

    public init(
        caseID: Int64, studyInstanceUID: String, seriesInstanceUID: String, sopInstanceUID: String, modality: String, bytes: [UInt8]
    ) {
        self.caseID = caseID
        self.studyInstanceUID = studyInstanceUID
        self.seriesInstanceUID = seriesInstanceUID
        self.sopInstanceUID = sopInstanceUID
        self.modality = modality
        self.bytes = bytes
    }
}

/// The link from a case to the clinical originals it was made from: administrators only.
public struct CaseOrigin: Sendable, Equatable, Codable {
    public var caseID: Int64
    public var sourceKey: String
    public var studyInstanceUID: String
    /// Original UID → the teaching copy's UID.
    public var replacedUIDs: [String: String]
    public var createdAt: Date
}
