import Foundation

/// A unit as UCUM writes it and, where the analyte has a standard conversion, the value in the alliance's canonical unit.
public struct UnitNormalisation: Sendable, Equatable, Codable {
    /// The UCUM code of the unit as sent, or nil when the spelling is not in the table ("not normalised").
    public var ucum: String?
    /// The value in the canonical unit (the value as sent when the unit already is the canonical one or the analyte has
    /// no canonical unit).
    public var value: Double?
    /// The unit `value` is in: the canonical UCUM unit, else the UCUM unit as sent, else the unit as sent.
    public var unit: String
    /// Whether `value` was converted from another unit.
    public var converted: Bool

    public var normalised: Bool { ucum != nil }
}

/// UCUM normalisation of the units laboratories send, and conversion of common chemistry analytes from conventional
/// (mass) units to the SI units the alliance reports in.
///
/// The spelling table maps what laboratory systems commonly write in OBX-6 (case, `u` for µ, `10^9`, `10*9`, `x10E9`,
/// `IU` for `[IU]`…) to the UCUM code (The Unified Code for Units of Measure, ucum.org, case-sensitive form). Conversion
/// factors are the molar masses the clinical chemistry literature uses (glucose 180.16 g/mol, cholesterol 386.65,
/// triglycerides as triolein 885.7, creatinine 113.12, urea 60.06 and urea nitrogen 28.014, uric acid 168.11): mg/dL →
/// mmol/L is × 10 / M, mg/dL → µmol/L × 10 000 / M.
public enum UCUM {
    /// Unit spellings (compared after trimming, case-insensitively, with `µ`/`μ` read as `u`) → UCUM code.
    public static let spellings: [String: String] = {
        var table: [String: String] = [:]
        let entries: [(String, [String])] = [
            ("mmol/L", ["mmol/l", "mmol/L", "MMOL/L", "mM", "mmol/litre"]),
            ("umol/L", ["umol/l", "µmol/L", "μmol/L", "UMOL/L", "micromol/L"]),
            ("nmol/L", ["nmol/l", "NMOL/L"]),
            ("pmol/L", ["pmol/l"]),
            ("mol/L", ["mol/l"]),
            ("g/L", ["g/l", "G/L", "gm/L"]),
            ("g/dL", ["g/dl", "G/DL", "gm/dL"]),
            ("mg/dL", ["mg/dl", "MG/DL", "mg%"]),
            ("mg/L", ["mg/l", "MG/L"]),
            ("ug/L", ["ug/l", "µg/L", "μg/L", "mcg/L"]),
            ("ng/mL", ["ng/ml", "NG/ML"]),
            ("pg/mL", ["pg/ml"]),
            ("10*9/L", ["10^9/L", "10*9/L", "x10E9/L", "X10E9/L", "10E9/L", "x10^9/L", "×10^9/L", "10^9/l", "giga/L", "G/L#count"]),
            ("10*12/L", ["10^12/L", "10*12/L", "x10E12/L", "X10E12/L", "10E12/L", "x10^12/L", "×10^12/L", "10^12/l", "T/L"]),
            ("U/L", ["U/L", "u/l", "IU/L#enzyme"]),
            ("[IU]/L", ["IU/L", "iu/l", "[IU]/L"]),
            ("m[IU]/mL", ["mIU/mL", "miu/ml", "mIU/ml", "m[IU]/mL"]),
            ("u[IU]/mL", ["uIU/mL", "µIU/mL", "μIU/mL", "uiu/ml", "u[IU]/mL"]),
            ("[IU]/mL", ["IU/mL", "iu/ml"]),
            ("%", ["%", "percent", "pct"]),
            ("fL", ["fL", "fl", "FL", "um3", "µm3"]),
            ("pg", ["pg", "PG"]),
            ("s", ["s", "sec", "seconds"]),
            ("mm/h", ["mm/h", "mm/hr", "MM/HR"]),
            ("mL/min/{1.73_m2}", ["mL/min/1.73m2", "ml/min/1.73m2", "mL/min/1.73 m2", "mL/min/{1.73_m2}"]),
            ("{ratio}", ["ratio", "{ratio}"]),
            ("mmHg", ["mmHg", "mm[Hg]"]),
        ]
        for (code, spellings) in entries {
            for spelling in spellings + [code] {
                // `#` marks an alternative reading kept only for documentation (IU/L is [IU]/L, not U/L).
                if spelling.contains("#") { continue }
                table[key(spelling)] = code
            }
        }
        return table
    }()

