import DICOM
import Foundation

/// Converts a slide file OpenSlide reads into DICOM VL Whole Slide Microscopy Images (PS3.3 A.32.8): one instance per
/// pyramid level, TILED_FULL (PS3.3 C.7.6.17.3), JPEG baseline tiles (PS3.5 A.4.1) re-encoded from OpenSlide's RGBA
/// reads, tile by tile. The slide's associated images (label, macro) are not converted: a label carries the patient's
/// name and number (PHI), and a macro image usually shows the label.
public struct SlideConverter: Sendable {
    /// Tile width and height in pixels.
    public var tileSize: Int = 256
    /// JPEG quality (1…100).
    public var quality: Int = 90
    /// Pixel spacing in mm of level 0 when the file names none (OpenSlide's `openslide.mpp-x` missing).
    public var defaultPixelSpacingMillimetres: Double? = nil

    public init(tileSize: Int = 256, quality: Int = 90) {
        self.tileSize = tileSize
        self.quality = quality
    }

    /// Converts `path` (named `name` in errors); `attributes` carries the patient and study attributes the instances
    /// take (a new Study Instance UID when it holds none). `emit` receives each level's Part 10 bytes, base level
    /// first; one level's compressed tiles are held at a time.
    public func convert(
        path: String, name: String, attributes: DataSet, emit: (_ level: Int, _ bytes: [UInt8]) async throws -> Void
    ) async throws -> Int {
        let slide = try OpenSlideFile(path: path, name: name)
        guard !slide.levels.isEmpty else { throw SlideConversionError.unreadable(file: name, message: "the slide has no levels") }
        guard tileSize >= 16, tileSize <= 4096 else {
            throw SlideConversionError.unsupportedGeometry(file: name, reason: "tile size \(tileSize) is outside 16…4096")
        }
        let seriesUID = UID.generate()
        let frameOfReference = UID.generate()
        let studyUID = attributes.string(.studyInstanceUID) ?? UID.generate()
        let dimensionOrganization = UID.generate()
        let now = Date()
        let baseSpacing: (row: Double, column: Double)? =
            slide.micronsPerPixel.map { ($0.y / 1000, $0.x / 1000) }
            ?? defaultPixelSpacingMillimetres.map { ($0, $0) }
        var emitted = 0
        for (index, level) in slide.levels.enumerated() where level.width > 0 && level.height > 0 {
            let across = (level.width + tileSize - 1) / tileSize
            let down = (level.height + tileSize - 1) / tileSize
            let (frames, overflow) = across.multipliedReportingOverflow(by: down)
            guard !overflow, frames < Int(Int32.max) else {
                throw SlideConversionError.unsupportedGeometry(file: name, reason: "level \(index) has too many tiles")
            }
            var fragments: [ByteSlice] = []
            fragments.reserveCapacity(frames)
            // TILED_FULL order: across a row of tiles, then down (PS3.3 C.7.6.17.3).
            for row in 0..<down {
                for column in 0..<across {
                    let x = Int((Double(column * tileSize) * level.downsample).rounded())
                    let y = Int((Double(row * tileSize) * level.downsample).rounded())
                    let rgb = try slide.readRGB(level: index, x: x, y: y, width: tileSize, height: tileSize, name: name)
                    let image = RenderedImage(width: tileSize, height: tileSize, channels: 3, bitDepth: 8, samples: rgb.map(UInt16.init))
                    do {
                        fragments.append(ByteSlice(try JPEGEncoder.encode(image, quality: quality)))
                    } catch {
                        throw SlideConversionError.encoding(level: index, message: "\(error)")
                    }
                }
                await Task.yield()
            }
            var ds = attributes
            ds.remove(.pixelData)
            let spacing = baseSpacing.map { ($0.row * level.downsample, $0.column * level.downsample) }
            describeLevel(
                &ds, index: index, level: level, frames: frames,
                compressionRatio: Double(frames * tileSize * tileSize * 3) / Double(max(fragments.reduce(0) { $0 + $1.count }, 1)),
                spacing: spacing, studyUID: studyUID, seriesUID: seriesUID,
                frameOfReference: frameOfReference, dimensionOrganization: dimensionOrganization, now: now)
            ds[.pixelData] = DataElement(
                tag: .pixelData, vr: .OB, value: .encapsulated(EncapsulatedPixelData(fragments: fragments)), hadUndefinedLength: true)
            let bytes = try DICOMFile(dataSet: ds, transferSyntax: .jpegBaseline8Bit).encoded()
            try await emit(index, bytes)
            emitted += 1
        }
        return emitted
    }

