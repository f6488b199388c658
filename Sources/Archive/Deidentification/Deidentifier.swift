import DICOM
import Foundation
import Imaging

/// A curator's decision on an object where burned-in text is likely: the regions to black out (none when the
/// curator saw no text). A decision made on one instance of a series applies to the whole series.
public struct PixelReview: Sendable, Hashable {
    /// The regions to black out, in every frame unless a region names frames.
    public var regions: [MaskRegion]

    public init(regions: [MaskRegion]) { self.regions = regions }
}

/// One attribute the engine changed, for the report a curator reads.
public struct DeidentificationChange: Sendable, Hashable, CustomStringConvertible {
    /// Where: `(0040,A730)[0]>(0040,A160)` for an attribute inside a sequence item.
    public var path: String
    /// What was done.
    public var action: ProfileAction

    public var description: String { "\(path) \(action)" }
}

/// Why a de-identified object is not released.
public enum DeidentificationRefusal: Sendable, Hashable, CustomStringConvertible {
    /// Burned-in text is likely (US, SC, XA, or Burned In Annotation YES) and no curator has confirmed masks.
    case pixelReviewRequired(modality: String, burnedInAnnotation: String?)
    /// An identifying value of the input (from `sourcePath`) is still in the output bytes, in `foundIn` when the
    /// element holding it could be named (PS3.15 E.1 safety net of Atrium).
    case identifyingValueRemains(sourcePath: String, attribute: String, foundIn: String?)
    /// Masking the pixel data failed.
    case pixelMaskingFailed(reason: String)
    /// Objects Atrium does not de-identify (a DICOMDIR names patients and files; it is rebuilt, never copied).
    case unsupportedObject(reason: String)

    public var description: String {
        switch self {
        case .pixelReviewRequired(let modality, let burned):
            "burned-in text is likely (modality \(modality), Burned In Annotation \(burned ?? "absent")): a curator must confirm masks"
        case .identifyingValueRemains(let source, let attribute, let foundIn):
            "the value of \(source) \(attribute) is still in the output" + (foundIn.map { " (in \($0))" } ?? "")
        case .pixelMaskingFailed(let reason): "masking the pixel data failed: \(reason)"
        case .unsupportedObject(let reason): reason
        }
    }
}

/// The outcome of de-identifying one object.
public struct DeidentificationResult: Sendable {
    /// The de-identified object. Not to be released unless ``isReleased``.
    public var file: DICOMFile
    /// Every attribute removed, emptied, replaced or cleaned.
    public var changes: [DeidentificationChange]
    /// Why the object is held back; empty when it may be released.
    public var refusals: [DeidentificationRefusal]
    /// The identity that stands in for the patient.
    public var patient: PseudonymousPatient
    /// Original UID → replacement, for the link to the original that administrators alone may see.
    public var replacedUIDs: [String: String]

    /// Whether the object passed every check and may leave.
    public var isReleased: Bool { refusals.isEmpty }
}

/// The PS3.15 Annex E engine: a data set in, a de-identified data set and a report out; no I/O.
///
/// Every attribute of Table E.1-1 gets its Basic Profile action or the action of an enabled option, recursively inside
/// sequences; private attributes are removed unless the Retain Safe Private Option keeps a known-safe one; dates not in
/// the table are treated like the table's dates. Replacement UIDs come from the secret, so the same input gives the
/// same output UIDs and references between objects stay consistent. Then a safety net searches the output bytes
/// (outside pixel data) for every identifying value of the input and refuses the object when one is found.
public struct Deidentifier: Sendable {
    public var options: DeidentificationOptions
    public var secret: DeidentificationSecret

    public init(options: DeidentificationOptions, secret: DeidentificationSecret) {
        self.options = options
        self.secret = secret
    }

    /// Whether burned-in text is likely, so a curator must confirm masks before release: US, SC and XA (and Secondary
    /// Capture SOP classes) unless Burned In Annotation is NO; any object with Burned In Annotation YES.
    public static func needsPixelReview(_ dataSet: DataSet) -> Bool {
        guard dataSet.contains(.pixelData) || dataSet.contains(.floatPixelData) || dataSet.contains(.doubleFloatPixelData) else {
            return false
        }
        let burned = dataSet.string(.burnedInAnnotation)?.uppercased()
        if burned == "YES" { return true }
        let modality = dataSet.string(.modality)?.uppercased() ?? ""
        let sopClass = dataSet.string(.sopClassUID) ?? ""
        let likely = ["US", "SC", "XA"].contains(modality) || sopClass.hasPrefix("1.2.840.10008.5.1.4.1.1.7")
        return likely && burned != "NO"
    }

