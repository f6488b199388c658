import Archive
import DICOM
import Foundation

/// A small generated data set for a first look: a CT series, an MR series, a radiograph and an ultrasound clip,
/// for invented patients with Chinese and English names. Nothing in it is real.
public enum DemoData {
    struct Patient {
        let name: String
        let id: String
        let birthDate: String
        let sex: String
        /// The demo institution the studies belong to (``DemoInstitutions``).
        let institution: DemoInstitutions.Entry
    }

    /// The demo patients' IDs (what `atrium demo remove` deletes).
    public static let patientIDs = ["DEMO-001", "DEMO-002", "DEMO-003", "DEMO-004"]

    /// Stores the demonstration studies, each belonging to its grassroots hospital (COUNTY-A, one to COUNTY-B); returns
    /// how many instances were stored.
    public static func load(into archive: Archive) async throws -> Int {
        var stored = 0
        for ds in makeAll() {
            let bytes = try DICOMFile(dataSet: ds).encoded(transferSyntax: .explicitVRLittleEndian)
            let code = DemoInstitutions.all.first { ds.string(.institutionName) == $0.name }?.code ?? DemoInstitutions.countyA.code
            _ = try await archive.store(bytes, source: SourceInfo(institution: code, transport: .importer), name: "demo")
            stored += 1
        }
        return stored
    }

    /// Every demonstration instance.
    static func makeAll() -> [DataSet] {
        let countyA = DemoInstitutions.countyA
        let zhang = Patient(name: "Zhang^Wei=张^伟", id: "DEMO-001", birthDate: "19650312", sex: "M", institution: countyA)
        let li = Patient(name: "Li^Na=李^娜", id: "DEMO-002", birthDate: "19800722", sex: "F", institution: countyA)
        let smith = Patient(name: "Smith^John", id: "DEMO-003", birthDate: "19521105", sex: "M", institution: countyA)
        let wang = Patient(name: "Wang^Fang=王^芳", id: "DEMO-004", birthDate: "19920130", sex: "F", institution: DemoInstitutions.countyB)
        var out: [DataSet] = []
        out += series(
            zhang, modality: "CT", sopClass: UID.ctImageStorage, description: "胸部CT平扫 Chest CT", count: 24, size: 256,
            date: "20261101"
        ) { slice, x, y in
            // A body ellipse with lungs (air) and a spine (bone), in CT numbers stored with intercept -1024.
            let dx = Double(x - 128) / 110, dy = Double(y - 128) / 80
            var hu = dx * dx + dy * dy < 1 ? 40.0 : -1000.0
            for side in [-1.0, 1.0] {
                let lx = (Double(x - 128) - side * 50) / 38, ly = Double(y - 120) / 55
                if lx * lx + ly * ly < 1 { hu = -850 + Double(slice % 5) * 10 }
            }
            let sx = Double(x - 128) / 14, sy = Double(y - 185) / 14
            if sx * sx + sy * sy < 1 { hu = 700 }
            return UInt16(clamping: Int(hu + 1024))
        }
        out += series(
            li, modality: "MR", sopClass: UID.mrImageStorage, description: "头颅MR Brain T2", count: 16, size: 256,
            date: "20261105"
        ) { slice, x, y in
            let dx = Double(x - 128) / 95, dy = Double(y - 128) / 115
            let r = dx * dx + dy * dy
            if r > 1 { return 0 }
            let ventricle = (abs(x - 128) < 18 && abs(y - 120) < 30 && slice > 4 && slice < 12) ? 1800 : 0
            return UInt16(400 + Int(600 * (1 - r)) + ventricle)
        }
        out += series(
            smith, modality: "CR", sopClass: UID.computedRadiographyImageStorage, description: "Chest PA", count: 1, size: 512,
            date: "20261110"
        ) { _, x, y in
            let dx = Double(x - 256) / 230, dy = Double(y - 256) / 240
            let inside = dx * dx + dy * dy < 1
            let rib = (y / 28) % 2 == 0 && inside ? 400 : 0
            return UInt16(inside ? 1200 + rib : 3800)
        }
        out.append(ultrasoundClip(wang))
        return out
    }

    static func base(
        _ patient: Patient, modality: String, sopClass: String, description: String, date: String,
        study: String, series: String, seriesNumber: Int, instance: Int
    ) -> DataSet {
        var ds = DataSet(characterSet: .utf8)
        ds.set(.specificCharacterSet, .CS, "ISO_IR 192")
        ds.set(.imageType, .CS, ["ORIGINAL", "PRIMARY"])
        ds.set(.sopClassUID, .UI, sopClass)
        ds.set(.sopInstanceUID, .UI, UID.generate())
        ds.set(.studyDate, .DA, date)
        ds.set(.seriesDate, .DA, date)
        ds.set(.studyTime, .TM, "093000")
        ds.set(.accessionNumber, .SH, "DEMO" + patient.id.suffix(3))
        ds.set(.modality, .CS, modality)
        ds.set(.manufacturer, .LO, "Atrium demo generator")
        ds.set(.institutionName, .LO, patient.institution.name)
        ds.set(.referringPhysicianName, .PN, "Chen^Jing=陈^静")
        ds.set(.studyDescription, .LO, description)
        ds.set(.seriesDescription, .LO, description)
        ds.set(.patientName, .PN, patient.name)
        ds.set(.patientID, .LO, patient.id)
        ds.set(.patientBirthDate, .DA, patient.birthDate)
        ds.set(.patientSex, .CS, patient.sex)
        ds.set(.studyInstanceUID, .UI, study)
        ds.set(.seriesInstanceUID, .UI, series)
        ds.set(.studyID, .SH, "1")
        ds.set(.seriesNumber, .IS, String(seriesNumber))
        ds.set(.instanceNumber, .IS, String(instance))
        return ds
    }

