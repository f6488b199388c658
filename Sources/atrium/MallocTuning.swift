#if canImport(Glibc)
    import CLinux
    import Glibc
#endif

/// Keeps the server's freed memory in the C allocator for the next request instead of handing it back to the kernel.
///
/// Rendering a 512 × 512 frame allocates a few buffers of a quarter to half a MiB (decoded samples, rendered samples,
/// filtered PNG rows), larger images more. With glibc's defaults such blocks are either mapped afresh for each
/// request or trimmed from the top of the heap when freed, so every request faults in and zeroes new pages: a third
/// of the CPU time of a rendered-frame benchmark went to the kernel (docs/performance.md). Blocks below 16 MiB now come from the heap, and up to 32 MiB
/// of free memory per arena stays mapped. Skipped when GLIBC_TUNABLES already sets malloc parameters.
func keepFreedMemoryForReuse(environment: [String: String]) {
    #if canImport(Glibc)
        if let tunables = environment["GLIBC_TUNABLES"], tunables.contains("malloc") { return }
        _ = mallopt(M_MMAP_THRESHOLD, 16 << 20)
        _ = mallopt(M_TRIM_THRESHOLD, 32 << 20)
    #endif
}