    /// De-identifies `file`. `patient` is the pseudonymous identity (derived from the secret and the Patient ID when
    /// nil); `pixelReview` is the curator's confirmed masks for the object's series, when there is one.
    public func deidentify(_ file: DICOMFile, patient: PseudonymousPatient? = nil, pixelReview: PixelReview? = nil)
        -> DeidentificationResult
    {
        let source = file.dataSet
        let identity =
            patient
            ?? secret.patientIdentity(patientID: source.string(.patientID) ?? "", issuer: source.string(.issuerOfPatientID) ?? "")
        var refusals: [DeidentificationRefusal] = []
        if source.string(.sopClassUID) == "1.2.840.10008.1.3.10"
            || file.fileMetaInformation.string(.mediaStorageSOPClassUID) == "1.2.840.10008.1.3.10"
        {
            refusals.append(.unsupportedObject(reason: "a DICOMDIR is not de-identified: it is rebuilt for the output"))
        }

        var input = file
        var appliedOptions = options.subtracting(.cleanPixelData)
        let overlaysKept = options.contains(.cleanGraphics) && source.elements.contains { $0.tag.group & 0xFF01 == 0x6000 }
        if Self.needsPixelReview(source) || overlaysKept {
            if let pixelReview {
                if !pixelReview.regions.isEmpty {
                    do {
                        input = try Self.mask(file, regions: pixelReview.regions)
                        appliedOptions.insert(.cleanPixelData)
                    } catch {
                        refusals.append(.pixelMaskingFailed(reason: "\(error)"))
                    }
                } else if Self.needsPixelReview(source) {
                    input.dataSet.set(.burnedInAnnotation, .CS, "NO")
                }
            } else {
                refusals.append(
                    .pixelReviewRequired(modality: source.string(.modality) ?? "", burnedInAnnotation: source.string(.burnedInAnnotation)))
            }
        }

        var run = DeidentificationRun(options: options, secret: secret, patient: identity)
        run.collectIdentifying(source, path: "")
        var output = run.process(input.dataSet, path: "", mode: .normal)
        run.addMarkers(to: &output, applied: appliedOptions)

        var outFile = DICOMFile(dataSet: output, transferSyntax: input.transferSyntax)
        outFile.preamble = nil
        refusals += run.safetyNet(outFile)
        return DeidentificationResult(
            file: outFile, changes: run.changes, refusals: refusals, patient: identity, replacedUIDs: run.replacedUIDs)
    }

    /// De-identifies `file` with the review a curator confirmed for its series, if any: a mask drawn once on a preview
    /// applies to every instance of the series (`reviews` is keyed by the original Series Instance UID).
    public func deidentify(_ file: DICOMFile, patient: PseudonymousPatient? = nil, seriesReviews reviews: [String: PixelReview])
        -> DeidentificationResult
    {
        let series = file.dataSet.string(.seriesInstanceUID) ?? ""
        return deidentify(file, patient: patient, pixelReview: reviews[series])
    }

    /// Blacks out `regions` while keeping the object's identity: PixelMasker makes a new instance, but the engine
    /// derives the output UIDs from the original's, so a re-export of the same study gives the same UIDs.
    static func mask(_ file: DICOMFile, regions: [MaskRegion]) throws(ImagingError) -> DICOMFile {
        var masked = try PixelMasker.mask(file, regions: regions)
        if let original = file.dataSet[.sopInstanceUID] { masked.dataSet[.sopInstanceUID] = original }
        let before = file.dataSet.items(.sourceImageSequence)
        if before.isEmpty {
            masked.dataSet.remove(.sourceImageSequence)
        } else {
            masked.dataSet.set(.sourceImageSequence, items: before)
        }
        return masked
    }
}

/// The state of one object's de-identification.
struct DeidentificationRun {
    enum Mode {
        /// Table actions; unlisted attributes kept.
        case normal
        /// Inside a sequence the table says to replace with a dummy: free text and names become dummies too.
        case dummy
        /// Inside a sequence being cleaned: free text is rid of identifying values, names become dummies.
        case clean
    }

