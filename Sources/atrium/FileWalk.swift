#if canImport(Glibc)
    import Glibc
#endif

/// Why a path given on the command line could not be used.
struct FileWalkError: Error, CustomStringConvertible {
    let description: String
}

/// Files named directly, and every regular file under named directories (recursively, sorted per directory).
/// Uses readdir's file types, so walking thousands of files costs one system call per directory block.
func expandPaths(_ paths: [String]) throws -> [String] {
    var out: [String] = []
    for p in paths {
        var info = stat()
        guard stat(p, &info) == 0 else { throw FileWalkError(description: "\(p): \(String(cString: strerror(errno)))") }
        if (info.st_mode & S_IFMT) == S_IFDIR {
            walk(p.hasSuffix("/") && p.count > 1 ? String(p.dropLast()) : p, into: &out)
        } else {
            out.append(p)
        }
    }
    return out
}

private func walk(_ directory: String, into out: inout [String]) {
    guard let handle = opendir(directory) else { return }
    var files: [String] = []
    var subdirectories: [String] = []
    while let entry = readdir(handle) {
        let name = withUnsafePointer(to: entry.pointee.d_name) { pointer in
            pointer.withMemoryRebound(to: CChar.self, capacity: 256) { String(cString: $0) }
        }
        if name == "." || name == ".." { continue }
        let path = directory + "/" + name
        switch Int32(entry.pointee.d_type) {
        case Int32(DT_REG): files.append(path)
        case Int32(DT_DIR): subdirectories.append(path)
        case Int32(DT_LNK), Int32(DT_UNKNOWN):
            var info = stat()
            if stat(path, &info) == 0 {
                if (info.st_mode & S_IFMT) == S_IFDIR {
                    subdirectories.append(path)
                } else if (info.st_mode & S_IFMT) == S_IFREG {
                    files.append(path)
                }
            }
        default: break
        }
    }
    closedir(handle)
    out += files.sorted()
    for d in subdirectories.sorted() { walk(d, into: &out) }
}
