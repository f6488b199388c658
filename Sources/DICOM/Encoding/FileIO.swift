#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Writes `bytes` to a temporary file beside `path`, flushes it, and renames it over `path`, so that readers see
/// either the old file or the whole new one.
public func writeFileAtomically(path: String, bytes: [UInt8], durable: Bool = false) throws(DICOMError) {
    let temporary = path + ".tmp-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
    let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
    if fd < 0 { throw .io(path: path, reason: String(cString: strerror(errno))) }
    var written = 0
    let failure: String? = bytes.withUnsafeBytes { raw in
        while written < raw.count {
            let n = Glibc.write(fd, raw.baseAddress! + written, raw.count - written)
            if n < 0 {
                if errno == EINTR { continue }
                return String(cString: strerror(errno))
            }
            written += n
        }
        return nil
    }
    if failure == nil && durable && fsync(fd) != 0 {
        close(fd)
        unlink(temporary)
        throw .io(path: path, reason: String(cString: strerror(errno)))
    }
    close(fd)
    if let failure {
        unlink(temporary)
        throw .io(path: path, reason: failure)
    }
    if rename(temporary, path) != 0 {
        let reason = String(cString: strerror(errno))
        unlink(temporary)
        throw .io(path: path, reason: reason)
    }
}