    let options: DeidentificationOptions
    let secret: DeidentificationSecret
    let patient: PseudonymousPatient
    var changes: [DeidentificationChange] = []
    var replacedUIDs: [String: String] = [:]
    /// Identifying values of the input: where from, and the byte forms to search for.
    var identifying: [(path: String, tag: Tag, needles: [[UInt8]])] = []
    /// The same values as text, longest first, for cleaning free text.
    var identifyingText: [String] = []

    static let dummyText = "ANONYMIZED"
    static let dummyName = "ANONYMOUS"
    static let dummyDate = "19000101"
    /// Code attributes whose text is terminology, not about the patient: cleaned, never replaced by a dummy.
    static let terminology: Set<Tag> = [Tag(0x0008_0104), Tag(0x0008_0119), Tag(0x0008_0120), Tag(0x0008_0103)]

    init(options: DeidentificationOptions, secret: DeidentificationSecret, patient: PseudonymousPatient) {
        self.options = options
        self.secret = secret
        self.patient = patient
    }

    // MARK: The table, recursively

    mutating func process(_ input: DataSet, path: String, mode: Mode) -> DataSet {
        var kept: [DataElement] = []
        kept.reserveCapacity(input.count + 4)
        let keptPrivateBlocks = options.contains(.retainSafePrivate) ? safePrivateBlocks(input) : []
        for element in input {
            let tag = element.tag
            if tag.isGroupLength || tag.group == 0x0002 { continue }
            if tag.isPrivate {
                if keptPrivateBlocks.contains(tag.privateBlock ?? 0) && (tag.isPrivateCreator || isSafePrivate(tag, in: input)) {
                    kept.append(element)
                } else {
                    record(path, tag, .remove)
                }
                continue
            }
            let group = tag.group
            if (group & 0xFF01 == 0x6000 || group & 0xFF01 == 0x5000) && !options.contains(.cleanGraphics) {
                // Overlay and curve groups go whole: an overlay without its data is not a valid overlay.
                record(path, tag, .remove)
                continue
            }
            let action = ConfidentialityProfile.action(for: tag, options: options) ?? unlistedAction(element, mode: mode)
            if let replaced = apply(action, to: element, in: input, path: path, mode: mode) {
                kept.append(replaced)
            }
        }
        var out = DataSet(characterSet: input.characterSet)
        for e in kept { out[e.tag] = e }
        return out
    }

    /// The action for an attribute Table E.1-1 does not list.
    func unlistedAction(_ element: DataElement, mode: Mode) -> ProfileAction {
        switch element.vr {
        case .DA, .DT:
            if options.contains(.retainLongitudinalFullDates) { return .keep }
            return options.contains(.retainLongitudinalModifiedDates) ? .clean : .dummy
        case .SQ: return .keep
        case .PN:
            // Any person's name, listed or not, is identifying.
            return .dummy
        case .LO, .SH, .ST, .LT, .UT, .UC:
            switch mode {
            case .normal: return .keep
            case .dummy: return Self.terminology.contains(element.tag) ? .clean : .dummy
            case .clean: return .clean
            }
        default: return .keep
        }
    }

    mutating func apply(_ action: ProfileAction, to element: DataElement, in parent: DataSet, path: String, mode: Mode) -> DataElement? {
        let tag = element.tag
        switch action {
        case .remove:
            if ConfidentialityProfile.removedAsEmpty.contains(tag) {
                record(path, tag, .empty)
                return DataElement(tag: tag, vr: element.vr, value: .bytes(.empty))
            }
            record(path, tag, action)
            return nil
        case .keep, .keepReplacingUIDs:
            if let items = element.items {
                return sequence(element, items: items, path: path, mode: mode)
            }
            return element
        case .empty:
            record(path, tag, action)
            if element.items != nil { return DataElement(tag: tag, vr: .SQ, value: .sequence([])) }
            if tag == .patientName { return text(tag, .PN, patient.name, parent) }
            if tag == .patientID { return text(tag, .LO, patient.id, parent) }
            return DataElement(tag: tag, vr: element.vr, value: .bytes(.empty))
        case .dummy:
            if let items = element.items {
                record(path, tag, action)
                return sequence(element, items: items, path: path, mode: .dummy)
            }
            record(path, tag, action)
            return dummy(element, parent)
        case .clean:
            if let items = element.items {
                return sequence(element, items: items, path: path, mode: .clean)
            }
            return clean(element, parent, path: path)
        case .replaceUID:
            guard element.vr == .UI else {
                record(path, tag, .remove)
                return nil
            }
            record(path, tag, action)
            let values = element.strings(characterSet: parent.characterSet)
            return text(tag, .UI, values.map { replacementUID($0) }.joined(separator: "\\"), parent)
        }
    }