    /// The attributes of one level's instance (PS3.3 A.32.8.3 modules: General Series, Frame of Reference, Whole Slide
    /// Microscopy Series and Image, Multi-frame Functional Groups, Optical Path, Slide Label absent).
    private func describeLevel(
        _ ds: inout DataSet, index: Int, level: OpenSlideFile.Level, frames: Int, compressionRatio: Double, spacing: (Double, Double)?,
        studyUID: String,
        seriesUID: String, frameOfReference: String, dimensionOrganization: String, now: Date
    ) {
        let date = Self.dicomDate(now)
        ds.set(.sopClassUID, .UI, UID.vlWholeSlideMicroscopyImageStorage)
        ds.set(.sopInstanceUID, .UI, UID.generate())
        ds.set(.studyInstanceUID, .UI, studyUID)
        ds.set(.seriesInstanceUID, .UI, seriesUID)
        ds.set(.frameOfReferenceUID, .UI, frameOfReference)
        ds.set(.positionReferenceIndicator, .LO, "SLIDE_CORNER")
        ds.set(.modality, .CS, "SM")
        if !ds.contains(.seriesNumber) { ds.set(.seriesNumber, .IS, "1") }
        ds.set(.instanceNumber, .IS, "\(index + 1)")
        if !ds.contains(.studyDate) { ds.set(.studyDate, .DA, date.date) }
        if !ds.contains(.studyTime) { ds.set(.studyTime, .TM, date.time) }
        ds.set(.contentDate, .DA, date.date)
        ds.set(.contentTime, .TM, date.time)
        ds.set(.acquisitionDateTime, .DT, date.date + date.time)
        for (tag, vr) in [(Tag.patientName, VR.PN), (.patientID, .LO), (.patientBirthDate, .DA), (.patientSex, .CS)]
        where !ds.contains(tag) {
            ds.set(tag, vr, [])
        }
        for (tag, vr) in [(Tag.accessionNumber, VR.SH), (.studyID, .SH), (.referringPhysicianName, .PN)] where !ds.contains(tag) {
            ds.set(tag, vr, [])
        }
        ds.set(.manufacturer, .LO, "Atrium")
        ds.set(.manufacturerModelName, .LO, "Atrium slide converter")
        ds.set(.deviceSerialNumber, .LO, "ATRIUM")
        ds.set(.softwareVersions, .LO, "Atrium")
        ds.set(.acquisitionContextSequence, items: [])
        ds.set(.imageType, .CS, index == 0 ? ["ORIGINAL", "PRIMARY", "VOLUME", "NONE"] : ["DERIVED", "PRIMARY", "VOLUME", "RESAMPLED"])
        ds.set(.burnedInAnnotation, .CS, "NO")
        ds.set(.specimenLabelInImage, .CS, "NO")
        ds.set(.focusMethod, .CS, "AUTO")
        ds.set(.extendedDepthOfField, .CS, "NO")
        ds.set(.volumetricProperties, .CS, "VOLUME")
        ds.set(.lossyImageCompression, .CS, "01")
        ds.set(.lossyImageCompressionMethod, .CS, "ISO_10918_1")
        ds.set(.lossyImageCompressionRatio, .DS, Self.decimal(compressionRatio))
        ds.set(.samplesPerPixel, .US, integers: [3])
        ds.set(.photometricInterpretation, .CS, "YBR_FULL_422")
        ds.set(.planarConfiguration, .US, integers: [0])
        ds.set(.rows, .US, integers: [tileSize])
        ds.set(.columns, .US, integers: [tileSize])
        ds.set(.bitsAllocated, .US, integers: [8])
        ds.set(.bitsStored, .US, integers: [8])
        ds.set(.highBit, .US, integers: [7])
        ds.set(.pixelRepresentation, .US, integers: [0])
        ds.set(.numberOfFrames, .IS, "\(frames)")
        ds.set(.totalPixelMatrixColumns, .UL, integers: [level.width])
        ds.set(.totalPixelMatrixRows, .UL, integers: [level.height])
        ds.set(.totalPixelMatrixFocalPlanes, .UL, integers: [1])
        ds.set(.numberOfOpticalPaths, .UL, integers: [1])
        ds.set(.dimensionOrganizationType, .CS, "TILED_FULL")
        var organization = DataSet()
        organization.set(.dimensionOrganizationUID, .UI, dimensionOrganization)
        ds.set(.dimensionOrganizationSequence, items: [organization])
        ds.set(.imageOrientationSlide, .DS, ["0", "-1", "0", "-1", "0", "0"])
        var origin = DataSet()
        origin.set(.xOffsetInSlideCoordinateSystem, .DS, "0")
        origin.set(.yOffsetInSlideCoordinateSystem, .DS, "0")
        ds.set(.totalPixelMatrixOriginSequence, items: [origin])
        if !ds.contains(.containerIdentifier) { ds.set(.containerIdentifier, .LO, "SLIDE-1") }
        ds.set(.issuerOfTheContainerIdentifierSequence, items: [])
        ds.set(.containerTypeCodeSequence, items: [Self.code("433466003", "SCT", "Microscope slide")])
        var specimen = DataSet()
        specimen.set(.specimenIdentifier, .LO, ds.string(.containerIdentifier) ?? "SLIDE-1")
        specimen.set(.specimenUID, .UI, UID.generate())
        specimen.set(.issuerOfTheSpecimenIdentifierSequence, items: [])
        specimen.set(.specimenPreparationSequence, items: [])
        ds.set(.specimenDescriptionSequence, items: [specimen])
        var path = DataSet()
        path.set(.opticalPathIdentifier, .SH, "1")
        path.set(.illuminationTypeCodeSequence, items: [Self.code("111744", "DCM", "Brightfield illumination")])
        path.set(.illuminationColorCodeSequence, items: [Self.code("414298005", "SCT", "Full Spectrum")])
        path[.iccProfile] = DataElement(tag: .iccProfile, vr: .OB, bytes: SRGBProfile.bytes)
        ds.set(.opticalPathSequence, items: [path])
        var measures = DataSet()
        if let spacing {
            measures.set(.pixelSpacing, .DS, [Self.decimal(spacing.0), Self.decimal(spacing.1)])
            ds.set(.imagedVolumeWidth, .FL, doubles: [Double(level.width) * spacing.1])
            ds.set(.imagedVolumeHeight, .FL, doubles: [Double(level.height) * spacing.0])
        }
        measures.set(.sliceThickness, .DS, "0.001")
        ds.set(.imagedVolumeDepth, .FL, doubles: [0.001])
        var shared = DataSet()
        shared.set(.pixelMeasuresSequence, items: [measures])
        var frameType = DataSet()
        frameType.set(
            .frameType, .CS, index == 0 ? ["ORIGINAL", "PRIMARY", "VOLUME", "NONE"] : ["DERIVED", "PRIMARY", "VOLUME", "RESAMPLED"])
        shared.set(.wholeSlideMicroscopyImageFrameTypeSequence, items: [frameType])
        var opticalPathIdentification = DataSet()
        opticalPathIdentification.set(.opticalPathIdentifier, .SH, "1")
        shared.set(.opticalPathIdentificationSequence, items: [opticalPathIdentification])
        ds.set(.sharedFunctionalGroupsSequence, items: [shared])
    }

    /// A code sequence item (PS3.3 8.8).
    public static func code(_ value: String, _ scheme: String, _ meaning: String) -> DataSet {
        var item = DataSet()
        item.set(.codeValue, .SH, value)
        item.set(.codingSchemeDesignator, .SH, scheme)
        item.set(.codeMeaning, .LO, meaning)
        return item
    }

    /// A Decimal String of at most 16 characters (PS3.5 6.2).
    static func decimal(_ value: Double) -> String {
        for digits in stride(from: 12, through: 1, by: -1) {
            let text = String(format: "%.\(digits)g", value)
            if text.count <= 16 { return text }
        }
        return "0"
    }

    /// A time in UTC as DA and TM values.
    public static func dicomDate(_ date: Date) -> (date: String, time: String) {
        var seconds = time_t(date.timeIntervalSince1970.rounded(.down))
        var parts = tm()
        gmtime_r(&seconds, &parts)
        func two(_ n: Int32) -> String { n < 10 ? "0\(n)" : "\(n)" }
        return (
            "\(parts.tm_year + 1900)\(two(parts.tm_mon + 1))\(two(parts.tm_mday))",
            "\(two(parts.tm_hour))\(two(parts.tm_min))\(two(parts.tm_sec))"
        )
    }
}
