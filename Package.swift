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
    ],
    targets: [
        // zlib from the system, for the deflated transfer syntax (PS3.5 A.5).
        .systemLibrary(name: "CZlib", path: "Sources/CZlib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),
        .target(
            name: "DICOM",
            dependencies: ["CZlib"],
            swiftSettings: [.unsafeFlags(["-Ounchecked"], .when(configuration: .release))]
        ),
        .executableTarget(
            name: "atrium",
            dependencies: [
                "DICOM",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .target(name: "AtriumTesting", dependencies: ["DICOM"]),
        .testTarget(name: "DICOMTests", dependencies: ["DICOM", "AtriumTesting"]),
        .target(
            name: "DICOMNetwork",
            dependencies: [
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .testTarget(
            name: "DICOMNetworkTests",
            dependencies: [
                "DICOMNetwork",
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
        .target(
            name: "Imaging",
            dependencies: ["CJPEGTurbo", "CCharLS", "COpenJPEG", "CZlib"]
        ),
        .testTarget(name: "ImagingTests", dependencies: ["Imaging"]),
    ]
)