    mutating func sequence(_ element: DataElement, items: [DataSet], path: String, mode: Mode) -> DataElement {
        var out: [DataSet] = []
        out.reserveCapacity(items.count)
        for (index, item) in items.enumerated() {
            out.append(process(item, path: path + "\(element.tag)[\(index)]>", mode: mode))
        }
        var e = element
        e.value = .sequence(out)
        return e
    }

    mutating func replacementUID(_ uid: String) -> String {
        if let known = replacedUIDs[uid] { return known }
        let replacement = secret.replacementUID(for: uid)
        replacedUIDs[uid] = replacement
        return replacement
    }

    mutating func dummy(_ element: DataElement, _ parent: DataSet) -> DataElement {
        let tag = element.tag
        switch element.vr {
        case .PN: return text(tag, .PN, Self.dummyName, parent)
        case .LO, .SH, .ST, .LT, .UT, .UC, .CS, .AE: return text(tag, element.vr, Self.dummyText, parent)
        case .DA: return text(tag, .DA, Self.dummyDate, parent)
        case .DT: return text(tag, .DT, Self.dummyDate + "000000", parent)
        case .TM: return text(tag, .TM, "000000", parent)
        case .AS: return text(tag, .AS, "000Y", parent)
        case .IS, .DS: return text(tag, element.vr, "0", parent)
        case .UI:
            let values = element.strings(characterSet: parent.characterSet)
            return text(tag, .UI, values.map { replacementUID($0) }.joined(separator: "\\"), parent)
        case .UR: return DataElement(tag: tag, vr: .UR, value: .bytes(.empty))
        case .AT: return element
        default:
            return DataElement(tag: tag, vr: element.vr, bytes: [UInt8](repeating: 0, count: element.length))
        }
    }

    mutating func clean(_ element: DataElement, _ parent: DataSet, path: String) -> DataElement? {
        let tag = element.tag
        switch element.vr {
        case .DA, .DT:
            if options.contains(.retainLongitudinalFullDates) { return element }
            guard options.contains(.retainLongitudinalModifiedDates) else {
                record(path, tag, .dummy)
                return dummy(element, parent)
            }
            record(path, tag, .clean)
            let values = element.strings(characterSet: parent.characterSet)
            let shifted = values.map { element.vr == .DA ? shiftDate($0) : shiftDateTime($0) }
            return text(tag, element.vr, shifted.joined(separator: "\\"), parent)
        case .PN:
            record(path, tag, .dummy)
            return dummy(element, parent)
        case .LO, .SH, .ST, .LT, .UT, .UC:
            let values: [String]
            if element.vr.isSingleValuedText {
                values = [parent.string(tag) ?? ""]
            } else {
                values = element.strings(characterSet: parent.characterSet)
            }
            let cleaned = values.map(scrub)
            if cleaned != values { record(path, tag, .clean) }
            return text(tag, element.vr, cleaned.joined(separator: "\\"), parent)
        default:
            return element
        }
    }

    func text(_ tag: Tag, _ vr: VR, _ value: String, _ parent: DataSet) -> DataElement {
        var scratch = DataSet(characterSet: parent.characterSet)
        scratch.set(tag, vr, value)
        return scratch[tag] ?? DataElement(tag: tag, vr: vr, value: .bytes(.empty))
    }

    mutating func record(_ path: String, _ tag: Tag, _ action: ProfileAction) {
        changes.append(DeidentificationChange(path: path + tag.description, action: action))
    }

    // MARK: Private attributes

    /// The private blocks (group << 8 | block byte) whose creator has an attribute on the safe list.
    func safePrivateBlocks(_ dataSet: DataSet) -> Set<UInt32> {
        var blocks: Set<UInt32> = []
        for e in dataSet where e.tag.isPrivateCreator {
            guard let creator = dataSet.string(e.tag) else { continue }
            if ConfidentialityProfile.safePrivate.contains(where: { $0.creator == creator && $0.group == e.tag.group }) {
                blocks.insert(UInt32(e.tag.group) << 8 | UInt32(e.tag.element & 0xFF))
            }
        }
        return blocks
    }

    func isSafePrivate(_ tag: Tag, in dataSet: DataSet) -> Bool {
        guard let creator = dataSet.privateCreator(of: tag) else { return false }
        let item = ConfidentialityProfile.SafePrivate(creator: creator, group: tag.group, element: UInt8(tag.element & 0xFF))
        return ConfidentialityProfile.safePrivate.contains(item)
    }