    static func series(
        _ patient: Patient, modality: String, sopClass: String, description: String, count: Int, size: Int, date: String,
        pixel: (Int, Int, Int) -> UInt16
    ) -> [DataSet] {
        let study = UID.generate()
        let series = UID.generate()
        let frame = UID.generate()
        return (0..<count).map { slice in
            var ds = base(
                patient, modality: modality, sopClass: sopClass, description: description, date: date, study: study,
                series: series, seriesNumber: 1, instance: slice + 1)
            ds.set(.frameOfReferenceUID, .UI, frame)
            ds.set(.samplesPerPixel, .US, integers: [1])
            ds.set(.photometricInterpretation, .CS, "MONOCHROME2")
            ds.set(.rows, .US, integers: [size])
            ds.set(.columns, .US, integers: [size])
            ds.set(.bitsAllocated, .US, integers: [16])
            ds.set(.bitsStored, .US, integers: [12])
            ds.set(.highBit, .US, integers: [11])
            ds.set(.pixelRepresentation, .US, integers: [0])
            let spacing = modality == "CR" ? 0.7 : (modality == "CT" ? 1.4 : 0.9)
            ds.set(.pixelSpacing, .DS, doubles: [spacing, spacing])
            if modality != "CR" {
                ds.set(.sliceThickness, .DS, doubles: [5])
                ds.set(.imagePositionPatient, .DS, doubles: [-Double(size) * spacing / 2, -Double(size) * spacing / 2, Double(-slice * 5)])
                ds.set(.imageOrientationPatient, .DS, doubles: [1, 0, 0, 0, 1, 0])
                ds.set(.sliceLocation, .DS, doubles: [Double(-slice * 5)])
            }
            if modality == "CT" {
                ds.set(.rescaleIntercept, .DS, "-1024")
                ds.set(.rescaleSlope, .DS, "1")
                ds.set(.rescaleType, .LO, "HU")
                ds.set(.windowCenter, .DS, ["40", "-600"])
                ds.set(.windowWidth, .DS, ["400", "1500"])
            } else {
                ds.set(.windowCenter, .DS, modality == "CR" ? "2000" : "900")
                ds.set(.windowWidth, .DS, modality == "CR" ? "3500" : "1600")
            }
            var bytes = [UInt8](repeating: 0, count: size * size * 2)
            for y in 0..<size {
                for x in 0..<size {
                    let v = pixel(slice, x, y)
                    bytes[(y * size + x) * 2] = UInt8(v & 0xFF)
                    bytes[(y * size + x) * 2 + 1] = UInt8(v >> 8)
                }
            }
            ds[.pixelData] = DataElement(tag: .pixelData, vr: .OW, bytes: bytes)
            return ds
        }
    }

    static func ultrasoundClip(_ patient: Patient) -> DataSet {
        let frames = 12
        let width = 160
        let height = 120
        var ds = base(
            patient, modality: "US", sopClass: UID.ultrasoundMultiFrameImageStorage, description: "腹部超声 Abdominal US",
            date: "20261115", study: UID.generate(), series: UID.generate(), seriesNumber: 1, instance: 1)
        ds.set(.samplesPerPixel, .US, integers: [3])
        ds.set(.photometricInterpretation, .CS, "RGB")
        ds.set(.planarConfiguration, .US, integers: [0])
        ds.set(.numberOfFrames, .IS, String(frames))
        ds.set(.frameTime, .DS, "66.7")
        ds.set(.rows, .US, integers: [height])
        ds.set(.columns, .US, integers: [width])
        ds.set(.bitsAllocated, .US, integers: [8])
        ds.set(.bitsStored, .US, integers: [8])
        ds.set(.highBit, .US, integers: [7])
        ds.set(.pixelRepresentation, .US, integers: [0])
        var bytes = [UInt8](repeating: 0, count: frames * width * height * 3)
        for f in 0..<frames {
            for y in 0..<height {
                for x in 0..<width {
                    // A sector with speckle and a pulsing dark vessel.
                    let dx = Double(x - width / 2), dy = Double(y)
                    let inSector = dy > 5 && abs(dx) < dy * 0.8
                    let vessel = pow(dx / 12, 2) + pow((dy - 70) / (8 + Double(f % 6)), 2) < 1
                    var v = inSector ? 60 + ((x * 7 + y * 13 + f * 31) % 90) : 0
                    if vessel { v = 10 }
                    let i = ((f * height + y) * width + x) * 3
                    bytes[i] = UInt8(v)
                    bytes[i + 1] = UInt8(v)
                    bytes[i + 2] = UInt8(min(255, v + (vessel ? 0 : 5)))
                }
            }
        }
        ds[.pixelData] = DataElement(tag: .pixelData, vr: .OB, bytes: bytes)
        return ds
    }
}
