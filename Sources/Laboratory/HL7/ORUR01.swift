import Foundation

/// Reads an ORU^R01 (unsolicited observation result, HL7 v2.5 7.3.1) into result sets: one per OBR, with the patient of
/// the PID before it. Every field the store needs is checked; the first problem is thrown with its location, so that
/// the ACK can name it, and nothing of the message is kept.
public enum ORUR01 {
    /// The versions of HL7 v2 whose ORU^R01 this reader accepts.
    public static let versions: Set<String> = ["2.3", "2.3.1", "2.4", "2.5", "2.5.1", "2.6", "2.7", "2.7.1", "2.8"]

    public static func resultSets(_ message: HL7Message, receivedAt: Date = Date()) throws(HL7Error) -> [ResultSet] {
        let header = message.header
        let type = message.messageType
        guard type.code == "ORU" else {
            throw HL7Error(.unsupportedMessageType, "only ORU messages are accepted", at: HL7Location(segment: "MSH", field: 9))
        }
        guard type.event == "R01" else {
            throw HL7Error(.unsupportedEventCode, "only the R01 event is accepted", at: HL7Location(segment: "MSH", field: 9))
        }
        guard !message.controlID.isEmpty else {
            throw HL7Error(.requiredFieldMissing, "MSH-10 (message control ID) is empty", at: HL7Location(segment: "MSH", field: 10))
        }
        let processing = header.value(11)
        guard processing.isEmpty || ["P", "T", "D"].contains(processing) else {
            throw HL7Error(.unsupportedProcessingID, "MSH-11 must be P, T or D", at: HL7Location(segment: "MSH", field: 11))
        }
        guard versions.contains(message.version) else {
            throw HL7Error(.unsupportedVersionID, "MSH-12 must be a version from 2.3 to 2.8", at: HL7Location(segment: "MSH", field: 12))
        }
        let facility = header.value(4)
        var counts: [String: Int] = [:]
        var patient: LabPatient?
        var sets: [ResultSet] = []
        for segment in message.segments.dropFirst() {
            counts[segment.id, default: 0] += 1
            let sequence = counts[segment.id] ?? 1
            func at(_ field: Int) -> HL7Location { HL7Location(segment: segment.id, sequence: sequence, field: field) }
            switch segment.id {
            case "PID":
                let id = segment.value(3)
                guard !id.isEmpty else { throw HL7Error(.requiredFieldMissing, "PID-3 (patient identifier) is empty", at: at(3)) }
                let birth = segment.value(7)
                let birthDate = HL7DateTime.birthDate(birth)
                if !birth.isEmpty && birthDate == nil {
                    throw HL7Error(.dataType, "PID-7 (date of birth) is not a date YYYYMMDD", at: at(7))
                }
                let sex = segment.value(8)
                if !sex.isEmpty && AdministrativeSex(rawValue: sex.uppercased()) == nil && !["A", "N"].contains(sex.uppercased()) {
                    throw HL7Error(.tableValueNotFound, "PID-8 (administrative sex) is not in table 0001", at: at(8))
                }
                patient = LabPatient(
                    id: id, assigningAuthority: segment.value(3, component: 4), familyName: segment.value(5),
                    givenName: segment.value(5, component: 2), birthDate: birthDate, sex: AdministrativeSex(hl7: sex))
            case "OBR":
                guard let patient else {
                    throw HL7Error(.segmentSequence, "OBR before any PID", at: HL7Location(segment: "OBR", sequence: sequence))
                }
                let placer = segment.value(2)
                let filler = segment.value(3)
                guard !placer.isEmpty || !filler.isEmpty else {
                    throw HL7Error(.requiredFieldMissing, "OBR-2 or OBR-3 (placer or filler order number) is needed", at: at(3))
                }
                let service = segment.value(4)
                guard !service.isEmpty else { throw HL7Error(.requiredFieldMissing, "OBR-4 (universal service ID) is empty", at: at(4)) }
                let time = segment.value(7)
                let observed = HL7DateTime.parse(time)
                if !time.isEmpty && observed == nil { throw HL7Error(.dataType, "OBR-7 (observation date/time) is not a DTM", at: at(7)) }
                sets.append(
                    ResultSet(
                        source: .hl7v2, sendingFacility: facility, messageControlID: message.controlID, patient: patient,
                        order: LabOrder(
                            placerNumber: placer, fillerNumber: filler, serviceCode: service, serviceText: segment.value(4, component: 2),
                            serviceSystem: segment.value(4, component: 3), observedAt: observed),
                        observations: [], receivedAt: receivedAt))
            case "OBX":
                guard !sets.isEmpty else {
                    throw HL7Error(.segmentSequence, "OBX before any OBR", at: HL7Location(segment: "OBX", sequence: sequence))
                }
                sets[sets.count - 1].observations.append(try observation(segment, sequence: sequence))
            default:
                // Z-segments and others a sender adds are ignored (HL7 v2.5 2.12: unexpected segments are ignored).
                continue
            }
        }
        guard patient != nil else {
            throw HL7Error(.segmentSequence, "the message has no PID segment", at: HL7Location(segment: "PID"))
        }
        guard !sets.isEmpty else { throw HL7Error(.segmentSequence, "the message has no OBR segment", at: HL7Location(segment: "OBR")) }
        if sets.contains(where: { $0.observations.isEmpty }) {
            throw HL7Error(.segmentSequence, "an OBR without any OBX", at: HL7Location(segment: "OBR"))
        }
        return sets
    }