    static func key(_ spelling: String) -> String {
        spelling.trimmingCharacters(in: .whitespaces).replacingOccurrences(of: "µ", with: "u").replacingOccurrences(of: "μ", with: "u")
            .replacingOccurrences(of: "×", with: "x").lowercased()
    }

    /// The UCUM code of a unit as sent, or nil when it is not in the table.
    public static func code(for units: String) -> String? {
        let trimmed = units.trimmingCharacters(in: .whitespaces)
        if trimmed.isEmpty { return nil }
        return spellings[key(trimmed)]
    }

    /// An analyte whose conventional and SI units convert by a standard factor.
    public struct Analyte: Sendable, Equatable {
        public var name: String
        /// LOINC codes that report this analyte (mass and substance concentration codes alike: laboratories send both).
        public var loinc: Set<String>
        /// The alliance's canonical unit (UCUM).
        public var canonical: String
        /// Factors from other UCUM units to the canonical one (value × factor).
        public var factors: [String: Double]
    }

    static func molar(_ name: String, _ loinc: Set<String>, molarMass: Double, micro: Bool = false) -> Analyte {
        let toCanonical = micro ? 10_000 / molarMass : 10 / molarMass
        return Analyte(
            name: name, loinc: loinc, canonical: micro ? "umol/L" : "mmol/L",
            factors: [
                "mg/dL": toCanonical, "mg/L": toCanonical / 10, "g/L": toCanonical * 100,
                micro ? "mmol/L" : "umol/L": micro ? 1000 : 0.001,
            ])
    }

    /// The analytes converted to SI.
    public static let analytes: [Analyte] = [
        molar("glucose", ["2345-7", "2339-0", "1558-6", "14749-6", "15074-8", "41653-7"], molarMass: 180.16),
        molar("cholesterol", ["2093-3", "14647-2"], molarMass: 386.65),
        molar("HDL cholesterol", ["2085-9", "14646-4"], molarMass: 386.65),
        molar("LDL cholesterol", ["2089-1", "13457-7", "18262-6", "22748-8"], molarMass: 386.65),
        molar("triglycerides", ["2571-8", "14927-8"], molarMass: 885.7),
        molar("creatinine", ["2160-0", "14682-9"], molarMass: 113.12, micro: true),
        molar("urea", ["3091-6", "22664-7"], molarMass: 60.06),
        // Urea nitrogen (BUN) in mg/dL reported as urea in mmol/L: 2 nitrogen atoms per urea molecule.
        molar("urea nitrogen", ["3094-0", "14937-7"], molarMass: 28.014),
        molar("uric acid", ["3084-1", "14933-6"], molarMass: 168.11, micro: true),
    ]

    /// The analyte with a conversion for this LOINC code.
    public static func analyte(loinc: String?) -> Analyte? {
        guard let loinc else { return nil }
        return analytes.first { $0.loinc.contains(loinc) }
    }

    /// Normalises a value and its unit: the UCUM code of the unit; for a converted analyte, the value in its canonical
    /// unit (the original value and unit stay on the observation).
    public static func normalise(value: Double?, units: String, loinc: String?) -> UnitNormalisation {
        let ucum = code(for: units)
        guard let ucum else { return UnitNormalisation(ucum: nil, value: value, unit: units, converted: false) }
        guard let analyte = analyte(loinc: loinc), ucum != analyte.canonical, let factor = analyte.factors[ucum], let value else {
            return UnitNormalisation(ucum: ucum, value: value, unit: ucum, converted: false)
        }
        return UnitNormalisation(ucum: ucum, value: value * factor, unit: analyte.canonical, converted: true)
    }
}
