import Platform

/// The laboratory's tables, numbered migrations recorded in `laboratory_schema_version`. Decimal values are kept as text
/// (the platform's SQL values have no floating type), written and read by Swift; times as milliseconds since 1970.
enum LaboratorySchema {
    static let versionTable = "laboratory_schema_version"
    /// Serialises migrators on PostgreSQL ("ATLABOR" in ASCII).
    static let lockKey: Int64 = 0x4154_4C41_424F_52

    @Sendable static func migrations(_ flavour: PlatformSchema.Flavour) -> [[String]] {
        let key = flavour == .sqlite ? "INTEGER PRIMARY KEY" : "BIGSERIAL PRIMARY KEY"
        let int = flavour == .sqlite ? "INTEGER" : "BIGINT"
        return [
            [
                """
                CREATE TABLE lab_facilities (
                    facility TEXT PRIMARY KEY,
                    institution TEXT NOT NULL,
                    updated_by TEXT NOT NULL,
                    updated_at \(int) NOT NULL
                )
                """,
                """
                CREATE TABLE lab_result_sets (
                    id TEXT PRIMARY KEY,
                    institution TEXT NOT NULL,
                    source TEXT NOT NULL,
                    facility TEXT NOT NULL,
                    control_id TEXT NOT NULL,
                    patient_id TEXT NOT NULL,
                    patient_authority TEXT NOT NULL,
                    family_name TEXT NOT NULL,
                    given_name TEXT NOT NULL,
                    birth_date TEXT,
                    sex TEXT NOT NULL,
                    placer TEXT NOT NULL,
                    filler TEXT NOT NULL,
                    service_code TEXT NOT NULL,
                    service_text TEXT NOT NULL,
                    service_system TEXT NOT NULL,
                    order_observed_at \(int),
                    observed_at \(int) NOT NULL,
                    received_at \(int) NOT NULL,
                    position \(int) NOT NULL
                )
                """,
                "CREATE INDEX lab_result_sets_patient ON lab_result_sets (institution, patient_id, observed_at)",
                "CREATE INDEX lab_result_sets_message ON lab_result_sets (facility, control_id)",
                """
                CREATE TABLE lab_observations (
                    result_set TEXT NOT NULL REFERENCES lab_result_sets (id),
                    seq \(int) NOT NULL,
                    value_type TEXT NOT NULL,
                    code TEXT NOT NULL,
                    code_text TEXT NOT NULL,
                    code_system TEXT NOT NULL,
                    loinc TEXT,
                    value TEXT NOT NULL,
                    numeric_value TEXT,
                    comparator TEXT NOT NULL,
                    units TEXT NOT NULL,
                    ucum TEXT,
                    canonical_value TEXT,
                    canonical_unit TEXT NOT NULL,
                    reference_range TEXT NOT NULL,
                    abnormal_flags TEXT NOT NULL,
                    status TEXT NOT NULL,
                    observed_at \(int),
                    PRIMARY KEY (result_set, seq)
                )
                """,
                "CREATE INDEX lab_observations_loinc ON lab_observations (loinc)",
                """
                CREATE TABLE lab_reference_ranges (
                    id \(key),
                    loinc TEXT NOT NULL,
                    name TEXT NOT NULL,
                    sex TEXT NOT NULL,
                    minimum_age \(int) NOT NULL,
                    maximum_age \(int) NOT NULL,
                    low TEXT,
                    high TEXT,
                    critical_low TEXT,
                    critical_high TEXT,
                    unit TEXT NOT NULL,
                    source TEXT NOT NULL
                )
                """,
                """
                CREATE TABLE lab_delta_rules (
                    loinc TEXT PRIMARY KEY,
                    absolute_change TEXT,
                    percent_change TEXT
                )
                """,
                """
                CREATE TABLE lab_qc_materials (
                    id \(key),
                    institution TEXT NOT NULL,
                    loinc TEXT NOT NULL,
                    analyte TEXT NOT NULL,
                    name TEXT NOT NULL,
                    lot TEXT NOT NULL,
                    level TEXT NOT NULL,
                    mean TEXT NOT NULL,
                    sd TEXT NOT NULL,
                    unit TEXT NOT NULL
                )
                """,
                """
                CREATE TABLE lab_qc_runs (
                    id \(key),
                    institution TEXT NOT NULL,
                    run_at \(int) NOT NULL,
                    recorded_by TEXT NOT NULL,
                    token TEXT NOT NULL UNIQUE
                )
                """,
                """
                CREATE TABLE lab_qc_values (
                    run_id \(int) NOT NULL REFERENCES lab_qc_runs (id),
                    material_id \(int) NOT NULL REFERENCES lab_qc_materials (id),
                    value TEXT NOT NULL,
                    PRIMARY KEY (run_id, material_id)
                )
                """,
                """
                CREATE TABLE lab_request_links (
                    request_id \(int) PRIMARY KEY,
                    result_set TEXT NOT NULL REFERENCES lab_result_sets (id)
                )
                """,
            ],
            [
                """
                CREATE TABLE lab_critical_values (
                    id TEXT PRIMARY KEY,
                    result_set TEXT NOT NULL REFERENCES lab_result_sets (id),
                    seq \(int) NOT NULL,
                    institution TEXT NOT NULL,
                    patient_id TEXT NOT NULL,
                    analyte TEXT NOT NULL,
                    loinc TEXT,
                    value TEXT NOT NULL,
                    unit TEXT NOT NULL,
                    flag TEXT NOT NULL,
                    limit_text TEXT NOT NULL,
                    raised_at \(int) NOT NULL,
                    request_id \(int),
                    critical_result_id \(int),
                    acknowledged_by TEXT,
                    acknowledged_at \(int)
                )
                """,
                "CREATE INDEX lab_critical_values_open ON lab_critical_values (institution, acknowledged_at)",
                "CREATE INDEX lab_critical_values_set ON lab_critical_values (result_set)",
            ],
        ]
    }
}