    static func observation(_ segment: HL7Segment, sequence: Int) throws(HL7Error) -> LabObservation {
        func at(_ field: Int) -> HL7Location { HL7Location(segment: "OBX", sequence: sequence, field: field) }
        let typeCode = segment.value(2)
        guard let type = ObservationValueType(rawValue: typeCode) else {
            if typeCode.isEmpty { throw HL7Error(.requiredFieldMissing, "OBX-2 (value type) is empty", at: at(2)) }
            throw HL7Error(.tableValueNotFound, "OBX-2 must be NM, ST, TX, FT, CE, CWE or SN", at: at(2))
        }
        let code = segment.value(3)
        guard !code.isEmpty else { throw HL7Error(.requiredFieldMissing, "OBX-3 (observation identifier) is empty", at: at(3)) }
        var value = ""
        var numeric: Double?
        var comparator = ""
        switch type {
        case .numeric:
            value = segment.value(5).trimmingCharacters(in: .whitespaces)
            guard let number = Self.number(value) else { throw HL7Error(.dataType, "OBX-5 is not a number though OBX-2 is NM", at: at(5)) }
            numeric = number
        case .structuredNumeric:
            // SN: comparator ^ num1 ^ separator/suffix ^ num2 (v2.5 2.A.73).
            comparator = segment.value(5, component: 1)
            let first = segment.value(5, component: 2)
            let separator = segment.value(5, component: 3)
            let second = segment.value(5, component: 4)
            guard ["", "<", ">", "<=", ">=", "=", "<>"].contains(comparator), let number = Self.number(first),
                second.isEmpty || Self.number(second) != nil
            else { throw HL7Error(.dataType, "OBX-5 is not a structured numeric (comparator^number^separator^number)", at: at(5)) }
            numeric = separator.isEmpty ? number : nil
            value = comparator + first + separator + second
        case .codedEntry, .codedWithExceptions:
            let identifier = segment.value(5)
            let text = segment.value(5, component: 2)
            value = text.isEmpty ? identifier : text
        case .string:
            value = segment.value(5)
        case .text, .formattedText:
            value = segment.text(5)
        }
        let statusCode = segment.value(11)
        let statuses: Set<String> = ["C", "D", "F", "I", "N", "O", "P", "R", "S", "U", "W", "X"]
        if !statusCode.isEmpty && !statuses.contains(statusCode) {
            throw HL7Error(.tableValueNotFound, "OBX-11 (result status) is not in table 0085", at: at(11))
        }
        let time = segment.value(14)
        let observed = HL7DateTime.parse(time)
        if !time.isEmpty && observed == nil { throw HL7Error(.dataType, "OBX-14 (observation date/time) is not a DTM", at: at(14)) }
        let flags = segment.repetitions(8).indices.map { segment.value(8, repetition: $0) }.filter { !$0.isEmpty }
        return LabObservation(
            valueType: type, code: code, codeText: segment.value(3, component: 2), codeSystem: segment.value(3, component: 3), value: value,
            numeric: numeric, comparator: comparator, units: segment.value(6), referenceRange: segment.value(7), abnormalFlags: flags,
            status: statusCode.isEmpty ? "F" : statusCode, observedAt: observed)
    }

    /// An NM value (v2.5 2.A.47): optional sign, digits, optional decimal point; nothing else.
    static func number(_ text: String) -> Double? {
        var body = Substring(text.trimmingCharacters(in: .whitespaces))
        if body.first == "+" || body.first == "-" { body = body.dropFirst() }
        guard !body.isEmpty, body.allSatisfy({ $0.isASCII && ($0.isNumber || $0 == ".") }), body.filter({ $0 == "." }).count <= 1,
            body != "."
        else { return nil }
        return Double(text.trimmingCharacters(in: .whitespaces))
    }
}
