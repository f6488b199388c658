// libFuzzer entry point for the STOW-RS multipart parser (Sources/Server/DICOMweb/Multipart.swift, compiled alone by
// scripts/fuzz). The first byte picks the boundary's length, the bytes after it are the boundary, the rest the body. From
// the outside: the parts are disjoint pieces of the body in order, none starts before the first delimiter, and a
// boundary RFC 2046 forbids is refused. The same bytes are read as a Content-Type header. The scan of a spooled body,
// which reads a few bytes at a time (the window from the first byte), must find exactly what the scan in memory finds.

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzMultipart(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    _ = MediaTypeValue(String(decoding: bytes, as: UTF8.self))
    guard let first = bytes.first else { return 0 }
    let length = min(Int(first % 80), bytes.count - 1)
    let boundary = String(decoding: bytes[1..<(1 + length)], as: UTF8.self)
    let body = Array(bytes[(1 + length)...])
    let inMemory: Result<[Multipart.Located], MultipartError> = body.withUnsafeBytes { raw in
        Result { () throws(MultipartError) in try Multipart.scan(bytes: raw, boundary: boundary) }
    }
    let window = Int(first / 80) + 1
    let reading = Result { try Multipart.scan(count: body.count, boundary: boundary, window: window) { Array(body[$0]) } }
    switch (inMemory, reading) {
    case (.success(let a), .success(let b)): precondition(a == b, "the windowed scan found other parts")
    case (.failure(let a), .failure(let b)): precondition(a == (b as? MultipartError), "the windowed scan failed otherwise")
    default: preconditionFailure("one scan succeeded and the other failed")
    }
    do {
        let parts = try Multipart.parse(body, boundary: boundary)
        precondition(boundary.utf8.count <= 70 && !boundary.isEmpty, "a boundary RFC 2046 forbids was accepted")
        let delimiter = Array(("--" + boundary).utf8)
        let total = parts.reduce(0) { $0 + $1.body.count + delimiter.count }
        precondition(total <= body.count, "the parts hold more bytes than the body")
        var from = 0
        for part in parts where !part.body.isEmpty {
            guard let at = Multipart.find(part.body, in: body, from: from) else {
                preconditionFailure("a part's bytes are not in the body in order")
            }
            from = at + part.body.count
        }
    } catch {
        _ = error.description
    }
    return 0
}