    // MARK: Dates

    func shiftDate(_ value: String) -> String {
        guard let date = DICOMDate(value) else { return Self.dummyDate }
        return formatDays(daysFromCivil(date.year, date.month, date.day) + patient.dateShiftDays)
    }

    func shiftDateTime(_ value: String) -> String {
        let digits = value.prefix { $0.isASCII && $0.isNumber }
        guard digits.count >= 8, let date = DICOMDate(digits.prefix(8)) else { return Self.dummyDate + "000000" }
        return formatDays(daysFromCivil(date.year, date.month, date.day) + patient.dateShiftDays) + value.dropFirst(8)
    }

    func formatDays(_ days: Int) -> String {
        let (y, m, d) = civilFromDays(days)
        return DICOMDate(year: y, month: m, day: d).description
    }

    // MARK: Free text

    /// Free text with every identifying value of the object removed, and every run of five or more digits (dates,
    /// telephone numbers, identifiers written into text) replaced by `*`.
    func scrub(_ text: String) -> String {
        var t = text
        for needle in identifyingText {
            t = t.replacingOccurrences(of: needle, with: "*", options: [.caseInsensitive])
        }
        var out = ""
        var run = ""
        var digits = 0
        func flush() {
            out += digits >= 5 ? "*" : run
            run = ""
            digits = 0
        }
        for c in t {
            if c.isNumber {
                run.append(c)
                digits += 1
            } else if !run.isEmpty, "-./: ".contains(c) {
                run.append(c)
            } else {
                flush()
                out.append(c)
            }
        }
        flush()
        return out
    }

    // MARK: Markers

    mutating func addMarkers(to dataSet: inout DataSet, applied: DeidentificationOptions) {
        dataSet.set(.patientIdentityRemoved, .CS, "YES")
        var methods = ["PS3.15 Basic Application Confidentiality Profile"]
        var codes: [DataSet] = [code("113100", "Basic Application Confidentiality Profile", dataSet.characterSet)]
        for described in DeidentificationOptions.described where applied.contains(described.option) {
            methods.append(described.meaning)
            codes.append(code(described.code, described.meaning, dataSet.characterSet))
        }
        dataSet.set(.deidentificationMethod, .LO, methods)
        dataSet.set(.deidentificationMethodCodeSequence, items: codes)
        let temporal =
            options.contains(.retainLongitudinalFullDates)
            ? "UNMODIFIED" : options.contains(.retainLongitudinalModifiedDates) ? "MODIFIED" : "REMOVED"
        dataSet.set(.longitudinalTemporalInformationModified, .CS, temporal)
    }

    func code(_ value: String, _ meaning: String, _ characterSet: SpecificCharacterSet) -> DataSet {
        var item = DataSet(characterSet: characterSet)
        item.set(.codeValue, .SH, value)
        item.set(.codingSchemeDesignator, .SH, "DCM")
        item.set(.codeMeaning, .LO, meaning)
        return item
    }
}

extension Tag {
    /// The private block this tag belongs to or reserves: group << 8 | block byte.
    var privateBlock: UInt32? {
        guard isPrivate else { return nil }
        if isPrivateCreator { return UInt32(group) << 8 | UInt32(element & 0xFF) }
        guard element >= 0x1000 else { return nil }
        return UInt32(group) << 8 | UInt32(element >> 8)
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm).
func daysFromCivil(_ year: Int, _ month: Int, _ day: Int) -> Int {
    let y = month <= 2 ? year - 1 : year
    let era = (y >= 0 ? y : y - 399) / 400
    let yoe = y - era * 400
    let mp = (month + 9) % 12
    let doy = (153 * mp + 2) / 5 + day - 1
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
    return era * 146097 + doe - 719468
}

/// The date of a day number from ``daysFromCivil(_:_:_:)``.
func civilFromDays(_ days: Int) -> (Int, Int, Int) {
    let z = days + 719468
    let era = (z >= 0 ? z : z - 146096) / 146097
    let doe = z - era * 146097
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
    let mp = (5 * doy + 2) / 153
    let d = doy - (153 * mp + 2) / 5 + 1
    let m = mp < 10 ? mp + 3 : mp - 9
    return (yoe + era * 400 + (m <= 2 ? 1 : 0), m, d)
}
