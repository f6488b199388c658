import DICOM

/// Which attributes belong to which level of the Query/Retrieve information model, and which are computed.
///
/// Patient level: PS3.4 Table C.6-1; study level: Table C.6-2 and C.6-5; series: C.6-3; instance: C.6-4; QIDO-RS
/// default return attributes: PS3.18 Table 10.6.1-5 (study), 10.6.1-6 (series), 10.6.1-7 (instance).
public enum LevelAttributes {
    /// Patient-level attributes kept in the patient row.
    public static let patient: Set<Tag> = [
        .patientName, .patientID, .issuerOfPatientID, .issuerOfPatientIDQualifiersSequence, .otherPatientIDsSequence,
        .patientBirthDate, .patientBirthTime, .patientSex, .otherPatientNames, .ethnicGroup, .patientComments,
    ]

    /// Study-level attributes kept in the study row (the General Study and Patient Study modules).
    public static let study: Set<Tag> = [
        .studyDate, .studyTime, .accessionNumber, .issuerOfAccessionNumberSequence, .studyID, .studyInstanceUID,
        .referringPhysicianName, .studyDescription, .procedureCodeSequence, .nameOfPhysiciansReadingStudy,
        .admittingDiagnosesDescription, .referencedStudySequence, .referencedPatientSequence, .patientAge, .patientSize,
        .patientWeight, .occupation, .additionalPatientHistory, .otherStudyNumbers, .timezoneOffsetFromUTC,
    ]

    /// Series-level attributes kept in the series row.
    public static let series: Set<Tag> = [
        .modality, .seriesNumber, .seriesInstanceUID, .seriesDescription, .seriesDate, .seriesTime,
        .performedProcedureStepStartDate, .performedProcedureStepStartTime, .requestAttributesSequence,
        .bodyPartExamined, .laterality, .institutionName, .institutionalDepartmentName, .stationName, .manufacturer,
        .protocolName, .operatorsName, .performingPhysicianName,
    ]

    /// Attributes the archive computes rather than stores (PS3.4 C.6.1.1.2-C.6.1.1.4, C.6.2.1.2).
    public static let computed: [Tag: QueryLevel] = [
        .numberOfPatientRelatedStudies: .patient, .numberOfPatientRelatedSeries: .patient,
        .numberOfPatientRelatedInstances: .patient, .modalitiesInStudy: .study, .sopClassesInStudy: .study,
        .numberOfStudyRelatedSeries: .study, .numberOfStudyRelatedInstances: .study,
        .numberOfSeriesRelatedInstances: .series, .instanceAvailability: .instance,
        .availableTransferSyntaxUID: .instance,
    ]

    /// The level that holds `tag`: instance for anything not listed at a higher level.
    public static func level(of tag: Tag) -> QueryLevel {
        if let level = computed[tag] { return level }
        if patient.contains(tag) { return .patient }
        if study.contains(tag) { return .study }
        if series.contains(tag) { return .series }
        return .instance
    }

    /// The QIDO-RS default return attributes of a level (PS3.18 Table 10.6.1-5, 10.6.1-6, 10.6.1-7), with the
    /// unique keys of the levels above so that results can be placed.
    public static func qidoDefaults(for level: QueryLevel) -> Set<Tag> {
        switch level {
        case .patient:
            [
                .patientName, .patientID, .issuerOfPatientID, .patientBirthDate, .patientSex,
                .numberOfPatientRelatedStudies, .numberOfPatientRelatedSeries, .numberOfPatientRelatedInstances,
            ]
        case .study:
            [
                .studyDate, .studyTime, .accessionNumber, .instanceAvailability, .modalitiesInStudy,
                .referringPhysicianName, .timezoneOffsetFromUTC, .patientName, .patientID, .patientBirthDate,
                .patientSex, .studyInstanceUID, .studyID, .numberOfStudyRelatedSeries, .numberOfStudyRelatedInstances,
            ]
        case .series:
            [
                .modality, .timezoneOffsetFromUTC, .seriesDescription, .seriesInstanceUID, .seriesNumber,
                .numberOfSeriesRelatedInstances, .performedProcedureStepStartDate, .performedProcedureStepStartTime,
                .requestAttributesSequence, .studyInstanceUID,
            ]
        case .instance:
            [
                .sopClassUID, .sopInstanceUID, .instanceAvailability, .timezoneOffsetFromUTC, .instanceNumber, .rows,
                .columns, .bitsAllocated, .numberOfFrames, .studyInstanceUID, .seriesInstanceUID,
            ]
        }
    }

    /// Date attributes and the time attributes that pair with them for combined matching (PS3.4 C.2.2.2.5.2).
    public static let dateTimePairs: [Tag: Tag] = [
        .studyDate: .studyTime, .seriesDate: .seriesTime, .contentDate: .contentTime,
        .acquisitionDate: .acquisitionTime, .patientBirthDate: .patientBirthTime,
        .performedProcedureStepStartDate: .performedProcedureStepStartTime,
        .instanceCreationDate: .instanceCreationTime,
    ]

    /// Splits an object's attributes into the four levels. The instance level keeps everything that is not bulk
    /// data (pixel data and large binary values), so that `includefield=all` and sequence matching see it.
    static func split(_ dataSet: DataSet) -> (patient: DataSet, study: DataSet, series: DataSet, instance: DataSet) {
        var p = DataSet(characterSet: dataSet.characterSet)
        var st = DataSet(characterSet: dataSet.characterSet)
        var se = DataSet(characterSet: dataSet.characterSet)
        var i = DataSet(characterSet: dataSet.characterSet)
        for element in dataSet.elements {
            let tag = element.tag
            if tag.group == 0x0002 || tag.isGroupLength || tag == .pixelData { continue }
            if tag == .specificCharacterSet {
                p[tag] = element
                st[tag] = element
                se[tag] = element
                i[tag] = element
                continue
            }
            if patient.contains(tag) {
                p[tag] = element
            } else if study.contains(tag) {
                st[tag] = element
            } else if series.contains(tag) {
                se[tag] = element
            } else if !isBulk(element) {
                i[tag] = element
            }
        }
        return (p, st, se, i)
    }

    private static func isBulk(_ element: DataElement) -> Bool {
        if element.tag.group >= 0x6000 && element.tag.group <= 0x60FF && element.tag.element == 0x3000 { return true }
        switch element.value {
        case .encapsulated: return true
        case .sequence: return false
        case .bytes(let b): return element.vr.isBulk && b.count > 256
        }
    }
}
