// swift-tools-version: 6.1
import PackageDescription

let package = Package(
    name: "Atrium",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "atrium", targets: ["atrium"]),
        .library(name: "DICOM", targets: ["DICOM"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1", traits: []),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/vapor/postgres-nio", from: "1.33.2"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.37.6"),
        .package(url: "https://github.com/hummingbird-project/swift-mustache", from: "2.1.1"),
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
        .package(url: "https://github.com/apple/swift-crypto", "3.12.3"..<"5.0.0"),
        // UPS-RS event reports over WebSocket (PS3.18 11.x); the Server target only.
        .package(url: "https://github.com/hummingbird-project/hummingbird-websocket", from: "2.8.1"),
    ],
    targets: [
        // zlib from the system, for the deflated transfer syntax (PS3.5 A.5).
        .systemLibrary(name: "CSystemZlib", path: "Sources/CSystemZlib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),
        .target(
            name: "DICOM",
            dependencies: ["CSystemZlib"],
            swiftSettings: [.unsafeFlags(["-Ounchecked"], .when(configuration: .release))]
        ),
        .executableTarget(
            name: "atrium",
            dependencies: [
                "DICOM",
                "DICOMNetwork",
                "Imaging",
                "Archive",
                "Server",
                "Platform",
                "Teaching",
                "Reading",
                "Programme",
                "CLinux",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .target(name: "AtriumTesting", dependencies: ["DICOM"]),
        .testTarget(name: "DICOMTests", dependencies: ["DICOM", "AtriumTesting"], exclude: ["Scripts", "Fixtures"]),
        .target(
            name: "DICOMNetwork",
            dependencies: [
                "DICOM",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
            ]
        ),
        .testTarget(
            name: "DICOMNetworkTests",
            dependencies: [
                "DICOMNetwork",
                "AtriumTesting",
                .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "NIOCore", package: "swift-nio"),
            ]
        ),
        // Pixel codecs (PS3.5 A.4, Annex G): system libraries for JPEG, JPEG-LS and JPEG 2000.
        .systemLibrary(
            name: "CJPEGTurbo", path: "Sources/CJPEGTurbo", providers: [.apt(["libjpeg62-turbo-dev"])]),
        .systemLibrary(name: "CCharLS", path: "Sources/CCharLS", providers: [.apt(["libcharls-dev"])]),
        .systemLibrary(
            name: "COpenJPEG", path: "Sources/COpenJPEG", pkgConfig: "libopenjp2", providers: [.apt(["libopenjp2-7-dev"])]),
        // Whole-slide files in the formats scanners write (SVS, NDPI, MRXS, tiled TIFF…), for conversion to DICOM WSI.
        .systemLibrary(name: "COpenSlide", path: "Sources/COpenSlide", pkgConfig: "openslide", providers: [.apt(["libopenslide-dev"])]),
        // PNG photos for the teaching library (every colour type, bit depth and interlacing).
        .systemLibrary(name: "CLibPNG", path: "Sources/CLibPNG", pkgConfig: "libpng", providers: [.apt(["libpng-dev"])]),
        .target(
            name: "Imaging",
            dependencies: ["DICOM", "CJPEGTurbo", "CCharLS", "COpenJPEG", "CSystemZlib", "COpenSlide", "CLibPNG"]
        ),
        .testTarget(name: "ImagingTests", dependencies: ["Imaging", "AtriumTesting"], exclude: ["Scripts"]),
        // SQLite from the system, for the archive index (Debian's libsqlite3-dev).
        .systemLibrary(name: "CSQLite", path: "Sources/CSQLite", pkgConfig: "sqlite3", providers: [.apt(["libsqlite3-dev"])]),
        // C library declarations Glibc leaves out (extended attributes, mallopt), and xxHash (Debian's libxxhash-dev),
        // for the provenance and checksum each blob file carries.
        .systemLibrary(name: "CLinux", path: "Sources/CLinux"),
        .systemLibrary(name: "CXXHash", path: "Sources/CXXHash", pkgConfig: "libxxhash", providers: [.apt(["libxxhash-dev"])]),
        .target(
            name: "Archive",
            dependencies: [
                "DICOM", "Imaging", "CSQLite", "CXXHash", "CLinux", .product(name: "Logging", package: "swift-log"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                // PostgreSQL over TLS (sslmode=require, verify-full) and the archive's metrics.
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
                // S3-compatible blob storage: HTTP client and HMAC-SHA256 for AWS Signature Version 4.
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Crypto", package: "swift-crypto"),
            ]
        ),
        .testTarget(name: "ArchiveTests", dependencies: ["Archive", "AtriumTesting"], exclude: ["Scripts"]),
        // HTTP: DICOMweb, the JSON API and the web application, with the DIMSE listener wired in (DESIGN.md).
        .target(
            name: "Server",
            dependencies: [
                "DICOM", "DICOMNetwork", "Archive", "Imaging", "Platform", "Reading", "Teaching", "Training", "Programme",
                "Laboratory", "HealthRecords", .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdWebSocket", package: "hummingbird-websocket"),
                // The SMTP client of e-mail notifications (STARTTLS through NIOSSL).
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                // Malformed and oversized requests are answered (ParserErrorAnsweringChannel).
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Mustache", package: "swift-mustache"),
            ],
            // Static files of the web application, one folder per part (`viewer/` is the DICOM viewer).
            resources: [.copy("Resources")]
        ),
        // The domain: institutions, people and roles, sessions and tokens, audit events; later consultations,
        // teaching cases, courses and indicators (DESIGN.md).
        .target(
            name: "Platform",
            dependencies: [
                "Archive", .product(name: "Logging", package: "swift-log"), .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "_CryptoExtras", package: "swift-crypto"),
            ]
        ),
        // Remote reading: consultation requests, work items and their UPS view, locks, reports and addenda, critical
        // results, peer review, turnaround (DESIGN.md). Pure logic and its store; Server maps routes onto it.
        .target(
            name: "Reading",
            dependencies: ["DICOM", "Archive", "Platform", .product(name: "Logging", package: "swift-log")]
        ),
        .testTarget(
            name: "ReadingTests", dependencies: ["Reading", "Teaching", "Platform", "Archive", "DICOM", "AtriumTesting"],
            exclude: ["Scripts"]),
        // The teaching-case library: cases, curation by two curators, versions, search in Chinese and English with
        // facets, curriculum coverage (DESIGN.md).
        .target(
            name: "Teaching",
            dependencies: ["DICOM", "Imaging", "Archive", "Platform", .product(name: "Crypto", package: "swift-crypto")]),
        .testTarget(name: "TeachingTests", dependencies: ["Teaching", "Platform", "Archive", "AtriumTesting"]),
        // Training on the library's cases: questions, exams, attempts, grading, item analysis, originality, logbooks,
        // placements and supervision (DESIGN.md). Pure logic and its store; Server maps routes onto it.
        // libxml2 (Debian's libxml2-dev) reads Moodle XML quiz files: FoundationXML's XMLParser parses in libxml2's
        // recovery mode and traps on names it cannot decode, so a hostile file would stop the server.
        .systemLibrary(name: "CLibXML2", path: "Sources/CLibXML2", pkgConfig: "libxml-2.0", providers: [.apt(["libxml2-dev"])]),
        .target(name: "Training", dependencies: ["Teaching", "Platform", "Archive", "CLibXML2"]),
        .testTarget(
            name: "TrainingTests", dependencies: ["Training", "Teaching", "Platform", "Archive", "AtriumTesting"],
            exclude: ["Scripts"]),
        // The programme office's figures: targets, indicators computed from the other domains' records, status and
        // trend, improvement actions; later continuing education and certificates (DESIGN.md).
        // QR codes for certificates' verification links (Debian's libqrencode-dev).
        .systemLibrary(name: "CQREncode", path: "Sources/CQREncode", pkgConfig: "libqrencode", providers: [.apt(["libqrencode-dev"])]),
        .target(
            name: "Programme", dependencies: ["Reading", "Teaching", "Training", "HealthRecords", "Platform", "Archive", "CQREncode"]),
        // Community health records: residents and households, the basic public-health service forms, risk models,
        // follow-up, FHIR and CSV exchange (DESIGN.md). Pure logic and its store; Server maps routes onto it.
        .target(name: "HealthRecords", dependencies: ["Platform", "Archive", .product(name: "Crypto", package: "swift-crypto")]),
        .testTarget(
            name: "HealthRecordsTests", dependencies: ["HealthRecords", "Platform", "Archive", "AtriumTesting"], exclude: ["Scripts"]),
        .testTarget(
            name: "ProgrammeTests",
            dependencies: ["Programme", "Reading", "Teaching", "Training", "HealthRecords", "Platform", "Archive", "AtriumTesting"],
            exclude: ["Scripts"]),
        // Laboratory results: HL7 v2 (ORU^R01 over MLLP) and FHIR R4 intake, UCUM units, reference intervals, flags and
        // delta checks, Westgard QC (DESIGN.md). Pure logic and its store; Server maps routes and the MLLP listener onto it.
        .target(name: "Laboratory", dependencies: ["DICOM", "Platform", "Archive"]),
        .testTarget(
            name: "LaboratoryTests", dependencies: ["Laboratory", "Platform", "Archive", "DICOM", "AtriumTesting"], exclude: ["Scripts"]),
        .testTarget(
            name: "PlatformTests",
            dependencies: ["Platform", "Archive", "AtriumTesting", .product(name: "Crypto", package: "swift-crypto")]),
        .testTarget(
            name: "ServerTests", dependencies: ["Server", "Platform", "Laboratory", "HealthRecords", "AtriumTesting"], exclude: ["Scripts"]),
    ]
)
