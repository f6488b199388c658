// libFuzzer entry point for the Imaging decoders, compiled with the DICOM and Imaging sources as one module by
// scripts/fuzz. An input that looks like a Part 10 file (DICM at byte 128) is read and every frame decoded and
// rendered; any other input is a frame for one codec: byte 0 chooses the codec, bytes 1–5 the frame's rows,
// columns, samples, bits allocated and stored, sign; the rest is the compressed stream.

private let fuzzLimits = DecodingLimits(maximumFrameBytes: 1 << 24, maximumImageBytes: 1 << 26)

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzImagingDecoders(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    if size > 132, bytes[128] == 0x44, bytes[129] == 0x49, bytes[130] == 0x43, bytes[131] == 0x4D {
        fuzzFile(bytes)
    } else if size > 6 {
        fuzzFrame(bytes)
    }
    return 0
}

private func fuzzFile(_ bytes: [UInt8]) {
    guard let file = try? DICOMFile.read(bytes, options: ReadOptions(maximumDepth: 8)),
        let pixels = try? PixelData(file: file, limits: fuzzLimits)
    else { return }
    for index in 0..<min(pixels.numberOfFrames, 4) {
        _ = try? pixels.frame(index, color: .stored)
        if let image = try? Renderer.render(
            dataSet: file.dataSet, transferSyntax: file.transferSyntax, options: RenderOptions(frame: index, viewport: (17, 13)),
            limits: fuzzLimits)
        {
            _ = try? PNGEncoder.encodeFast(image)
        }
    }
    _ = try? PixelMasker.mask(file, regions: [MaskRegion(x: 1, y: 1, width: 3, height: 3)], limits: fuzzLimits)
}

private func fuzzFrame(_ bytes: [UInt8]) {
    let codecs: [Codec] = [.rle, .jpegLossless, .jpeg, .jpegLS, .jpeg2000]
    let codec = codecs[Int(bytes[0]) % codecs.count]
    let bitsAllocated = [8, 16, 32][Int(bytes[4]) % 3]
    let descriptor = FrameDescriptor(
        rows: Int(bytes[1]) + 1, columns: Int(bytes[2]) + 1, samplesPerPixel: bytes[3] & 1 == 0 ? 1 : 3, bitsAllocated: bitsAllocated,
        bitsStored: 1 + Int(bytes[5] & 0x7F) % bitsAllocated, isSigned: bytes[5] & 0x80 != 0,
        photometricInterpretation: bytes[3] & 1 == 0 ? "MONOCHROME2" : (bytes[3] & 2 == 0 ? "RGB" : "YBR_FULL_422"))
    let stream = Array(bytes[6...])
    guard let frame = try? FrameDecoder.decode(stream, codec: codec, descriptor: descriptor, limits: fuzzLimits) else { return }
    // What decodes must re-encode and decode again where Atrium has an encoder.
    if codec == .rle, let encoded = try? RLECodec.encode(frame.pixels, descriptor: frame.descriptor) {
        _ = try? RLECodec.decode(encoded, descriptor: frame.descriptor, limits: fuzzLimits)
    }
}
